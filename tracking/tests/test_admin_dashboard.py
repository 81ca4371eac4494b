"""The progress dashboard linked from the admin index."""

import datetime

from django.urls import reverse
from django.utils import timezone

from .conftest import make_plan, make_target, report

DASHBOARD = reverse("admin:tracking_dashboard")


def test_index_links_to_the_dashboard(tongzhou_reporter, logged_in):
    page = logged_in(tongzhou_reporter).get(reverse("admin:index")).content.decode()

    assert DASHBOARD in page and "进度看板" in page


def test_dashboard_shows_the_current_years_programmes(regions, tongzhou_reporter, logged_in):
    this_year = timezone.localdate().year
    make_target(make_plan("320612", year=this_year - 1), name="去年的指标")
    make_target(make_plan("320612", year=this_year), name="今年的指标")

    response = logged_in(tongzhou_reporter).get(DASHBOARD)

    assert response.context["year"] == this_year
    assert "今年的指标" in response.content.decode() and "去年的指标" not in response.content.decode()


def test_dashboard_falls_back_to_the_latest_year_with_data(regions, tongzhou_reporter, logged_in):
    this_year = timezone.localdate().year
    make_target(make_plan("320612", year=this_year - 3), name="三年前")
    make_target(make_plan("320612", year=this_year - 2), name="两年前")

    response = logged_in(tongzhou_reporter).get(DASHBOARD)

    assert response.context["year"] == this_year - 2
    assert "两年前" in response.content.decode()


def test_dashboard_lists_behind_and_silent_targets_and_counts_statuses(regions, tongzhou_reporter, logged_in):
    today = timezone.localdate()
    plan = make_plan("320612", year=today.year)
    silent = make_target(plan, number=1, code="1.1", name="无人填报", target_value="10")
    done = make_target(plan, number=2, code="2.1", name="已经完成", target_value="10")
    report(done, today, 10)
    # A report older than 45 days makes the target silent even though it has one.
    old = make_target(plan, number=3, code="3.1", name="很久没报", target_value="10")
    if today - datetime.timedelta(days=60) >= plan.period_start:
        report(old, today - datetime.timedelta(days=60), 10)

    response = logged_in(tongzhou_reporter).get(DASHBOARD)

    attention = {t.name for t in response.context["attention"]}
    assert "无人填报" in attention and "已经完成" not in attention
    assert "很久没报" in attention
    counts = {value: count for value, _label, count in response.context["status_counts"]}
    assert counts["achieved"] >= 1 and sum(counts.values()) == 3
    assert silent.pk in {t.pk for t in response.context["attention"]}


def test_dashboard_bars_show_completion_against_expected(songqingliang, tongzhou_reporter, logged_in):
    report(songqingliang, datetime.date(2024, 6, 30), 3000)

    page = logged_in(tongzhou_reporter).get(DASHBOARD).content.decode()

    assert 'class="tt-fill tt-behind" style="width: 25.0%"' in page
    assert 'class="tt-expected" style="left: 100.0%"' in page
