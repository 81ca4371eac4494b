"""Completeness and timeliness against a grid computed by hand, and the bulletin's reporting_rates().

Nantong's 2024 plans, monthly, due on the 5th after each month, as of 2024-04-20 (January, February
and March are due; April is not):

| region                         | Jan        | Feb        | Mar        | expected | reported | on time |
|--------------------------------|------------|------------|------------|----------|----------|---------|
| 南通市 (its own plan)           | on time¹   | missing    | missing    | 3        | 1        | 1       |
| 港闸区 (abolished 2024-02-15)   | returned   | —          | —          | 1        | 0        | 0       |
| 通州区                          | on time    | late       | draft only | 3        | 2        | 1       |
| 新区 (set up 2024-03-01)        | —          | —          | missing    | 1        | 0        | 0       |
| all                            |            |            |            | 8        | 3        | 2       |

¹ approved before submission moments were recorded: its review time (1 February) counts.
"""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tracking import totals
from tracking.followup import selectors
from tracking.models import Programme, Region

from .conftest import D, S, make_plan, make_target, report


def moment(year, month, day, hour=10):
    return timezone.make_aware(datetime.datetime(year, month, day, hour))


@pytest.fixture
def nantong_2024(regions, songqingliang):
    Region.objects.create(code="320611", name="港闸区", union_name="港闸区总工会", level="district", parent_id="320600",
                          valid_to=D(2024, 2, 15))
    Region.objects.create(code="320699", name="新区", union_name="新区总工会", level="district", parent_id="320600",
                          valid_from=D(2024, 3, 1))
    # Tongzhou: January on time (the 3rd, due the 5th), February late (the 7th, due the 5th), March only a draft.
    report(songqingliang, D(2024, 1, 31), 100, status=S.SUBMITTED, submitted_at=moment(2024, 2, 3))
    report(songqingliang, D(2024, 2, 29), 100, status=S.APPROVED, submitted_at=moment(2024, 3, 7))
    report(songqingliang, D(2024, 3, 31), 100, status=S.DRAFT)
    gangzha = make_target(make_plan("320611"), code="1.1", number=1)
    report(gangzha, D(2024, 1, 20), 5, status=S.RETURNED, submitted_at=moment(2024, 1, 25))
    make_target(make_plan("320699"), code="1.1", number=1)
    nantong = make_target(make_plan("320600"), code="1.1", number=1)
    report(nantong, D(2024, 1, 31), 7, status=S.APPROVED, reviewed_at=moment(2024, 2, 1))
    return D(2024, 4, 20)


def states(row):
    return [row.cells[key].state if key in row.cells else None for key in ("2024-01", "2024-02", "2024-03", "2024-04")]


def test_the_grid_of_nantong_matches_the_hand_computed_one(nantong_2024, regions):
    grid = selectors.grid(region=regions["320600"], programmes=selectors.plans(year=2024), as_of=nantong_2024)
    assert [row.region.pk for row in grid.rows] == ["320600", "320611", "320612", "320699"]
    nantong, gangzha, tongzhou, new = grid.rows
    assert states(nantong) == ["on_time", "missing", "missing", "not_due"]
    assert states(gangzha) == ["returned", None, None, None]
    assert states(tongzhou) == ["on_time", "late", "draft_only", "not_due"]
    assert states(new) == [None, None, "missing", "not_due"]
    assert [(r.tally.expected, r.tally.reported, r.tally.on_time) for r in grid.rows] == [
        (3, 1, 1), (1, 0, 0), (3, 2, 1), (1, 0, 0),
    ]
    assert (grid.tally.expected, grid.tally.reported, grid.tally.on_time) == (8, 3, 2)
    assert (grid.tally.reporting_rate, grid.tally.on_time_rate) == (Decimal("37.5"), Decimal("25.0"))
    assert [column.key for column in grid.columns][:4] == ["2024-01", "2024-02", "2024-03", "2024-04"]


def test_a_resubmission_after_the_due_date_makes_the_period_late(nantong_2024, songqingliang, regions):
    songqingliang.reports.filter(period_end=D(2024, 1, 31)).update(submitted_at=moment(2024, 2, 6))
    # Written straight to the database, as a script would: it refreshes what is kept from the reports.
    totals.refresh([songqingliang.pk])
    grid = selectors.grid(region=regions["320600"], programmes=selectors.plans(year=2024), as_of=nantong_2024)
    assert states(grid.rows[2])[0] == "late"


def test_the_country_grid_has_one_row_per_province_adding_up_its_districts(nantong_2024, jingkou_target):
    grid = selectors.grid(region=None, programmes=selectors.plans(year=2024), as_of=nantong_2024)
    [jiangsu] = grid.rows
    assert jiangsu.region.pk == "320000"
    # Jingkou's plan adds three missing months to Nantong's eight region-periods.
    assert (jiangsu.tally.expected, jiangsu.tally.reported, jiangsu.tally.on_time) == (11, 3, 2)
    assert jiangsu.cells["2024-01"].state is None


def test_the_grid_takes_two_queries_whatever_the_number_of_regions(nantong_2024, regions, django_assert_num_queries):
    with django_assert_num_queries(2):
        selectors.grid(region=regions["320000"], programmes=selectors.plans(year=2024), as_of=nantong_2024)


def test_reporting_rates_gives_each_child_the_whole_and_none_when_nothing_is_due(nantong_2024, regions, jingkou_target):
    rates = selectors.reporting_rates(region=regions["320000"], as_of=nantong_2024)
    assert set(rates) == {"320600", "321100", None}
    assert rates["320600"] == {
        "expected": 8, "reported": 3, "on_time": 2, "reporting_rate": Decimal("37.5"), "on_time_rate": Decimal("25.0"),
    }
    assert rates["321100"]["reporting_rate"] == Decimal("0.0")
    assert rates[None]["expected"] == 11
    city = selectors.reporting_rates(region=regions["320600"], as_of=nantong_2024)
    assert city["320600"]["expected"] == 3
    assert city["320612"]["on_time_rate"] == Decimal("33.3")
    early = selectors.reporting_rates(region=regions["320600"], as_of=D(2024, 2, 1))
    assert early[None]["reporting_rate"] is None and early["320612"]["on_time_rate"] is None


def test_in_january_reporting_rates_count_last_years_december(nantong_2024, regions):
    rates = selectors.reporting_rates(region=regions["320600"], as_of=D(2025, 1, 20))
    # Due in 2025 before the 20th: only December 2024's period (due 5 January).
    assert rates[None]["expected"] == 3


def test_a_programme_of_its_own_calendar_is_counted_by_its_own_periods(nantong_2024, regions, tongzhou_plan):
    Programme.objects.filter(pk=tongzhou_plan.pk).update(reporting_frequency="quarterly", due_days=10)
    grid = selectors.grid(region=regions["320612"], programmes=selectors.plans(year=2024), as_of=nantong_2024)
    [row] = grid.rows
    # Q1: January's on-time report is the earliest submission (before 10 April).
    assert row.cells["2024Q1"].state == "on_time" and row.tally.expected == 1
