"""The progress dashboard linked from the admin index."""

import datetime
import re

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
        report(old, today - datetime.timedelta(days=60), 5)

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

    # A 2024 target, a quarter done: overdue since the year ended.
    assert 'class="tt-fill tt-overdue" style="width: 25.0%"' in page
    assert 'class="tt-expected" style="left: 100.0%"' in page


def test_an_ended_plan_at_zero_lists_every_target_as_overdue(regions, tongzhou_reporter, logged_in):
    """The issue's case: the 2024 plan, ended, nothing approved; the page said 没有需要关注的指标."""
    plan = make_plan("320612", year=2024)
    for number in range(1, 4):
        make_target(plan, number=number, code=f"{number}.1", name=f"指标{number}", target_value="100")

    response = logged_in(tongzhou_reporter).get(DASHBOARD)

    assert [(t.code, t.status) for t in response.context["attention"]] == [
        ("1.1", "overdue"), ("2.1", "overdue"), ("3.1", "overdue"),
    ]
    counts = {value: count for value, _label, count in response.context["status_counts"]}
    assert (counts["overdue"], counts["not_started"]) == (3, 0)
    page = response.content.decode()
    assert "没有需要关注的指标" not in page and page.count('<span class="tt-badge tt-overdue">逾期</span>') >= 6


def test_an_achieved_target_is_not_listed_however_long_ago_it_was_reported(regions, tongzhou_reporter, logged_in, monkeypatch):
    plan = make_plan("320612", year=2024)
    done_early = make_target(plan, number=1, code="1.1", name="早已完成", target_value="100")
    report(done_early, datetime.date(2024, 2, 29), 100)
    monkeypatch.setattr(timezone, "localdate", lambda: datetime.date(2024, 9, 1))

    assert logged_in(tongzhou_reporter).get(DASHBOARD).context["attention"] == []


def test_behind_targets_are_listed_and_on_track_ones_are_not(regions, tongzhou_reporter, logged_in, monkeypatch):
    plan = make_plan("320612", year=2024)
    behind = make_target(plan, number=1, code="1.1", name="落后", target_value="100")
    on_track = make_target(plan, number=2, code="2.1", name="正常", target_value="100")
    report(behind, datetime.date(2024, 6, 30), 20)
    report(on_track, datetime.date(2024, 6, 30), 60)
    monkeypatch.setattr(timezone, "localdate", lambda: datetime.date(2024, 7, 1))

    attention = logged_in(tongzhou_reporter).get(DASHBOARD).context["attention"]

    assert [(t.name, t.status, t.silent) for t in attention] == [("落后", "behind", False)]


def test_the_dashboard_lists_codes_in_natural_order(regions, tongzhou_reporter, logged_in):
    plan = make_plan("320612", year=2024)
    for code in ("1.10", "1.2", "1.1"):
        make_target(plan, number=1, code=code, name=f"指标{code}", target_value="100")

    response = logged_in(tongzhou_reporter).get(DASHBOARD)

    [item] = response.context["programmes"][0].item_list
    assert [t.code for t in item.target_list] == ["1.1", "1.2", "1.10"]
    assert [t.code for t in response.context["attention"]] == ["1.1", "1.2", "1.10"]


def test_the_target_list_filters_overdue_targets_and_badges_them(regions, tongzhou_reporter, logged_in):
    plan = make_plan("320612", year=2024)
    overdue = make_target(plan, number=1, code="1.1", name="逾期的", target_value="100")
    done = make_target(plan, number=2, code="2.1", name="完成的", target_value="100")
    report(done, datetime.date(2024, 6, 30), 100)
    client = logged_in(tongzhou_reporter)

    response = client.get(reverse("admin:tracking_target_changelist") + "?status=overdue")

    assert [t.pk for t in response.context["cl"].result_list] == [overdue.pk]
    page = response.content.decode()
    assert "?status=overdue" in page and ">逾期</a>" in page  # the filter's choice
    assert '<span class="tt-badge tt-overdue">逾期</span>' in page


def test_every_status_has_a_colour_of_its_own():
    from pathlib import Path

    from django.conf import settings

    from tracking.models import Target

    css = (Path(settings.BASE_DIR) / "tracking" / "static" / "tracking" / "admin.css").read_text()
    colours = {status: re.search(rf"\.tt-badge\.tt-{status} {{ background: (#[0-9a-f]+); }}", css) for status in Target.Status.values}
    assert all(colours.values()), colours
    assert len({match.group(1) for match in colours.values()}) == len(Target.Status.values)
    assert all(f".tt-fill.tt-{status}" in css for status in ("on_track", "behind", "overdue", "achieved"))
