"""One JSON line per request (tracking.middleware), without anything secret."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from tracking.logs import JsonLinesFormatter

ROOT = Path(__file__).resolve().parents[2]


def request_lines(caplog):
    formatter = JsonLinesFormatter()
    return [formatter.format(record) for record in caplog.records if record.name == "tracking.requests"]


@pytest.fixture
def caplog(caplog):
    caplog.set_level(logging.INFO, logger="tracking.requests")
    return caplog


@pytest.mark.django_db
def test_a_request_is_logged_as_one_json_line(client, caplog):
    client.get("/healthz")

    [line] = request_lines(caplog)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["method"] == "GET"
    assert entry["path"] == "/healthz"
    assert entry["status"] == 200
    assert entry["user_id"] is None
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert entry["level"] == "INFO" and entry["logger"] == "tracking.requests"


@pytest.mark.django_db
def test_query_strings_and_headers_stay_out_of_the_log(client, caplog):
    client.get("/healthz?token=query-secret", HTTP_AUTHORIZATION="Token header-secret")

    [line] = request_lines(caplog)
    assert json.loads(line)["path"] == "/healthz"
    assert "secret" not in line


def test_a_failed_admin_login_logs_neither_the_username_nor_the_password(client, superuser, caplog):
    client.post("/admin/login/", {"username": "root", "password": "wrong-password-xyz"})

    [line] = request_lines(caplog)
    entry = json.loads(line)
    assert (entry["method"], entry["path"], entry["user_id"]) == ("POST", "/admin/login/", None)
    assert "wrong-password-xyz" not in line and "root" not in line


def test_an_admin_user_is_named_by_id(client, superuser, caplog):
    client.force_login(superuser)

    client.get("/admin/")

    [line] = request_lines(caplog)
    assert json.loads(line)["user_id"] == superuser.pk


def test_an_api_user_with_a_token_is_named_by_id(client, tongzhou_reporter, caplog):
    token = Token.objects.create(user=tongzhou_reporter)

    response = client.get("/api/v1/programmes/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200
    [line] = request_lines(caplog)
    assert json.loads(line)["user_id"] == tongzhou_reporter.pk
    assert token.key not in line


def test_tracebacks_stay_on_the_same_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, exc_info=sys.exc_info())

    line = JsonLinesFormatter().format(record)

    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exc"]


def test_the_request_log_goes_to_stdout_and_everything_else_to_stderr():
    """So that `manage.py dumpdata > file` writes nothing but the data."""
    code = (
        "import logging;"
        "logging.getLogger('tracking.requests').info('GET /x 200');"
        "logging.getLogger('tracking.views').warning('database unavailable');"
        "print('command output')"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": os.environ["PATH"], "LOG_LEVEL": "INFO"},
    )

    assert result.returncode == 0, result.stderr
    stdout = result.stdout.splitlines()
    assert [json.loads(line)["message"] for line in stdout[:-1]] == ["GET /x 200"]
    assert stdout[-1] == "command output"
    stderr = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert {"logger": "tracking.views", "message": "database unavailable"} in [
        {"logger": entry["logger"], "message": entry["message"]} for entry in stderr
    ]
