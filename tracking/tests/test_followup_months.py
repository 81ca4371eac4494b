"""The stored months (tracking.months) give the completeness grid the answer the reports give.

Every write path recounts its programme's months in its own transaction; after each one here the
grid read from the stored months equals the grid counted afresh from the reports, for days before,
on and after the due dates and after today (submissions made today count only from today), and
`verify_progress` finds nothing wrong. Nantong's 2024 world is test_followup_completeness's.
"""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tracking import months, services
from tracking.followup import selectors
from tracking.importing import import_reports
from tracking.models import ProgrammeMonth, ProgressReport, Target
from tracking.services import plans

from .conftest import D, S
from .test_followup_completeness import nantong_2024  # noqa: F401  (the shared world of hand-computed states)


def as_of_days():
    return [
        D(2024, 1, 31), D(2024, 2, 5), D(2024, 2, 6), D(2024, 3, 8), D(2024, 4, 20), D(2024, 5, 6),
        D(2024, 12, 31), timezone.localdate() + datetime.timedelta(days=40),
    ]


def picture(grid):
    return (
        [
            (
                row.region.pk, row.own,
                [(key, c.state, c.programme_id, c.tally.expected, c.tally.reported, c.tally.on_time)
                 for key, c in sorted(row.cells.items())],
                (row.tally.expected, row.tally.reported, row.tally.on_time),
            )
            for row in grid.rows
        ],
        (grid.tally.expected, grid.tally.reported, grid.tally.on_time),
    )


def assert_stored_months_agree(region):
    for as_of in as_of_days():
        kept = selectors.grid(region=region, programmes=selectors.plans(year=2024), as_of=as_of)
        fresh = selectors.grid(
            region=region, programmes=selectors.plans(year=2024), as_of=as_of, source=months.days_counted
        )
        assert picture(kept) == picture(fresh), as_of
    assert months.wrong_months() == []


def april_state(region, as_of=None):
    """Tongzhou's April as of 6 May 2024 (a day after it was due), or as of another day."""
    grid = selectors.grid(region=region, programmes=selectors.plans(year=2024), as_of=as_of or D(2024, 5, 6))
    tongzhou = next(row for row in grid.rows if row.region.pk == "320612")
    return tongzhou.cells["2024-04"].state


def test_every_write_path_keeps_the_stored_months_equal_to_the_reports(
    nantong_2024, regions, songqingliang, tongzhou_reporter, nantong_reviewer,  # noqa: F811
):
    nantong = regions["320600"]
    assert_stored_months_agree(nantong)
    assert april_state(nantong) == "missing"

    draft = services.create_report(user=tongzhou_reporter, target=songqingliang, period_end=D(2024, 4, 30), value=10)
    assert april_state(nantong) == "draft_only"
    assert_stored_months_agree(nantong)

    submitted = services.submit_report(user=tongzhou_reporter, report=draft)
    # Submitted today: nothing received yet as of May 2024, late as of any day after today.
    assert april_state(nantong) == "missing"
    assert april_state(nantong, as_of=as_of_days()[-1]) == "late"
    assert_stored_months_agree(nantong)

    returned = services.return_report(user=nantong_reviewer, report=submitted, note="请补充佐证材料")
    assert april_state(nantong) == "returned"
    assert_stored_months_agree(nantong)

    edited = services.update_report(user=tongzhou_reporter, report=returned, value=12)
    assert_stored_months_agree(nantong)
    services.delete_report(user=tongzhou_reporter, report=edited)
    assert april_state(nantong) == "missing"
    assert_stored_months_agree(nantong)

    result = import_reports(user=tongzhou_reporter, dry_run=False, rows=[
        {"region": "320612", "year": "2024", "kind": "annual_plan", "item": "4", "target": "4.1",
         "period_end": day, "value": "6000", "note": ""}
        for day in ("2024-04-15", "2024-06-30")
    ])
    assert result.ok and result.created == 2
    assert april_state(nantong) == "draft_only"
    assert_stored_months_agree(nantong)
    # The same file again with another value updates the drafts: nothing the grid counts changes.
    import_reports(user=tongzhou_reporter, dry_run=False, rows=[
        {"region": "320612", "year": "2024", "kind": "annual_plan", "item": "4", "target": "4.1",
         "period_end": "2024-04-15", "value": "6100", "note": ""}
    ])
    assert_stored_months_agree(nantong)

    # Deleting a target takes its reports, and its programme's months with them.
    gangzha = Target.objects.get(programme__region="320611")
    plans.delete_target(target=gangzha)
    assert not ProgrammeMonth.objects.filter(programme__region="320611").exists()
    assert_stored_months_agree(nantong)


def test_a_moved_target_takes_its_months_to_its_new_programme(nantong_2024, regions, songqingliang):  # noqa: F811
    nantong_plan = selectors.plans(year=2024).get(region="320600")
    left = songqingliang.programme_id
    songqingliang.programme = nantong_plan
    plans.save_target(target=songqingliang)
    assert not ProgrammeMonth.objects.filter(programme=left).exists()
    assert_stored_months_agree(regions["320600"])


def test_the_grid_reads_the_stored_months_not_the_reports(nantong_2024, regions):  # noqa: F811
    # What the stored rows say is what the grid shows (verify_progress is what finds a disagreement).
    ProgrammeMonth.objects.filter(programme__region="320612", month=D(2024, 3, 1)).update(drafts=0, returned=1)
    grid = selectors.grid(region=regions["320612"], programmes=selectors.plans(year=2024), as_of=D(2024, 4, 20))
    assert grid.rows[0].cells["2024-03"].state == "returned"


def test_verify_progress_finds_wrong_or_missing_months_and_repairs_them(nantong_2024, tongzhou_plan):  # noqa: F811
    ProgrammeMonth.objects.filter(programme=tongzhou_plan, month=D(2024, 3, 1)).update(drafts=5)
    ProgrammeMonth.objects.filter(programme__region="320611").delete()
    with pytest.raises(CommandError, match=r"2 programme\(s\)' months disagree"):
        call_command("verify_progress")

    call_command("verify_progress", "--repair", verbosity=0)

    assert ProgrammeMonth.objects.get(programme=tongzhou_plan, month=D(2024, 3, 1)).drafts == 1
    assert ProgrammeMonth.objects.filter(programme__region="320611").count() == 1
    call_command("verify_progress", verbosity=0)


def test_a_month_keeps_the_earliest_counted_moment_and_counts_the_others(nantong_2024, songqingliang):  # noqa: F811
    # Tongzhou's January: submitted on 3 February; February: approved, submitted on 7 March.
    kept = {
        row.month: (row.first_counted, row.returned, row.drafts)
        for row in ProgrammeMonth.objects.filter(programme=songqingliang.programme_id)
    }
    january, february = (ProgressReport.objects.get(target=songqingliang, period_end=day).submitted_at
                         for day in (D(2024, 1, 31), D(2024, 2, 29)))
    assert kept == {
        D(2024, 1, 1): (january, 0, 0), D(2024, 2, 1): (february, 0, 0), D(2024, 3, 1): (None, 0, 1),
    }
    assert S.DRAFT == ProgressReport.objects.get(target=songqingliang, period_end=D(2024, 3, 31)).status
