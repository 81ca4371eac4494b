"""A newcomer's first ten minutes: where / leads, a quiet start, and a clear word when the database is missing."""

import logging
import os
import subprocess
import sys
import urllib.parse
import uuid
import warnings
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")


def manage(*args, **env):
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**environment, **env},
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.django_db
def test_the_site_root_leads_to_the_admin(client):
    response = client.get("/")

    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))


def test_the_admins_view_site_link_leads_somewhere(superuser, logged_in):
    client = logged_in(superuser)
    page = client.get(reverse("admin:index")).content.decode()

    assert 'href="/"' in page and "查看站点" in page
    assert client.get("/", follow=True).redirect_chain == [(reverse("admin:index"), 302)]


def test_a_command_prints_neither_the_axes_banner_nor_a_static_files_warning(tmp_path):
    result = manage("check", DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3", PYTHONWARNINGS="default")

    assert result.returncode == 0, result.stderr
    assert "AXES" not in result.stdout + result.stderr
    assert "No directory at" not in result.stdout + result.stderr
    assert result.stderr == ""


def test_axes_warnings_still_come_through():
    assert not logging.getLogger("axes.apps").isEnabledFor(logging.INFO)
    assert logging.getLogger("axes.apps").isEnabledFor(logging.WARNING)
    assert logging.getLogger("axes.handlers.database").isEnabledFor(logging.INFO)


def test_whitenoise_reads_no_static_root_in_local_mode_but_warns_about_one_that_is_set_and_missing(settings, tmp_path):
    from whitenoise.middleware import WhiteNoiseMiddleware

    def warnings_of_a_start():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            WhiteNoiseMiddleware(lambda request: None)
        return [str(w.message) for w in caught if w.category is UserWarning]

    assert settings.STATIC_ROOT is None and warnings_of_a_start() == []
    settings.STATIC_ROOT = tmp_path / "missing"
    assert warnings_of_a_start() == [f"No directory at: {settings.STATIC_ROOT}/"]


def test_a_sqlite_file_that_cannot_be_opened_is_a_clear_message(tmp_path):
    path = tmp_path / "no-such-directory" / "db.sqlite3"

    result = manage("migrate", DATABASE_URL=f"sqlite:///{path}")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"无法连接数据库 {path}（sqlite）：unable to open database file\n")


@pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://")), reason="needs the PostgreSQL server of DATABASE_URL"
)
@pytest.mark.parametrize("command", [["migrate"], ["demo", "--no-serve"]])
def test_a_postgresql_database_that_does_not_exist_is_a_clear_message_with_how_to_create_it(command):
    name = f"tracker_missing_{uuid.uuid4().hex[:8]}"  # never created
    url = urllib.parse.urlsplit(DATABASE_URL)._replace(path="/" + name).geturl()

    result = manage(*command, DATABASE_URL=url)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"无法连接数据库 {name}" in result.stderr and f'database "{name}" does not exist' in result.stderr
    assert "createdb -h " in result.stderr and name in result.stderr.splitlines()[2]


@pytest.mark.django_db
def test_an_error_once_connected_keeps_its_traceback(monkeypatch):
    """Only a failed connection is answered so; an error from a working connection is not hidden."""
    from django.db import connection
    from django.db.utils import OperationalError

    from config import commandline

    def command_that_fails(argv):
        connection.ensure_connection()
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(commandline, "execute_from_command_line", command_that_fails)

    with pytest.raises(OperationalError, match="deadlock"):
        commandline.main(["manage.py", "anything"])

