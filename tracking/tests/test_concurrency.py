"""Races between real database transactions, on PostgreSQL.

Each scenario runs TRIALS times; each trial starts its calls in separate
threads, each with its own connection, released together by a barrier once
every thread is connected, so the transactions really overlap. What makes the
outcome right is row locking (select_for_update) and unique constraints, which
SQLite cannot show: it serialises whole-database writes instead.
"""

import datetime
import os
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tracking import months, services, tallies, totals
from tracking.workflow import WorkflowConflict
from tracking.importing import import_reports
from tracking.models import Programme, ProgrammeTally, ProgressReport, Target

from .conftest import make_plan, make_target, make_user, report

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite locks the whole file"),
    # serialized_rollback puts back the role groups of migration 0002 after the flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TRIALS = int(os.environ.get("CONCURRENCY_TRIALS", "50"))
S = ProgressReport.Status
JAN_1 = datetime.date(2024, 1, 1)


def day(n):
    return JAN_1 + datetime.timedelta(days=n)


def race(*calls):
    """Run the calls at the same moment, one thread and one connection each.

    Returns each call's result, or the exception it raised.
    """
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            # Connect before the barrier: connecting takes longer than the
            # transactions themselves and would otherwise serialise them.
            connection.ensure_connection()
            barrier.wait(timeout=30)
            outcomes[index] = call()
        except Exception as error:  # the outcome under test, reported to the caller
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a transaction is stuck (deadlock?)"
    return outcomes


def kinds(outcomes):
    return sorted("ok" if not isinstance(o, Exception) else type(o).__name__ for o in outcomes)


def import_row(target, date, value, note=""):
    return {
        "region": target.programme.region_id, "year": str(target.programme.year), "kind": target.programme.kind,
        "item": str(target.item.number), "target": target.code, "period_end": date.isoformat(),
        "value": str(value), "note": note,
    }


@pytest.fixture
def second_reviewer(regions):
    return make_user("nantong_reviewer_2", "320600", "reviewer")


@pytest.fixture
def xuanjiang(tongzhou_plan):
    """A second Tongzhou target whose latest report counts, not the sum."""
    return make_target(tongzhou_plan, number=1, code="1.1", name="百场宣讲", target_value="100", unit="场",
                       aggregation=Target.Aggregation.LATEST)


def test_two_reviewers_approving_the_same_report_count_it_once(
    songqingliang, nantong_reviewer, second_reviewer
):
    reports = [report(songqingliang, day(i), 100, status=S.SUBMITTED) for i in range(TRIALS)]

    for submitted in reports:
        outcomes = race(
            lambda: services.approve_report(user=nantong_reviewer, report=submitted),
            lambda: services.approve_report(user=second_reviewer, report=submitted),
        )
        assert kinds(outcomes) == ["WorkflowConflict", "ok"], outcomes

    approvals = ProgressReport.history.filter(status=S.APPROVED)
    assert approvals.count() == TRIALS
    assert sorted(approvals.values_list("id", flat=True)) == sorted(r.pk for r in reports)
    target = Target.objects.with_progress().get(pk=songqingliang.pk)
    assert target.progress == Decimal(100 * TRIALS)
    assert totals.stale_targets() == []


def test_the_same_import_uploaded_twice_at_once_creates_each_row_once(
    songqingliang, xuanjiang, tongzhou_reporter
):
    per_trial = 3
    for trial in range(TRIALS):
        dates = [day(per_trial * trial + n) for n in range(per_trial)]
        rows = [import_row(t, d, 10 + n) for n, d in enumerate(dates) for t in (songqingliang, xuanjiang)]

        outcomes = race(
            lambda: import_reports(user=tongzhou_reporter, rows=rows, dry_run=False),
            lambda: import_reports(user=tongzhou_reporter, rows=rows, dry_run=False),
        )

        assert kinds(outcomes) == ["ok", "ok"], outcomes
        assert all(result.ok for result in outcomes), [result.errors for result in outcomes]
        # One upload creates every row; the other, applied after it, finds them unchanged.
        assert sorted((r.created, r.updated, r.unchanged) for r in outcomes) == [(0, 0, len(rows)), (len(rows), 0, 0)]
        assert ProgressReport.objects.filter(period_end__in=dates).count() == len(rows)

    assert ProgressReport.objects.count() == per_trial * TRIALS * 2
    assert ProgressReport.history.filter(history_type="+").count() == per_trial * TRIALS * 2


