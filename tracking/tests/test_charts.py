"""tracking/charts.py: progress over time as a server-drawn SVG, on the public pages and in the admin."""

import datetime
import re

from django.urls import reverse

from tracking.charts import progress_chart
from tracking.models import Target
from tracking.progress import progress_series, progress_series_of

D = datetime.date


def annotated(target):
    return Target.objects.with_progress(as_of=D(2024, 7, 1)).get(pk=target.pk)


def test_a_chart_steps_up_at_each_approved_report_to_the_completion_it_brings(tongzhou_and_jingkou_targets):
    target = annotated(tongzhou_and_jingkou_targets["songqingliang"])

    svg = progress_chart(target, list(progress_series(target)), today=D(2024, 7, 1))

    assert svg.startswith('<svg class="tt-chart"') and svg.endswith("</svg>")
    assert "<title>送清凉：截至 2024-06-30 完成 50%（2 次已审核填报）</title>" in svg
    # Two steps (4000 then 6000 of 12000: a third, then a half) on a plot 48 px tall, a dot on each.
    assert svg.count("<circle") == 2
    assert re.search(r'd="M0 52H\d+(\.\d)?V36H\d+(\.\d)?V28H', svg)
    # The line a target on schedule follows, dashed, and where today stands.
    assert 'stroke-dasharray="3 3"' in svg and ">50%</text>" in svg


def test_a_target_without_reports_says_so(songqingliang):
    svg = progress_chart(annotated(songqingliang), [], today=D(2024, 7, 1))

    assert "<title>送清凉：尚无已审核的进度</title>" in svg and "<circle" not in svg


def test_a_figure_without_a_target_value_plots_its_progress(plans_across_jiangsu):
    figure = annotated(Target.objects.get(code="8.1"))

    svg = progress_chart(figure, list(progress_series(figure)), today=D(2024, 7, 1))

    assert ">105,000</text>" in svg and "100%" not in svg


def test_the_series_of_many_targets_in_one_query_equals_each_ones(tongzhou_and_jingkou_targets, django_assert_num_queries):
    targets = list(tongzhou_and_jingkou_targets.values())

    with django_assert_num_queries(1):
        many = progress_series_of(targets)

    for target in targets:
        assert many.get(target.pk, []) == [dict(row) for row in progress_series(target)]


def test_the_admins_target_page_and_dashboard_show_the_chart(tongzhou_and_jingkou_targets, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)
    target = tongzhou_and_jingkou_targets["songqingliang"]

    page = client.get(reverse("admin:tracking_target_change", args=[target.pk])).content.decode()
    assert "进度变化" in page and '<svg class="tt-chart"' in page

    dashboard = client.get(reverse("admin:tracking_dashboard")).content.decode()
    # Targets of 2024 only when 2024 is the year shown: the dashboard's year is this year's or the latest.
    assert dashboard.count('<td class="tt-chart-cell"><svg class="tt-chart"') == 2
