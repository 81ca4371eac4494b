"""docker/entrypoint.sh, run for real against a fresh PostgreSQL database.

What the container does on every start, minus Docker: the same script, the
production settings (DEBUG and LOCAL_MODE off, the key kept in a file as the
compose file arranges), gunicorn on a free local port, and static files
collected beforehand as the image build does. Each test makes its own database
and drops it at the end.
"""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
DATABASE_URL = os.environ.get("DATABASE_URL", "")

needs_postgres = pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://")),
    reason="the entrypoint test creates its own PostgreSQL database next to DATABASE_URL's; "
    "set DATABASE_URL=postgres://… (the PostgreSQL leg of CI does)",
)

SUPERUSER = {"DJANGO_SUPERUSER_USERNAME": "chief", "DJANGO_SUPERUSER_EMAIL": "chief@example.invalid"}
PASSWORD = "entrypoint-test-Pw-7f3k"


def database_url(name):
    return urllib.parse.urlsplit(DATABASE_URL)._replace(path="/" + name).geturl()


@pytest.fixture
def fresh_database():
    name = f"tracker_docker_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url("postgres"), autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(database_url("postgres"), autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    """What the Dockerfile's collectstatic line puts into the image."""
    root = tmp_path_factory.mktemp("staticfiles")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT, check=True, timeout=300,
        env={**base_env(), "DEBUG": "false", "LOCAL_MODE": "false", "SECRET_KEY": "collectstatic-only",
             "STATIC_ROOT": str(root)},
    )
    return root