def test_a_report_edited_while_being_approved_is_approved_with_the_value_reviewed(
    songqingliang, tongzhou_reporter, nantong_reviewer, second_reviewer
):
    """The reviewer approves what was submitted; an edit gets through only after a return.

    Four people act on one submitted report at once: a reviewer approves, another
    returns it, and the reporter edits it in the admin and by import. Whatever
    the order, an approval always carries the submitted value, an edit of a
    submitted or approved report is refused, and the totals stay right.
    """
    reviewed = Decimal("100")
    for trial in range(TRIALS):
        submitted = report(songqingliang, day(trial), reviewed, status=S.SUBMITTED)

        approve, give_back, edit, upload = race(
            lambda: services.approve_report(user=nantong_reviewer, report=submitted),
            lambda: services.return_report(user=second_reviewer, report=submitted, note="请核对"),
            lambda: services.update_report(user=tongzhou_reporter, report=submitted, value=Decimal("999")),
            lambda: import_reports(
                user=tongzhou_reporter, rows=[import_row(songqingliang, submitted.period_end, 888)], dry_run=False
            ),
        )

        for outcome in (approve, give_back, edit):
            assert outcome is None or isinstance(outcome, (ProgressReport, WorkflowConflict)), outcome
        assert not isinstance(upload, Exception), upload
        final = ProgressReport.objects.get(pk=submitted.pk)
        history = list(ProgressReport.history.filter(id=submitted.pk).order_by("history_date", "history_id"))
        # Every version that was submitted or approved carries the reviewed value,
        # so a change can only have landed while the report was returned.
        for version in history:
            if version.status in (S.SUBMITTED, S.APPROVED):
                assert version.value == reviewed, [(v.status, v.value) for v in history]
        if not isinstance(approve, Exception):
            assert history[1].status == S.APPROVED and history[1].value == reviewed
        if final.value != reviewed:
            assert final.status == S.RETURNED and isinstance(give_back, ProgressReport)
        assert totals.stale_targets() == []

    assert totals.stale_targets() == []


def test_totals_stay_exact_under_concurrent_approvals_and_returns(
    songqingliang, xuanjiang, tongzhou_reporter, nantong_reviewer, second_reviewer
):
    """Approvals of different reports of the same target at once: the stored totals match a recount.

    Each approval recomputes its target's totals from the approved reports. Done
    concurrently without the target row locked first, the later transaction
    would sum from a snapshot that misses the earlier one's report.
    """
    reviewers = [nantong_reviewer, second_reviewer]
    for trial in range(TRIALS):
        base = 6 * trial
        submitted = [report(t, day(base + n), 10 + n, status=S.SUBMITTED) for n in range(3) for t in (songqingliang, xuanjiang)]
        approved = report(songqingliang, day(base + 3), 7)

        calls = [
            (lambda r=r, u=reviewers[i % 2]: services.approve_report(user=u, report=r))
            for i, r in enumerate(submitted)
        ]
        calls.append(lambda: services.return_report(user=nantong_reviewer, report=approved, note="数字有误"))
        outcomes = race(*calls)

        assert kinds(outcomes) == ["ok"] * len(calls), outcomes
        assert totals.stale_targets() == [], f"trial {trial}"

    assert ProgressReport.objects.filter(status=S.APPROVED).count() == 6 * TRIALS
    sums = Target.objects.with_progress().get(pk=songqingliang.pk)
    assert sums.progress == Decimal((10 + 11 + 12) * TRIALS)


