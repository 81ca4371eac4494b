"""DATABASE_URL parsing."""

from pathlib import Path

from django.conf import settings

from config.settings import database_from_url


def test_sqlite_url_with_three_slashes_is_relative_to_the_project():
    assert database_from_url("sqlite:///db.sqlite3")["NAME"] == Path(settings.BASE_DIR) / "db.sqlite3"


def test_sqlite_url_with_four_slashes_is_absolute():
    assert database_from_url("sqlite:////tmp/tracker.sqlite3")["NAME"] == "/tmp/tracker.sqlite3"


def test_postgres_url_gives_every_connection_part():
    database = database_from_url("postgres://clerk:s%40cret@db.example:5433/tracker")

    assert {k: database[k] for k in ("NAME", "USER", "PASSWORD", "HOST", "PORT")} == {
        "NAME": "tracker", "USER": "clerk", "PASSWORD": "s@cret", "HOST": "db.example", "PORT": "5433",
    }
    assert database["CONN_HEALTH_CHECKS"] is True


def test_postgres_prepares_repeated_statements_unless_turned_off(monkeypatch):
    assert database_from_url("postgres://db/tracker")["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}

    monkeypatch.setenv("DB_PREPARED_STATEMENTS", "false")

    assert database_from_url("postgres://db/tracker")["OPTIONS"] == {}
