"""The admin's lists and dashboard make the same number of queries for 10 rows as for 500."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tracking import totals
from tracking.models import Category, Item, ProgressReport, Target

# Session, user with membership, permissions, filter choices, count and the page's rows.
MAX_QUERIES = 6
# The dashboard: session, user, programmes, items, targets, their progress series (the charts), and room for one.
DASHBOARD_QUERIES = 7


def add_targets(programme, count):
    """count targets in items of ten, half of them with an approved report, written in bulk."""
    items = Item.objects.bulk_create(
        Item(programme=programme, number=100 + n, title=f"事项{n}", category=Category.SERVICES)
        for n in range(count // 10 + 1)
    )
    targets = Target.objects.bulk_create(
        Target(
            programme=programme, year=programme.year, period_start=programme.period_start, item=items[n // 10], code=f"X.{n}", name=f"指标{n}", unit="名",
            target_value=Decimal("100"), due_date=programme.period_end,
        )
        for n in range(count)
    )
    ProgressReport.objects.bulk_create(
        ProgressReport(target=t, period_end=datetime.date(2024, 6, 30), value=Decimal(n % 120),
                       status=ProgressReport.Status.APPROVED)
        for n, t in enumerate(targets) if n % 2
    )
    totals.refresh(Target.objects.filter(programme=programme))


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


TARGET_LIST = reverse("admin:tracking_target_changelist") + "?all=&year=2024&status=overdue"


@pytest.mark.parametrize("count", [10, 500])
def test_target_list_makes_a_fixed_number_of_queries(tongzhou_plan, tongzhou_reporter, logged_in, count,
                                                     django_assert_max_num_queries):
    add_targets(tongzhou_plan, count)
    client = logged_in(tongzhou_reporter)
    client.get(TARGET_LIST)  # the session row is written on the first request

    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("admin:tracking_target_changelist") + "?all=")

    assert len(response.context["cl"].result_list) == count


def test_target_list_query_count_does_not_grow_with_rows(tongzhou_plan, jingkou_plan, tongzhou_reporter,
                                                         superuser, logged_in):
    add_targets(tongzhou_plan, 10)
    client = logged_in(superuser)
    url = reverse("admin:tracking_target_changelist") + "?all="
    client.get(url)
    small, _ = queries_for(client, url)
    add_targets(jingkou_plan, 490)

    large, response = queries_for(client, url)

    assert len(response.context["cl"].result_list) == 500
    assert large == small


@pytest.mark.parametrize("count", [10, 500])
def test_filtered_target_list_makes_a_fixed_number_of_queries(tongzhou_plan, tongzhou_reporter, logged_in, count,
                                                              django_assert_max_num_queries):
    add_targets(tongzhou_plan, count)
    client = logged_in(tongzhou_reporter)
    client.get(TARGET_LIST)

    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(TARGET_LIST + "&region=320612&kind=annual_plan&category=services&q=指标")

    shown = response.context["cl"].result_list
    assert shown and all(t.status == "overdue" for t in shown)


@pytest.mark.parametrize("count", [10, 500])
def test_dashboard_makes_a_fixed_number_of_queries(tongzhou_plan, nantong_reviewer, logged_in, count,
                                                   django_assert_max_num_queries):
    add_targets(tongzhou_plan, count)
    client = logged_in(nantong_reviewer)
    client.get(reverse("admin:tracking_dashboard"))

    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        response = client.get(reverse("admin:tracking_dashboard"))

    assert response.context["target_count"] == count


def test_programme_list_counts_targets_and_averages_completion_in_one_query(
    tongzhou_plan, jingkou_plan, superuser, logged_in, django_assert_max_num_queries
):
    add_targets(tongzhou_plan, 500)
    add_targets(jingkou_plan, 10)
    client = logged_in(superuser)
    client.get(reverse("admin:tracking_programme_changelist"))

    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("admin:tracking_programme_changelist"))

    rows = {p.region_id: p for p in response.context["cl"].result_list}
    assert rows["320612"].target_count == 500
    # Half the targets have 1..119 of 100, half have nothing yet (0 %). Mean completion is
    # not capped (tracking.progress): the list shows the same figure as the API's summary.
    completions = [n % 120 for n in range(500) if n % 2]
    assert rows["320612"].average_completion == pytest.approx(sum(completions) / 500)


@pytest.mark.parametrize("count", [10, 500])
def test_report_list_makes_a_fixed_number_of_queries(tongzhou_plan, tongzhou_reporter, logged_in, count,
                                                     django_assert_max_num_queries):
    add_targets(tongzhou_plan, count)
    client = logged_in(tongzhou_reporter)
    client.get(reverse("admin:tracking_progressreport_changelist"))

    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(reverse("admin:tracking_progressreport_changelist"))