def test_a_programmes_months_stay_exact_under_every_kind_of_write_at_once(
    songqingliang, xuanjiang, tongzhou_reporter, nantong_reviewer
):
    """Five writes to reports of one programme and one month at once: a draft entered, one imported, one
    submitted, an approval reopened and a draft deleted. Each recounts (or adds to) the month under the
    programme's lock, so the stored month matches a count of the reports after every trial; without the
    lock a recount counts from a snapshot that misses another's report."""
    for trial in range(TRIALS):
        first = datetime.date(2024, 1 + trial % 12, 1 + trial // 12 * 5)
        on = [first + datetime.timedelta(days=n) for n in range(5)]
        to_submit = report(xuanjiang, on[2], 3, status=S.DRAFT)
        to_return = report(songqingliang, on[3], 4)
        to_delete = report(songqingliang, on[4], 5, status=S.DRAFT)

        outcomes = race(
            lambda on=on: services.create_report(user=tongzhou_reporter, target=songqingliang, period_end=on[0], value=1),
            lambda on=on: import_reports(user=tongzhou_reporter, rows=[import_row(xuanjiang, on[1], 2)], dry_run=False),
            lambda r=to_submit: services.submit_report(user=tongzhou_reporter, report=r),
            lambda r=to_return: services.return_report(user=nantong_reviewer, report=r, note="数字有误"),
            lambda r=to_delete: services.delete_report(user=tongzhou_reporter, report=r),
        )

        assert kinds(outcomes) == ["ok"] * 5, outcomes
        assert months.wrong_months() == [], f"trial {trial}"


def test_an_import_and_an_edit_of_the_same_draft_at_once_both_complete(songqingliang, tongzhou_reporter):
    """Edits lock report then target, imports target then report: neither may deadlock the other."""
    for trial in range(TRIALS):
        draft = report(songqingliang, day(trial), 1, status=S.DRAFT)

        edit, upload = race(
            lambda: services.update_report(user=tongzhou_reporter, report=draft, value=Decimal("2")),
            lambda: import_reports(
                user=tongzhou_reporter, rows=[import_row(songqingliang, draft.period_end, 3)], dry_run=False
            ),
        )

        assert isinstance(edit, ProgressReport), edit
        assert not isinstance(upload, Exception) and upload.ok, upload
        final = ProgressReport.objects.get(pk=draft.pk)
        assert final.value in (Decimal("2"), Decimal("3"))
        assert ProgressReport.history.filter(id=draft.pk).latest("history_date").value == final.value


def test_the_same_report_entered_twice_at_once_is_created_once(songqingliang, tongzhou_reporter, tongzhou_manager):
    """A double click, or an entry racing an import of the same date: one report, and a clear refusal."""
    for trial in range(TRIALS):
        date = day(trial)

        first, second, upload = race(
            lambda: services.create_report(user=tongzhou_reporter, target=songqingliang, period_end=date, value=Decimal("5")),
            lambda: services.create_report(user=tongzhou_manager, target=songqingliang, period_end=date, value=Decimal("5")),
            lambda: import_reports(user=tongzhou_reporter, rows=[import_row(songqingliang, date, 5)], dry_run=False),
        )

        # The losers get a ValidationError (400 in the API), never an IntegrityError (500).
        for outcome in (first, second):
            assert isinstance(outcome, (ProgressReport, ValidationError)), outcome
        assert not isinstance(upload, Exception) and upload.ok, upload
        assert ProgressReport.objects.filter(period_end=date).count() == 1


# --- Through the API: If-Match, and the same races over HTTP ---------------------------


def token_client(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def no_throttling():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_two_edits_made_from_the_same_read_at_once_one_wins_one_gets_412(
    songqingliang, tongzhou_reporter, tongzhou_manager, no_throttling
):
    """The lost update: both read version 1 and both write; If-Match lets only the first through."""
    reporter, manager = token_client(tongzhou_reporter), token_client(tongzhou_manager)
    for trial in range(TRIALS):
        draft = report(songqingliang, day(trial), 1, status=S.DRAFT)
        url = f"/api/v1/progress-reports/{draft.pk}/"
        # Each reads version 1 (ETags differ per user: they hash the reader's scope too).
        reporter_etag, manager_etag = reporter.get(url)["ETag"], manager.get(url)["ETag"]

        first, second = race(
            lambda: reporter.patch(url, {"value": "2"}, format="json", HTTP_IF_MATCH=reporter_etag),
            lambda: manager.patch(url, {"value": "3"}, format="json", HTTP_IF_MATCH=manager_etag),
        )

        assert sorted([first.status_code, second.status_code]) == [200, 412], (first.content, second.content)
        winner = first if first.status_code == 200 else second
        assert ProgressReport.objects.get(pk=draft.pk).value == Decimal(winner.json()["value"])
        assert ProgressReport.history.filter(id=draft.pk).count() == 2


def test_two_reviewers_approving_over_the_api_at_once_get_200_and_409(
    songqingliang, nantong_reviewer, second_reviewer, no_throttling
):
    first_client, second_client = token_client(nantong_reviewer), token_client(second_reviewer)
    for trial in range(TRIALS):
        submitted = report(songqingliang, day(trial), 10, status=S.SUBMITTED)
        url = f"/api/v1/progress-reports/{submitted.pk}/approve/"

        first, second = race(lambda: first_client.post(url, {}, format="json"),
                             lambda: second_client.post(url, {}, format="json"))

        assert sorted([first.status_code, second.status_code]) == [200, 409], (first.content, second.content)

    assert Target.objects.with_progress().get(pk=songqingliang.pk).progress == Decimal(10 * TRIALS)
    assert totals.stale_targets() == []


def test_the_same_file_uploaded_twice_at_once_over_the_api_creates_each_row_once(
    songqingliang, xuanjiang, tongzhou_reporter, tongzhou_manager, no_throttling
):
    import io

    header = "地区代码,年度,计划类型,事项序号,指标编号,截至日期,数值\n"
    reporter, manager = token_client(tongzhou_reporter), token_client(tongzhou_manager)
    for trial in range(TRIALS):
        rows = "".join(
            f"320612,2024,annual_plan,{t.item.number},{t.code},{day(2 * trial + n).isoformat()},{5 + n}\n"
            for n in range(2) for t in (songqingliang, xuanjiang)
        )

        def upload(client):
            file = io.BytesIO((header + rows).encode())
            file.name = "reports.csv"
            return client.post("/api/v1/progress-reports/import/", {"file": file}, format="multipart")

        first, second = race(lambda: upload(reporter), lambda: upload(manager))

        assert (first.status_code, second.status_code) == (200, 200), (first.content, second.content)
        assert sorted([first.json()["created"], second.json()["created"]]) == [0, 4]
        assert ProgressReport.objects.filter(period_end__in=[day(2 * trial), day(2 * trial + 1)]).count() == 4


def test_an_approval_while_a_missing_tally_is_made_is_counted_in_it(songqingliang, xuanjiang, nantong_reviewer):
    """A programme without a tally (made by a bulk insert) gets one from recount_tallies while a report
    of it is approved: the approval waits for the new tally row and recounts it, so it is not lost."""
    programme = songqingliang.programme
    for trial in range(TRIALS // 5):
        submitted = [report(t, day(trial), 10, status=S.SUBMITTED) for t in (songqingliang, xuanjiang)]
        ProgrammeTally.objects.filter(pk=programme.pk).delete()

        calls = [lambda: tallies.catch_up()]
        calls += [lambda r=r: services.approve_report(user=nantong_reviewer, report=r) for r in submitted]
        outcomes = race(*calls)

        assert kinds(outcomes) == ["ok"] * 3, outcomes
        assert tallies.wrong_tallies() == [], f"trial {trial}"
        assert ProgrammeTally.objects.get(pk=programme.pk).pending_reports == 0


def test_deleting_a_programme_while_its_report_is_approved_does_not_deadlock(regions, nantong_reviewer):
    """The deletion takes the programme's targets before its tally goes, as an approval does."""
    for trial in range(TRIALS // 5):
        target = make_target(make_plan("320612", year=2000 + trial))
        submitted = report(target, datetime.date(2000 + trial, 3, 31), 10, status=S.SUBMITTED)

        outcomes = race(
            lambda: services.approve_report(user=nantong_reviewer, report=submitted),
            # The admin's delete.
            lambda t=target: services.delete_programme(programme=Programme.objects.get(pk=t.programme_id)),
        )

        # Approved then deleted, or deleted first: then the report is gone, which is a 404 (not a 500).
        assert kinds(outcomes) in (["ok", "ok"], ["Http404", "ok"]), outcomes
        assert not Programme.objects.filter(pk=target.programme_id).exists()
        assert not ProgrammeTally.objects.filter(pk=target.programme_id).exists()
