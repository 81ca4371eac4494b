"""Timeliness comes from the moment of submission, whichever way a report is submitted."""

from tracking.models import ProgressReport

from .conftest import D, S, report
from .test_admin_workflow import action, workflow


def submitted_at(draft):
    return ProgressReport.objects.get(pk=draft.pk).submitted_at


def test_submitting_through_the_api_records_the_moment(api, songqingliang, tongzhou_reporter):
    draft = report(songqingliang, D(2024, 6, 30), 10, status=S.DRAFT)
    assert api(tongzhou_reporter).post(f"/api/v1/progress-reports/{draft.pk}/submit/").status_code == 200
    assert submitted_at(draft) is not None


def test_submitting_with_the_admins_button_or_action_records_the_moment(songqingliang, tongzhou_reporter, logged_in):
    first = report(songqingliang, D(2024, 5, 31), 10, status=S.DRAFT)
    second = report(songqingliang, D(2024, 6, 30), 10, status=S.DRAFT)
    client = logged_in(tongzhou_reporter)
    workflow(client, first, "submit")
    action(client, "submit_reports", [second])
    assert submitted_at(first) is not None and submitted_at(second) is not None


def test_an_imported_draft_is_timed_when_it_is_submitted_not_when_it_is_imported(api, songqingliang, tongzhou_reporter):
    rows = [{"region": "320612", "year": 2024, "kind": "annual_plan", "item": 4, "target": "4.1",
             "period_end": "2024-06-30", "value": "6000"}]
    client = api(tongzhou_reporter)
    assert client.post("/api/v1/progress-reports/import/", rows, format="json").status_code == 200
    draft = ProgressReport.objects.get()
    assert draft.submitted_at is None
    client.post(f"/api/v1/progress-reports/{draft.pk}/submit/")
    assert submitted_at(draft) is not None


def test_a_resubmission_moves_the_moment_and_a_superusers_direct_approval_sets_one(
    songqingliang, tongzhou_reporter, nantong_reviewer, superuser, logged_in
):
    draft = report(songqingliang, D(2024, 6, 30), 10, status=S.DRAFT)
    workflow(logged_in(tongzhou_reporter), draft, "submit")
    first = submitted_at(draft)
    workflow(logged_in(nantong_reviewer), draft, "return", note="请补充")
    assert ProgressReport.objects.get(pk=draft.pk).status == S.RETURNED
    workflow(logged_in(tongzhou_reporter), draft, "submit")
    assert submitted_at(draft) > first
    direct = report(songqingliang, D(2024, 7, 31), 10, status=S.DRAFT)
    workflow(logged_in(superuser), direct, "approve")
    assert submitted_at(direct) is not None
