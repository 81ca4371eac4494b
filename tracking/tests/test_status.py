"""A target's status at fixed dates: the rule of tracking.progress.status_expression.

Tongzhou's 送清凉 runs through 2024 (366 days) with the default tolerance of
10 points: the time elapsed passes 10 % on 6 February (day 37), and the due
date is the last day of the year.
"""

import datetime

import pytest
from django.utils import timezone

from tracking.models import Target

from .conftest import make_target, report

D = datetime.date
Status = Target.Status


def status(target, as_of):
    return Target.objects.with_progress(as_of=as_of).get(pk=target.pk).status


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (D(2023, 12, 1), Status.NOT_STARTED),  # before its period
        (D(2024, 1, 10), Status.NOT_STARTED),  # 2.7 % of the time gone: within the tolerance
        (D(2024, 2, 5), Status.NOT_STARTED),  # day 36: 9.8 %
        (D(2024, 2, 6), Status.BEHIND),  # day 37: 10.1 %, and nothing done
        (D(2024, 7, 1), Status.BEHIND),
        (D(2024, 12, 31), Status.BEHIND),  # its due date
        (D(2025, 1, 1), Status.OVERDUE),  # the day after
        (D(2026, 12, 1), Status.OVERDUE),
    ],
)
def test_a_target_without_reports_before_during_and_after_its_period(songqingliang, as_of, expected):
    assert status(songqingliang, as_of) == expected


def test_the_tolerance_decides_when_a_target_without_progress_falls_behind(songqingliang, settings):
    settings.TRACKING_BEHIND_TOLERANCE = 20

    assert status(songqingliang, D(2024, 2, 6)) == Status.NOT_STARTED
    assert status(songqingliang, D(2024, 3, 13)) == Status.NOT_STARTED  # day 73: 19.9 %
    assert status(songqingliang, D(2024, 3, 14)) == Status.BEHIND  # day 74: 20.2 %


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (D(2024, 5, 1), Status.ON_TRACK),  # 33 % done, 33 % of the time gone
        (D(2024, 12, 31), Status.BEHIND),  # 33 % done on its due date
        (D(2025, 1, 1), Status.OVERDUE),
    ],
)
def test_a_target_with_progress_before_and_after_its_due_date(songqingliang, as_of, expected):
    report(songqingliang, D(2024, 4, 30), 4000)

    assert status(songqingliang, as_of) == expected


def test_a_target_on_track_on_its_due_date_is_overdue_the_day_after(songqingliang):
    report(songqingliang, D(2024, 12, 31), 11000)  # 91.7 %: within 10 points of 100 %

    assert status(songqingliang, D(2024, 12, 31)) == Status.ON_TRACK
    assert status(songqingliang, D(2025, 1, 1)) == Status.OVERDUE


def test_an_achieved_target_stays_achieved_after_its_due_date(songqingliang):
    report(songqingliang, D(2024, 6, 30), 12000)

    assert status(songqingliang, D(2024, 7, 1)) == Status.ACHIEVED
    assert status(songqingliang, D(2026, 12, 1)) == Status.ACHIEVED


def test_an_early_due_date_makes_a_target_overdue_while_its_plan_runs(tongzhou_plan):
    early = make_target(tongzhou_plan, number=9, code="9.1", name="爱心驿站", target_value="10", due_date=D(2024, 6, 30))
    report(early, D(2024, 5, 31), 6)

    assert status(early, D(2024, 6, 30)) == Status.BEHIND  # 60 % done, 100 % of its time gone
    assert status(early, D(2024, 7, 1)) == Status.OVERDUE


def test_a_figure_without_target_value_is_reported_once_reported_and_overdue_if_never(tongzhou_plan):
    silent = make_target(tongzhou_plan, number=1, code="1.1", name="知识竞赛参与", target_value=None)
    reported = make_target(tongzhou_plan, number=2, code="2.1", name="参与人次", target_value=None)
    report(reported, D(2024, 3, 31), 105000)

    assert [status(silent, day) for day in (D(2024, 1, 10), D(2024, 7, 1), D(2025, 1, 1))] == [
        Status.NOT_STARTED, Status.BEHIND, Status.OVERDUE,
    ]
    assert [status(reported, day) for day in (D(2024, 7, 1), D(2025, 1, 1))] == [Status.REPORTED, Status.REPORTED]


def test_without_as_of_the_status_is_todays(songqingliang, monkeypatch):
    """The issue's case: a 2024 target with no approved report, seen in December 2026."""
    monkeypatch.setattr(timezone, "localdate", lambda: D(2026, 12, 1))

    assert Target.objects.with_progress().get(pk=songqingliang.pk).status == Status.OVERDUE


def test_a_target_with_nothing_done_never_rates_better_than_one_half_done(songqingliang, tongzhou_plan):
    """The issue's case: after one approval, the target at 50 % was 滞后 while those at 0 % were not."""
    idle = make_target(tongzhou_plan, number=5, code="5.1", name="劳模疗休养", target_value="100")
    report(songqingliang, D(2024, 6, 30), 6000)

    assert (status(songqingliang, D(2024, 9, 1)), status(idle, D(2024, 9, 1))) == (Status.BEHIND, Status.BEHIND)
