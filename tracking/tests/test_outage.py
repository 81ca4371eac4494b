"""PostgreSQL restarted under load: 503s while it is down, recovery within 5 s, no acknowledged write lost.

gunicorn serves a dedicated database (tracker_outage) on a free loopback port
while threads send reads and writes; halfway through, the cluster is stopped
for a few seconds and started again (pg_ctlcluster). The service is not
restarted. Then every write that was answered 2xx is looked up in the database.

Stopping the machine's PostgreSQL breaks every other test run using it, so this
runs only with TRACKING_OUTAGE_TEST=1; .ci/run sets it in a step of its own,
after the main test runs:

    TRACKING_OUTAGE_TEST=1 .venv/bin/pytest -s tracking/tests/test_outage.py
"""

import importlib.util
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError

from tracking.api import targets as api_views

opted_in = pytest.mark.skipif(
    os.environ.get("TRACKING_OUTAGE_TEST") != "1",
    reason="restarts the machine's PostgreSQL: opt in with TRACKING_OUTAGE_TEST=1 (see the module docstring)",
)
needs_pg_ctlcluster = pytest.mark.skipif(shutil.which("pg_ctlcluster") is None, reason="needs Debian's pg_ctlcluster")

BEFORE, DOWN, AFTER = 6.0, 4.0, 8.0
RECOVERY_LIMIT = 5.0
CONNECTIONS = 8
# trust authentication ignores it, which makes it a safe marker: it must
# never appear in a response or in the server's log.
DB_PASSWORD = "outage-db-password-7f3a"
DATABASE_URL = f"postgres://postgres:{DB_PASSWORD}@127.0.0.1:5432/tracker_outage"
OK = {"targets": 200, "summary": 200, "create": 201, "submit": 200, "approve": 200}


def load_module():
    path = Path(settings.BASE_DIR) / "benchmarks" / "load.py"
    spec = importlib.util.spec_from_file_location("benchmarks_load", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cluster():
    version = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".")])[-1]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def postgres_answers():
    import psycopg

    try:
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=tracker_outage", connect_timeout=1) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


class Outage(threading.Thread):
    """Stops the cluster after `after` seconds, starts it `down` seconds later, and notes when it answers again."""

    def __init__(self, after, down):
        super().__init__(daemon=True)
        self.after, self.down = after, down
        self.stopping = self.stopped = self.back = None
        self.error = None

    def run(self):
        try:
            time.sleep(self.after)
            self.stopping = time.monotonic()
            subprocess.run([*cluster(), "stop", "-m", "fast"], check=True, capture_output=True)
            self.stopped = time.monotonic()
            time.sleep(self.down)
            subprocess.run([*cluster(), "start"], check=True, capture_output=True)
            while not postgres_answers():
                time.sleep(0.05)
            self.back = time.monotonic()
        except Exception as error:  # reported by the test, after PostgreSQL is brought back
            self.error = error


def ensure_postgres_running():
    if not postgres_answers():
        subprocess.run([*cluster(), "start"], capture_output=True)
        for _ in range(100):
            if postgres_answers():
                break
            time.sleep(0.1)


def stored_reports(ids):
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=tracker_outage") as conn:
        rows = conn.execute(
            "SELECT id, value, status FROM tracking_progressreport WHERE id = ANY(%s)", (list(ids),)
        ).fetchall()
    return {row[0]: row for row in rows}


