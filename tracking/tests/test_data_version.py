"""The data version behind ETags: it moves with every committed change, in commit order."""

import datetime
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from tracking.db import data_version
from tracking.models import Item, Programme, ProgressReport, Region, Target

from .conftest import report

URL = "/api/v1/targets/"
LONG_AGO = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize("model", [Region, Programme, Item, Target, ProgressReport])
def test_every_write_to_what_the_api_shows_moves_the_data_version(model, songqingliang):
    report(songqingliang, datetime.date(2024, 6, 30), 100)
    before = data_version()

    # Past the ORM, as a script or a restore would write.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {model._meta.db_table} SET {model._meta.pk.column} = {model._meta.pk.column}")

    assert data_version() > before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL sequence")
def test_the_first_write_after_the_migration_moves_the_data_version(songqingliang):
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('tracking_data_version_seq', 1, false)")  # as the migration leaves it
    before = data_version()

    Target.objects.filter(pk=songqingliang.pk).update(name="送清凉（高温）")

    assert data_version() > before


def test_a_change_stamped_before_the_last_one_still_changes_the_etag(api, songqingliang, tongzhou_reporter):
    # A transaction takes its timestamp when it writes and may commit after
    # another one that wrote later: the newest updated_at then stays put.
    # Stamping the change in the past makes that order happen here.
    report(songqingliang, datetime.date(2024, 6, 30), 100)
    Target.objects.filter(pk=songqingliang.pk).update(updated_at=LONG_AGO)
    client = api(tongzhou_reporter)
    first = client.get(URL)
    assert first.json()["results"][0]["progress"] == 100

    Target.objects.filter(pk=songqingliang.pk).update(cached_progress=250, updated_at=LONG_AGO)
    again = client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert again.json()["results"][0]["progress"] == 250


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer, whose counter commits with it")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_while_a_change_is_in_flight_nothing_is_answered_304_or_kept(api, songqingliang, tongzhou_reporter):
    report(songqingliang, datetime.date(2024, 6, 30), 100)
    client = api(tongzhou_reporter)
    first = client.get(URL)
    written, release, done = threading.Event(), threading.Event(), threading.Event()

    def writer():
        # Another connection, as another worker's transaction would be.
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute(
                    "UPDATE tracking_target SET cached_progress = 250, updated_at = %s WHERE id = %s",
                    [LONG_AGO, songqingliang.pk],
                )
                written.set()
                release.wait(timeout=30)
                cursor.execute("COMMIT")
        finally:
            connections["default"].close()
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert written.wait(timeout=30)
        during = client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])
        assert during.status_code == 200
        assert "ETag" not in during
        assert during.json()["results"][0]["progress"] == 100
    finally:
        release.set()
        thread.join(timeout=30)
    assert done.is_set()

    after = client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])

    assert after.status_code == 200
    assert after.json()["results"][0]["progress"] == 250
    assert client.get(URL, HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent sessions")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_readers_do_not_keep_each_other_from_a_version(songqingliang):
    versions = []

    def reader():
        try:
            versions.extend(data_version() for _ in range(300))
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(versions) == 1200
    assert None not in versions and len(set(versions)) == 1


def test_the_etag_still_names_today_where_figures_move_with_the_date(api, songqingliang, tongzhou_reporter, monkeypatch):
    client = api(tongzhou_reporter)
    etag = client.get(URL)["ETag"]
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args: tomorrow)

    assert client.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks of PostgreSQL databases")
def test_a_write_in_flight_in_another_database_of_the_server_leaves_the_version_alone(songqingliang):
    """Another database on the same server (a staging copy, another test run) takes the same lock key."""
    import psycopg

    settings = connection.settings_dict
    other = psycopg.connect(
        dbname="postgres", host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
        password=settings["PASSWORD"],
    )
    try:
        other.execute("SELECT pg_advisory_xact_lock_shared(1953655670)")  # held until it commits

        assert data_version() is not None
    finally:
        other.rollback()
        other.close()
