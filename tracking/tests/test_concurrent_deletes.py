"""Issue 14, defect 3: a report deleted while another request works on it is a 404, never a 500.

Real overlapping transactions on PostgreSQL (see test_concurrency.race). The
request that comes second finds the report gone: services.reports._locked()
reads it again under its lock and answers 404.
"""

import pytest
from django.db import connection
from django.test import Client

from tracking.models import ProgressReport

from .conftest import report
from .test_concurrency import TRIALS, day, race, token_client

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
S = ProgressReport.Status


@pytest.fixture(autouse=True)
def no_throttling():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def url(draft, action=""):
    return f"/api/v1/progress-reports/{draft.pk}/" + (f"{action}/" if action else "")


# (the other request, its call) → the allowed (delete, other) answers, and whether the report is left
SECOND = {
    "delete": {(204, 404): False, (404, 204): False},
    "patch": {(204, 404): False, (204, 200): False},
    # Submitted first: a submitted report is not deleted (409) and stays.
    "submit": {(204, 404): False, (409, 200): True},
}


@pytest.mark.parametrize("second", SECOND)
def test_a_report_deleted_while_another_request_works_on_it_answers_404(
    songqingliang, tongzhou_reporter, tongzhou_manager, second
):
    deleter, other = token_client(tongzhou_reporter), token_client(tongzhou_manager)
    calls = {
        "delete": lambda d: other.delete(url(d)),
        "patch": lambda d: other.patch(url(d), {"value": "2"}, format="json"),
        "submit": lambda d: other.post(url(d, "submit"), {}, format="json"),
    }
    for trial in range(TRIALS):
        draft = report(songqingliang, day(trial), 1, status=S.DRAFT)

        deleted, then = race(lambda d=draft: deleter.delete(url(d)), lambda d=draft: calls[second](d))

        codes = (deleted.status_code, then.status_code)
        assert codes in SECOND[second], (codes, deleted.content, then.content)
        assert ProgressReport.objects.filter(pk=draft.pk).exists() == SECOND[second][codes]


def test_an_admin_delete_and_an_admin_submit_at_once_give_no_500(songqingliang, tongzhou_reporter, tongzhou_manager):
    tongzhou_reporter.is_staff = tongzhou_manager.is_staff = True
    tongzhou_reporter.save(), tongzhou_manager.save()
    deleter, submitter = Client(), Client()
    deleter.force_login(tongzhou_reporter)
    submitter.force_login(tongzhou_manager)
    for trial in range(TRIALS // 2):
        draft = report(songqingliang, day(trial), 1, status=S.DRAFT)
        base = f"/admin/tracking/progressreport/{draft.pk}"

        deleted, submitted = race(
            lambda b=base: deleter.post(f"{b}/delete/", {"post": "yes"}),
            lambda b=base: submitter.post(f"{b}/workflow/", {"step": "submit"}),
        )

        # 302 for each when both went through in turn (the submitted report's delete is refused as a message);
        # 404 for the submit that found the report gone.
        assert deleted.status_code == 302, deleted.status_code
        assert submitted.status_code in (302, 404), submitted.status_code
        left = ProgressReport.objects.filter(pk=draft.pk).first()
        assert left is None or left.status == S.SUBMITTED
