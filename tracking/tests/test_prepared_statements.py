"""Prepared statements on PostgreSQL, and the `__any` lookup that keeps long id lists working with them."""

import datetime

import pytest
from django.db import connection
from django.db.models.deletion import Collector

from tracking.importing import import_reports
from tracking.models import ProgressReport, Region, Target

from .conftest import report

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's parameter limit")

# One more than a statement's parameters can number on PostgreSQL's wire protocol
# (SQLite, as usually built, allows 32,766).
TOO_MANY = 65_536


@postgres_only
def test_a_query_repeated_on_a_connection_is_prepared_by_the_server(songqingliang):
    for _ in range(6):
        assert list(Target.objects.filter(code="4.1").values_list("pk", flat=True)) == [songqingliang.pk]

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ["%tracking_target%code%"])
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert len(prepared) == 1 and "$1" in prepared[0]


@postgres_only
def test_in_cannot_take_more_values_than_a_statement_has_parameters(songqingliang):
    # Why `__any` exists: this is the failure it avoids.
    with pytest.raises(Exception, match="65535"):
        Target.objects.filter(pk__in=range(-TOO_MANY, 0)).count()


def test_any_takes_more_values_than_a_statement_has_parameters(songqingliang):
    ids = [*range(-TOO_MANY, 0), songqingliang.pk]

    assert list(Target.objects.filter(pk__any=ids).values_list("pk", flat=True)) == [songqingliang.pk]


@postgres_only
def test_deleting_more_objects_than_a_statement_has_parameters_works(tongzhou_plan):
    # The deletion collector asks for each related table with every key at once.
    collector = Collector(using="default", origin=None)

    collector.collect([Target(pk=-n) for n in range(1, TOO_MANY + 1)])

    assert len(collector.data[Target]) == TOO_MANY


def test_any_matches_dates_as_in_does(songqingliang):
    for day in (datetime.date(2024, 3, 31), datetime.date(2024, 6, 30)):
        report(songqingliang, day, 1)
    days = {datetime.date(2024, 6, 30), datetime.date(2024, 7, 31)}

    assert list(ProgressReport.objects.filter(period_end__any=days).values_list("period_end", flat=True)) == [
        datetime.date(2024, 6, 30)
    ]


def test_any_matches_as_in_does_through_joins_and_with_none(songqingliang, jingkou_target):
    both = Target.objects.filter(programme__region__any={"320612", "321102", None}).order_by("pk")
    neither = Target.objects.filter(pk__any=[])

    assert list(both) == list(Target.objects.filter(programme__region__in=["320612", "321102"]).order_by("pk"))
    assert len(both) == 2
    assert list(neither) == []


def test_an_import_naming_more_regions_than_a_statement_has_parameters_is_refused_row_by_row(
    songqingliang, tongzhou_reporter
):
    # Each row a different unknown district: every code goes into one query.
    rows = [
        {"region": f"{900000 + n}", "year": "2024", "kind": "annual_plan", "item": "4", "target": "4.1",
         "period_end": "2024-06-30", "value": "1"}
        for n in range(TOO_MANY)
    ]

    result = import_reports(user=tongzhou_reporter, rows=rows, dry_run=True)

    assert len(result.errors) == TOO_MANY
    assert result.errors[0].field == "region" and "900000" in result.errors[0].message
    assert not Region.objects.filter(code__startswith="9").exists()
