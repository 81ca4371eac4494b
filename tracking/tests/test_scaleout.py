"""Two web nodes, a streaming replica, the machine's Redis and shared evidence storage, on one machine.

The cluster fixture starts, all on free ports of 127.0.0.1:
- a PostgreSQL primary of its own (initdb in a temporary directory) and a
  streaming replica of it (pg_basebackup -R, then a second server). Its own
  primary rather than the machine's: a base backup copies a whole cluster,
  and the machine's holds every benchmark database (gigabytes); it also needs
  no change to the machine's pg_hba.conf;
- an S3 endpoint (moto's server mode: MinIO cannot be installed from the
  package registries here) with a private bucket;
- two gunicorn nodes, A and B, each with two workers, sharing the primary,
  the replica, Redis (database 13 of the machine's 127.0.0.1:6379) and the bucket.

It skips, saying why, without PostgreSQL's server binaries or Redis.
"""

import concurrent.futures
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
from django.test import override_settings

from . import evidence_files
from .cluster import Machine, redis_answers, server_binaries

REDIS_DB = 13
THROTTLE = 20

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


WORLD = """
import json
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from tracking.tests.conftest import make_plan, make_target, make_user
from django.core.management import call_command
call_command("loaddata", "regions", verbosity=0)
target = make_target(make_plan("320612"))
users = [make_user("tongzhou_reporter", "320612", "reporter"), make_user("nantong_reviewer", "320600", "reviewer"),
         make_user("jingkou_reporter", "321102", "reporter", is_staff=True),
         make_user("tongzhou_manager", "320612", "manager")]
User.objects.create_superuser("superuser", password="pw-superuser")
print(json.dumps({"target": target.pk, **{user.username: Token.objects.create(user=user).key for user in users}}))
"""