def base_env():
    # Nothing else from the test run's environment, so that the script gets
    # only what the compose file would give it.
    return {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def service_env(database, tmp_path, static_root, **extra):
    return {
        **base_env(),
        "HOME": str(tmp_path),
        "PYTHON": sys.executable,
        "DATABASE_URL": database_url(database),
        "DEBUG": "false",
        "LOCAL_MODE": "false",
        "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": str(static_root),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "WEB_CONCURRENCY": "2",
        **extra,
    }


class Service:
    """The entrypoint running gunicorn, with its output kept in files."""

    def __init__(self, env, tmp_path, run):
        self.env = env
        self.port = env["GUNICORN_BIND"].rsplit(":", 1)[1]
        self.stdout_path, self.stderr_path = tmp_path / f"stdout-{run}.log", tmp_path / f"stderr-{run}.log"
        with open(self.stdout_path, "w") as stdout, open(self.stderr_path, "w") as stderr:
            # Started from elsewhere: the script must find the project by itself.
            self.process = subprocess.Popen(
                [str(ENTRYPOINT)], cwd=tmp_path, env=env, stdout=stdout, stderr=stderr, start_new_session=True
            )

    def output(self):
        return self.stdout_path.read_text() + self.stderr_path.read_text()

    def healthcheck(self):
        """The compose healthcheck's own command."""
        return subprocess.run(
            [sys.executable, "docker/healthcheck.py"], cwd=ROOT, env={**base_env(), **self.env},
            capture_output=True, timeout=30,
        ).returncode

    def wait_until_healthy(self, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"entrypoint exited with {self.process.returncode}:\n{self.output()}")
            if self.healthcheck() == 0:
                return
            time.sleep(0.5)
        pytest.fail(f"no healthy /healthz after {timeout}s:\n{self.output()}")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        """SIGTERM, as `docker compose stop` sends; gunicorn must finish cleanly."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise


@pytest.fixture
def services():
    """Starts services, and kills any a failed test left running."""
    started = []

    def start(*args):
        started.append(Service(*args))
        return started[-1]

    yield start
    for service in started:
        if service.process.poll() is None:
            os.killpg(service.process.pid, signal.SIGKILL)
            service.process.wait()


def fetch(opener, url, data=None):
    """(status, final URL, body) without raising on 4xx/5xx."""
    try:
        with opener.open(url, data=data, timeout=30) as response:
            return response.status, response.geturl(), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, url, error.read().decode()


def log_in(opener, service, username, password):
    _, _, page = fetch(opener, service.url("/admin/login/"))
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": csrf, "username": username, "password": password, "next": "/admin/"}
    ).encode()
    return fetch(opener, service.url("/admin/login/"), data=form)


def row_counts(database):
    with psycopg.connect(database_url(database)) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        return {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}


def superusers(database):
    with psycopg.connect(database_url(database)) as connection:
        return connection.execute(
            "SELECT username, password FROM auth_user WHERE is_superuser ORDER BY username"
        ).fetchall()


@needs_postgres
def test_a_fresh_start_serves_the_seeded_data_and_a_restart_duplicates_nothing(
    fresh_database, static_root, tmp_path, services
):
    env = service_env(
        fresh_database, tmp_path, static_root,
        GUNICORN_BIND=f"127.0.0.1:{free_port()}", DJANGO_SUPERUSER_PASSWORD=PASSWORD, **SUPERUSER,
    )
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    # First start: empty database.
    first = services(env, tmp_path, 1)
    first.wait_until_healthy()

    status, _, body = fetch(browser, first.url("/healthz"))
    assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
    status, _, login_page = fetch(browser, first.url("/admin/login/"))
    assert status == 200
    # WhiteNoise serves the hashed, compressed files that collectstatic built.
    stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login_page).group(1)
    assert fetch(browser, first.url(stylesheet))[0] == 200
    schema_status, _, schema = fetch(browser, first.url("/api/v1/schema/"))
    assert schema_status == 200 and "openapi" in schema
    # The superuser from DJANGO_SUPERUSER_* can log in.
    status, landed, _ = log_in(browser, first, "chief", PASSWORD)
    assert (status, landed) == (200, first.url("/admin/"))

    counts = row_counts(fresh_database)
    assert counts["tracking_region"] == 8
    assert counts["tracking_programme"] >= 5
    assert counts["tracking_progressreport"] > 0
    assert [username for username, _ in superusers(fresh_database)] == ["chief"]
    key = (tmp_path / "secret_key").read_text()
    assert len(key.strip()) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0

    assert first.stop() == 0
    log = first.output()
    # The request log, one JSON line per request, on stdout.
    stdout = first.stdout_path.read_text().splitlines()
    requests = [json.loads(line) for line in stdout if '"tracking.requests"' in line]
    assert {"method": "GET", "path": "/healthz", "status": 200} in [
        {key: entry[key] for key in ("method", "path", "status")} for entry in requests
    ]
    assert PASSWORD not in log
    assert "Traceback" not in log

    # Second start on the same database and volume: nothing added, nothing lost.
    second = services(env, tmp_path, 2)
    second.wait_until_healthy()

    assert row_counts(fresh_database) == counts
    assert [username for username, _ in superusers(fresh_database)] == ["chief"]
    assert (tmp_path / "secret_key").read_text() == key
    # Same key, so the session from the first start is still good.
    assert fetch(browser, second.url("/admin/"))[:2] == (200, second.url("/admin/"))

    # The database goes away under the running service: 503, and nothing more.
    with psycopg.connect(database_url("postgres"), autocommit=True) as server:
        server.execute(f'DROP DATABASE "{fresh_database}" WITH (FORCE)')
    status, _, body = fetch(browser, second.url("/healthz"))
    assert (status, json.loads(body)) == (503, {"status": "error", "database": "unavailable"})
    assert second.healthcheck() == 1

    assert second.stop() == 0
    assert "Traceback" not in second.output()


@needs_postgres
def test_without_a_password_the_superuser_gets_a_generated_one_shown_once(fresh_database, static_root, tmp_path):
    env = service_env(fresh_database, tmp_path, static_root, SEED_ON_START="false", **SUPERUSER)

    # Arguments replace gunicorn, after the same preparation.
    result = subprocess.run([str(ENTRYPOINT), "true"], env=env, capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stdout + result.stderr
    password = re.search(r"superuser chief created with password (\S+)", result.stderr).group(1)
    [(username, encoded)] = superusers(fresh_database)
    # The entrypoint hashes with the production hasher, not the tests' cheap one.
    assert PBKDF2PasswordHasher().verify(password, encoded)
    # SEED_ON_START=false: migrated, but no fixtures loaded.
    assert row_counts(fresh_database)["tracking_programme"] == 0

    again = subprocess.run([str(ENTRYPOINT), "true"], env=env, capture_output=True, text=True, timeout=300)

    assert again.returncode == 0, again.stdout + again.stderr
    assert "password" not in again.stderr
    assert superusers(fresh_database) == [(username, encoded)]


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = {**base_env(), "PYTHON": sys.executable, "DEBUG": "false", "LOCAL_MODE": "false",
           "DATABASE_URL": "sqlite:///" + str(tmp_path / "never-created.sqlite3")}

    result = subprocess.run([str(ENTRYPOINT)], env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when LOCAL_MODE is off" in result.stderr
    assert not (tmp_path / "never-created.sqlite3").exists()
