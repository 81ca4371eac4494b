"""The reporting calendar: periods and due dates from a frequency and a due rule, with the date passed in."""

import datetime

import pytest

from tracking.followup import calendar

D = datetime.date


def test_a_monthly_plan_for_2024_has_twelve_periods_each_due_five_days_after_it_ends():
    periods = calendar.periods(D(2024, 1, 1), D(2024, 12, 31), frequency="monthly", due_days=5)
    assert len(periods) == 12
    assert (periods[0].start, periods[0].end, periods[0].due) == (D(2024, 1, 1), D(2024, 1, 31), D(2024, 2, 5))
    assert (periods[1].end, periods[1].due) == (D(2024, 2, 29), D(2024, 3, 5))
    assert (periods[11].end, periods[11].due) == (D(2024, 12, 31), D(2025, 1, 5))
    assert [p.key for p in periods[:3]] == ["2024-01", "2024-02", "2024-03"]


def test_quarters_and_halves_follow_the_calendar_and_are_clipped_to_the_programme():
    quarters = calendar.periods(D(2024, 2, 15), D(2024, 12, 31), frequency="quarterly", due_days=10)
    assert [(p.key, p.start, p.end) for p in quarters] == [
        ("2024Q1", D(2024, 2, 15), D(2024, 3, 31)),
        ("2024Q2", D(2024, 4, 1), D(2024, 6, 30)),
        ("2024Q3", D(2024, 7, 1), D(2024, 9, 30)),
        ("2024Q4", D(2024, 10, 1), D(2024, 12, 31)),
    ]
    assert quarters[0].due == D(2024, 4, 10)
    halves = calendar.periods(D(2024, 1, 1), D(2024, 12, 31), frequency="half_yearly", due_days=0)
    assert [(p.key, p.end, p.due) for p in halves] == [
        ("2024H1", D(2024, 6, 30), D(2024, 6, 30)), ("2024H2", D(2024, 12, 31), D(2024, 12, 31)),
    ]


def test_a_programme_reporting_once_has_one_period_over_its_whole_span():
    [once] = calendar.periods(D(2019, 1, 1), D(2023, 12, 31), frequency="once", due_days=30)
    assert (once.start, once.end, once.due) == (D(2019, 1, 1), D(2023, 12, 31), D(2024, 1, 30))


def test_a_report_belongs_to_the_period_containing_its_date():
    periods = calendar.periods(D(2024, 1, 1), D(2024, 12, 31), frequency="quarterly", due_days=5)
    assert calendar.period_of(D(2024, 5, 20), periods).key == "2024Q2"
    assert calendar.period_of(D(2024, 3, 31), periods).key == "2024Q1"
    assert calendar.period_of(D(2025, 1, 1), periods) is None


def test_a_programme_without_its_own_rule_takes_the_settings_default(settings, tongzhou_plan):
    settings.TRACKING_REPORTING_FREQUENCY, settings.TRACKING_REPORTING_DUE_DAYS = "quarterly", 15
    assert calendar.rule_of(tongzhou_plan) == ("quarterly", 15)
    assert calendar.programme_periods(tongzhou_plan)[0].due == D(2024, 4, 15)
    tongzhou_plan.reporting_frequency, tongzhou_plan.due_days = "monthly", 0
    assert calendar.rule_of(tongzhou_plan) == ("monthly", 0)
    assert calendar.programme_periods(tongzhou_plan)[0].due == D(2024, 1, 31)


def test_an_unknown_frequency_is_refused():
    with pytest.raises(ValueError):
        calendar.periods(D(2024, 1, 1), D(2024, 12, 31), frequency="weekly", due_days=5)