@pytest.fixture(scope="module")
def machine():
    if server_binaries() is None:
        pytest.skip("needs PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup) under /usr/lib/postgresql")
    if not redis_answers():
        pytest.skip("needs the machine's Redis on 127.0.0.1:6379")
    pytest.importorskip("moto")
    base = Path(tempfile.mkdtemp(prefix="tracker_scaleout_"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    machine = Machine(base, secret_key=secrets.token_urlsafe(50), redis_db=REDIS_DB, extra_environment={
        "TRACKING_PUBLIC_READ": "true", "API_THROTTLE_ANON": f"{THROTTLE}/minute",
        "TRACKING_READ_YOUR_WRITES_SECONDS": "30",
    })
    try:
        machine.start_databases()
        machine.start_s3()
        import redis

        redis.Redis(db=REDIS_DB).flushdb()
        machine.manage("migrate", "--no-input")
        machine.world = json.loads(machine.manage("shell", "-c", WORLD).strip().splitlines()[-1])
        machine.wait_for_replay()
        machine.start_node("A")
        machine.start_node("B")
        machine.wait_for_nodes()
        yield machine
    finally:
        machine.stop()
        shutil.rmtree(base, ignore_errors=True)


def client(machine, username):
    session = requests.Session()
    session.headers["Authorization"] = f"Token {machine.world[username]}"
    return session


def replica_statements(machine):
    """The last statement of each of the nodes' connections to the replica."""
    rows = machine.sql(
        "replica", "SELECT query FROM pg_stat_activity WHERE datname = 'tracker_scaleout' AND pid <> pg_backend_pid()"
    )
    return [query for (query,) in rows]


# --- the tests ---------------------------------------------------------------------


def test_healthz_on_both_nodes_reports_the_primary_the_replica_with_its_lag_and_redis(machine):
    for url in machine.nodes.values():
        body = requests.get(f"{url}/healthz", timeout=5).json()

        assert body["status"] == "ok" and body["database"] == "ok" and body["cache"] == "ok"
        assert body["replicas"]["replica_0"]["status"] == "ok"
        assert body["replicas"]["replica_0"]["replay_paused"] is False
        assert {"lag_bytes", "lag_seconds"} <= set(body["replicas"]["replica_0"])


def test_reads_of_a_user_who_has_not_written_are_served_by_the_replica(machine):
    for url in machine.nodes.values():
        response = client(machine, "tongzhou_manager").get(f"{url}/api/v1/targets/?year=2024&page_size=3", timeout=5)
        assert response.status_code == 200
        assert response.json()["count"] == 1

    assert any("tracking_target" in query for query in replica_statements(machine))


def test_node_a_and_node_b_give_the_same_etag_for_the_same_data(machine):
    reviewer = client(machine, "nantong_reviewer")
    etags = {name: reviewer.get(f"{url}/api/v1/targets/?year=2024", timeout=5).headers["ETag"]
             for name, url in machine.nodes.items()}

    assert etags["A"] == etags["B"]
    again = reviewer.get(f"{machine.nodes['B']}/api/v1/targets/?year=2024", headers={"If-None-Match": etags["A"]})
    assert again.status_code == 304


def public_progress(answer, code):
    """The approved progress of the target with this code in a public region answer (which names no ids)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("code") == code and "progress" in node:
                found.append(node["progress"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(answer)
    assert len(found) == 1, f"target {code} appears {len(found)} times"
    return float(found[0])


def test_with_replay_paused_a_report_entered_and_approved_through_a_is_read_back_through_b(machine):
    reporter, reviewer = client(machine, "tongzhou_reporter"), client(machine, "nantong_reviewer")
    a, b = machine.nodes["A"], machine.nodes["B"]
    reports = "/api/v1/progress-reports/?year=2024"
    seen_before = reviewer.get(f"{b}{reports}", timeout=5)
    machine.sql("replica", "SELECT pg_wal_replay_pause()")
    try:
        assert requests.get(f"{b}/healthz", timeout=5).json()["replicas"]["replica_0"]["replay_paused"] is True
        created = reporter.post(f"{a}/api/v1/progress-reports/", json={
            "target": machine.world["target"], "period_end": "2024-06-30", "value": 6000,
        }, timeout=5)
        assert created.status_code == 201, created.text
        report_id = created.json()["id"]
        assert reporter.post(f"{a}/api/v1/progress-reports/{report_id}/submit/", timeout=5).status_code == 200
        approved = reviewer.post(f"{a}/api/v1/progress-reports/{report_id}/approve/", json={"review_note": "同意"})
        assert approved.status_code == 200, approved.text

        # The writers read their own writes through B, though the replica has not replayed them.
        assert reviewer.get(f"{b}/api/v1/progress-reports/{report_id}/", timeout=5).json()["status"] == "approved"
        assert reporter.get(f"{b}/api/v1/progress-reports/{report_id}/", timeout=5).json()["status"] == "approved"
        # A client holding the list from before the write gets no 304 for it, and the new
        # version's body is not built from the lagging replica.
        listed = reviewer.get(f"{b}{reports}", headers={"If-None-Match": seen_before.headers["ETag"]}, timeout=5)
        assert listed.status_code == 200
        assert report_id in [row["id"] for row in listed.json()["results"]]
        # A worker reading the public page (anonymous, never a writer) gets the new figure on either node.
        for url in (a, b):
            anonymous = requests.get(f"{url}/api/v1/public/regions/320612/", timeout=5)
            assert anonymous.status_code == 200
            assert public_progress(anonymous.json(), "4.1") == 6000
        assert machine.sql("replica", "SELECT count(*) FROM tracking_progressreport WHERE id = %s", [report_id]) == [(0,)]
    finally:
        machine.sql("replica", "SELECT pg_wal_replay_resume()")
    # No acknowledged write is lost: the replica replays it once resumed.
    machine.wait_for_replay()
    assert machine.sql("replica", "SELECT status FROM tracking_progressreport WHERE id = %s", [report_id]) == [("approved",)]


def test_a_throttle_of_n_requests_allows_exactly_n_spread_over_both_nodes(machine):
    import redis

    store = redis.Redis(db=REDIS_DB)
    for key in store.scan_iter("*throttle_anon*"):
        store.delete(key)
    answers = [
        requests.get(f"{machine.nodes['AB'[number % 2]]}/api/v1/public/regions/", timeout=5).status_code
        for number in range(THROTTLE + 10)
    ]

    assert answers.count(200) == THROTTLE
    assert answers.count(429) == 10


def admin_session(url, username):
    session = requests.Session()
    session.get(f"{url}/admin/login/", timeout=5)
    logged_in = session.post(f"{url}/admin/login/?next=/admin/", data={
        "username": username, "password": f"pw-{username}", "csrfmiddlewaretoken": session.cookies["csrftoken"],
    }, headers={"Referer": f"{url}/admin/login/"}, timeout=5)
    assert logged_in.url.endswith("/admin/"), logged_in.text[:500]
    return session


def test_evidence_uploaded_through_a_is_downloaded_through_b_from_the_shared_bucket(machine):
    content = evidence_files.pdf(b" (7000 workers)")
    a, b = machine.nodes["A"], machine.nodes["B"]
    on_a = admin_session(a, "superuser")
    added = on_a.post(f"{a}/admin/tracking/progressreport/add/", data={
        "csrfmiddlewaretoken": on_a.cookies["csrftoken"], "target": machine.world["target"],
        "period_end": "2024-09-30", "value": "7000", "qualifier": "exact", "note": "", "_save": "保存",
    }, files={"evidence": ("proof.pdf", content, "application/pdf")}, headers={"Referer": f"{a}/admin/"}, timeout=10)
    assert added.status_code == 200, added.text[:500]
    report_id, name = machine.sql(
        "primary", "SELECT id, evidence FROM tracking_progressreport WHERE period_end = '2024-09-30'"
    )[0]
    assert name.startswith("evidence/")
    # Nothing was written to node A's disk.
    assert not (machine.base / "no-local-media").exists()

    evidence = f"{b}/admin/tracking/progressreport/{report_id}/evidence/"
    downloaded = admin_session(b, "superuser").get(evidence, timeout=10)
    assert downloaded.status_code == 200
    assert downloaded.content == content
    # Still only to those who may see the report: not to Jingkou's reporter, nor to anyone logged out.
    assert admin_session(b, "jingkou_reporter").get(evidence, timeout=10).status_code == 404
    assert requests.get(evidence, allow_redirects=False, timeout=10).status_code == 302


def test_when_the_replica_is_stopped_under_load_reads_go_on_from_the_primary_without_errors(machine):
    # Someone who writes nothing in these tests, so that their reads go to the replica.
    reader = client(machine, "tongzhou_manager")
    answers, stopped_at, done = [], [], threading.Event()

    def load(worker):
        number = worker
        while not done.is_set():
            # A new question each time, so that no body kept in the cache answers it.
            url = f"{machine.nodes['AB'[number % 2]]}/api/v1/targets/?year=2024&completion_min={number / 1000}"
            status = reader.get(url, timeout=15).status_code
            answers.append((time.monotonic(), status))
            number += 4

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        workers = [pool.submit(load, worker) for worker in range(4)]
        time.sleep(1)
        assert any("tracking_target" in query for query in replica_statements(machine))
        machine.stop_replica()
        stopped_at.append(time.monotonic())
        time.sleep(2)
        done.set()
        for worker in workers:
            worker.result()
    try:
        statuses = [status for _, status in answers]
        assert set(statuses) <= {200, 304}, {status: statuses.count(status) for status in set(statuses)}
        assert sum(1 for at, _ in answers if at < stopped_at[0]) > 10
        assert sum(1 for at, _ in answers if at > stopped_at[0]) > 10
        health = requests.get(f"{machine.nodes['A']}/healthz", timeout=5).json()
        assert health["status"] == "ok" and health["replicas"]["replica_0"]["status"] == "unavailable"
    finally:
        machine.start_replica()


# --- without the machine: Redis down -------------------------------------------------------

UNREACHABLE_REDIS = {"default": {
    "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
    "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
}}


@pytest.fixture
def redis_down():
    # Django's test signals rebuild the cache handlers when CACHES changes, and again after.
    with override_settings(CACHES=UNREACHABLE_REDIS, REDIS_URL="redis://127.0.0.1:1/0"):
        yield


@pytest.mark.django_db
def test_with_redis_down_the_api_answers_503_json_not_500(api, tongzhou_reporter, songqingliang, redis_down):
    response = api(tongzhou_reporter).get("/api/v1/targets/")

    assert response.status_code == 503
    assert response.json() == {"detail": "缓存服务暂时不可用，请稍后重试"}
    assert response["Retry-After"]
    in_english = api(tongzhou_reporter).get("/api/v1/targets/", HTTP_ACCEPT_LANGUAGE="en")
    assert in_english.json() == {"detail": "The cache service is temporarily unavailable. Please try again later"}


@pytest.mark.django_db
def test_with_redis_down_healthz_says_so(client, redis_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "cache": "unavailable"}


# --- a lock for jobs that run on every node ----------------------------------------------

SHARED_REDIS = {"default": {
    "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:6379/{REDIS_DB}",
    "KEY_PREFIX": "locks-test",
}}


@pytest.mark.parametrize("caches", ["local memory", "redis"])
def test_a_job_lock_is_taken_once_until_its_holder_lets_go(caches):
    from tracking.locks import held

    if caches == "redis" and not redis_answers():
        pytest.skip("needs the machine's Redis on 127.0.0.1:6379")
    with override_settings(**({"CACHES": SHARED_REDIS} if caches == "redis" else {})):
        with held("send_reminders", seconds=60) as first:
            with held("send_reminders", seconds=60) as second:
                assert (first, second) == (True, False)
        with held("send_reminders", seconds=60) as again:
            assert again is True


# --- settings -----------------------------------------------------------------------------

def settings_with(**env):
    """config.settings as a fresh process reads it with only these variables set."""
    import subprocess
    import sys

    code = (
        "import json, config.settings as s; print(json.dumps({'caches': s.CACHES, 'databases': s.DATABASES,"
        " 'storage': s.STORAGES['default']}, default=str))"
    )
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                            env={**base, **env}, capture_output=True, text=True, timeout=60)
    return json.loads(result.stdout) if result.returncode == 0 else result.stderr


def test_without_the_new_settings_one_process_runs_as_before():
    read = settings_with()

    assert read["caches"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert list(read["databases"]) == ["default"]
    assert read["storage"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_redis_url_makes_redis_the_shared_cache_and_a_wrong_one_fails_at_start():
    read = settings_with(REDIS_URL="redis://cache.internal:6379/2")

    assert read["caches"]["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert read["caches"]["default"]["LOCATION"] == "redis://cache.internal:6379/2"
    assert "REDIS_URL must start with redis://" in settings_with(REDIS_URL="http://cache.internal")


def test_replica_urls_become_replica_databases_that_tests_mirror():
    read = settings_with(DATABASE_URL="postgres://db/tracker",
                         DATABASE_REPLICA_URLS="postgres://r1/tracker, postgres://r2:5433/tracker")

    assert list(read["databases"]) == ["default", "replica_0", "replica_1"]
    second = read["databases"]["replica_1"]
    assert (second["HOST"], second["PORT"], second["TEST"]) == ("r2", "5433", {"MIRROR": "default"})
    assert second["OPTIONS"]["connect_timeout"] == 2
    assert "needs PostgreSQL" in settings_with(DATABASE_REPLICA_URLS="postgres://r1/tracker")


def test_s3_bucket_puts_evidence_on_s3_with_short_signed_urls():
    read = settings_with(S3_BUCKET="evidence", S3_ENDPOINT_URL="http://minio:9000")

    assert read["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    options = read["storage"]["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"]) == ("evidence", "http://minio:9000")
    assert (options["querystring_auth"], options["querystring_expire"], options["default_acl"]) == (True, 60, None)
