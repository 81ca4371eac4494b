"""The demo's living sample plan (tracking.sample_plan), on fixed days of the year."""

import datetime
from collections import Counter

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tracking import tallies, totals
from tracking.models import Programme, ProgressReport, Target
from tracking.sample_plan import DEMO_MARK, load_sample_plan

from .conftest import make_user

D = datetime.date
Status = Target.Status


@pytest.fixture
def the_2024_plan(db):
    call_command("loaddata", "regions", "tongzhou_2024", verbosity=0)
    return Programme.objects.get(region="320612", year=2024)


@pytest.fixture
def clerks(the_2024_plan):
    return make_user("demo_reporter", "320612", "reporter"), make_user("demo_reviewer", "320600", "reviewer")


def sample_on(day, clerks, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda: day)
    programme, created = load_sample_plan(reporter=clerks[0], reviewer=clerks[1])
    assert created
    return programme


def statuses(programme):
    return Counter(Target.objects.filter(programme=programme).with_progress().values_list("status", flat=True))


@pytest.mark.parametrize("day", [D(2026, 2, 20), D(2026, 6, 15), D(2026, 11, 30), D(2026, 12, 31)])
def test_from_february_a_visitor_sees_every_status_but_not_started(clerks, monkeypatch, day):
    programme = sample_on(day, clerks, monkeypatch)

    seen = statuses(programme)
    assert {Status.ON_TRACK, Status.BEHIND, Status.OVERDUE, Status.ACHIEVED, Status.REPORTED} <= set(seen), seen
    # After the first weeks a target with nothing done is behind, so none is "not started".
    assert seen[Status.NOT_STARTED] == 0


def test_in_january_not_started_targets_show_too(clerks, monkeypatch):
    programme = sample_on(D(2026, 1, 20), clerks, monkeypatch)

    assert {Status.NOT_STARTED, Status.ON_TRACK, Status.OVERDUE, Status.ACHIEVED, Status.REPORTED} <= set(
        statuses(programme)
    )


@pytest.mark.parametrize("day", [D(2026, 1, 1), D(2026, 1, 20), D(2026, 6, 15), D(2026, 12, 31)])
def test_reports_in_every_state_valid_and_counted_by_the_progress_rule(clerks, monkeypatch, day):
    programme = sample_on(day, clerks, monkeypatch)

    reports = list(ProgressReport.objects.filter(target__programme=programme).select_related("target__programme"))
    assert set(Counter(r.status for r in reports)) == set(ProgressReport.Status.values)
    for report in reports:
        report.full_clean()  # in the plan's period, not after today, one per target and date
        assert report.created_by == clerks[0]
        assert (report.reviewed_by is not None) == (report.status in ("approved", "returned"))
    assert all(r.history.count() == 1 for r in reports)
    assert totals.stale_targets() == [] and tallies.wrong_tallies() == []


def test_it_carries_tongzhous_ten_items_over_and_says_it_is_demo_data(the_2024_plan, clerks, monkeypatch):
    programme = sample_on(D(2026, 6, 15), clerks, monkeypatch)

    assert programme.title.startswith(DEMO_MARK) and "演示数据" in programme.description
    assert (programme.year, programme.period_start, programme.period_end) == (2026, D(2026, 1, 1), D(2026, 12, 31))
    assert list(programme.items.values_list("number", "title")) == list(the_2024_plan.items.values_list("number", "title"))
    codes = list(programme.targets.order_by("code_key").values_list("code", flat=True))
    assert codes == [*the_2024_plan.targets.order_by("code_key").values_list("code", flat=True)[:13], "8.2",
                     *the_2024_plan.targets.order_by("code_key").values_list("code", flat=True)[13:]]


def test_a_second_load_leaves_the_plan_alone(clerks, monkeypatch):
    programme = sample_on(D(2026, 6, 15), clerks, monkeypatch)
    reports = ProgressReport.objects.count()

    assert load_sample_plan(reporter=clerks[0], reviewer=clerks[1]) == (programme, False)
    assert ProgressReport.objects.count() == reports


def test_a_real_plan_for_this_year_is_never_replaced(clerks, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda: D(2026, 6, 15))
    real = Programme.objects.create(
        region_id="320612", kind="annual_plan", title="通州区2026年计划", year=2026,
        period_start=D(2026, 1, 1), period_end=D(2026, 12, 31),
    )

    assert load_sample_plan(reporter=clerks[0], reviewer=clerks[1]) == (real, False)
    assert not real.targets.exists()


def test_the_dashboard_shows_bars_a_queue_and_targets_needing_attention(clerks, monkeypatch, logged_in):
    sample_on(D(2026, 11, 30), clerks, monkeypatch)

    response = logged_in(clerks[1]).get(reverse("admin:tracking_dashboard"))

    assert response.context["year"] == 2026
    attention = {t.status for t in response.context["attention"]}
    assert {Status.BEHIND, Status.OVERDUE} <= attention
    page = response.content.decode()
    assert page.count('class="tt-fill tt-on_track"') >= 5 and 'class="tt-fill tt-achieved"' in page
    queue = logged_in(clerks[1]).get(reverse("admin:tracking_progressreport_changelist") + "?status=submitted")
    assert queue.context["cl"].result_count >= 5