@opted_in
@needs_pg_ctlcluster
def test_postgres_restart_answers_503_then_recovers_and_keeps_every_acknowledged_write(tmp_path):
    load = load_module()
    log_path = tmp_path / "gunicorn.log"
    world = load.prepare_database(DATABASE_URL)
    outage = Outage(BEFORE, DOWN)
    try:
        with load.Server(DATABASE_URL, log_path, workers=3) as server:
            workload = load.Workload(world["tokens"], world["targets"], write_share=0.4)
            outage.start()
            results = load.run_traffic(server.base, workload, duration=BEFORE + DOWN + AFTER, connections=CONNECTIONS)
            outage.join(timeout=60)
            assert outage.error is None, outage.error
            assert outage.back is not None, "PostgreSQL did not come back"
            verify = subprocess.run(
                [load.PYTHON, "manage.py", "verify_progress"], cwd=settings.BASE_DIR,
                env=load.server_env(DATABASE_URL), capture_output=True, text=True,
            )
        creates = {r.report: r.value for r in results if r.kind == "create" and r.status == 201}
        approvals = {r.report for r in results if r.kind == "approve" and r.status == 200}
        stored = stored_reports(set(creates) | approvals)
    finally:
        ensure_postgres_running()
        # This process's own connections died with the restart.
        from django.db import connections

        connections.close_all()
    load.drop_database(DATABASE_URL)

    failed = [r for r in results if r.status != OK[r.kind]]
    unavailable = [r for r in failed if r.status == 503]
    # Only 503s, and only between the stop and 5 s after PostgreSQL answered again.
    assert [(r.kind, r.status, r.body[:300]) for r in failed if r.status != 503] == []
    assert unavailable, "no request met the outage: it proves nothing"
    for r in unavailable:
        assert outage.stopping <= r.finished and r.started <= outage.back + RECOVERY_LIMIT, r
        body = json.loads(r.body)
        assert "数据库暂时不可用" in body["detail"], r.body
    recovered_after = max([r.finished - outage.back for r in unavailable if r.finished > outage.back], default=0.0)
    first_success = min(r.finished for r in results if r.started >= outage.back and r.status == OK[r.kind])
    assert recovered_after < RECOVERY_LIMIT

    lost = [i for i, value in creates.items() if i not in stored or stored[i][1] != int(value)]
    lost += [i for i in approvals if i not in stored or stored[i][2] != "approved"]
    assert lost == []
    assert verify.returncode == 0, verify.stderr + verify.stdout

    log = log_path.read_text(errors="replace")
    secrets = [DB_PASSWORD, *world["tokens"].values()]
    assert not [s for s in secrets if s in log], "a secret reached the server log"
    assert not [r for r in results if any(s.encode() in r.body for s in secrets)], "a secret reached a response"

    print(
        f"\noutage: PostgreSQL stopped {outage.stopped - outage.stopping:.1f} s after the stop command, "
        f"answered again {outage.back - outage.stopping:.1f} s after it\n"
        f"outage: {len(results)} requests, {len(unavailable)} answered 503 (JSON), 0 other errors\n"
        f"outage: first success {first_success - outage.back:.2f} s after PostgreSQL returned; "
        f"last 503 {recovered_after:.2f} s after (limit {RECOVERY_LIMIT:.0f} s)\n"
        f"outage: acknowledged writes {len(creates)} created + {len(approvals)} approved, lost {len(lost)}"
    )


# --- The middleware alone, in process (always run) ----------------------------------


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_database_error_is_a_503_json_answer_without_details(error, api, tongzhou_reporter, monkeypatch, caplog):
    def fail(*args, **kwargs):
        raise error("connection already closed: postgres://postgres:hunter2@127.0.0.1:5432/tracker")

    monkeypatch.setattr(api_views.TargetViewSet, "list", fail)

    response = api(tongzhou_reporter).get("/api/v1/targets/")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": "数据库暂时不可用，请稍后重试"}
    assert "hunter2" not in caplog.text and "hunter2" not in response.content.decode()


def test_a_database_error_in_the_admin_is_a_503_page(logged_in, tongzhou_reporter, monkeypatch):
    from tracking.admin.targets import TargetAdmin

    def fail(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(TargetAdmin, "get_queryset", fail)

    response = logged_in(tongzhou_reporter).get("/admin/tracking/target/", HTTP_ACCEPT="text/html")

    assert response.status_code == 503
    assert "数据库暂时不可用" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_other_errors_are_not_disguised_as_an_outage(api, tongzhou_reporter, monkeypatch):
    def fail(*args, **kwargs):
        raise ZeroDivisionError

    monkeypatch.setattr(api_views.TargetViewSet, "list", fail)
    client = api(tongzhou_reporter)
    client.raise_request_exception = False

    assert client.get("/api/v1/targets/").status_code == 500

