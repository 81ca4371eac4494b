"""Load on the API served by gunicorn: targets list and summary, with writes mixed in.

    .venv/bin/python benchmarks/load.py                       # 60 s, 32 connections
    .venv/bin/python benchmarks/load.py --duration 10 --connections 8

It recreates its own PostgreSQL database (default tracker_load), loads the
seed data plus a Jingkou 2024 plan of 20 targets, starts gunicorn on a free
loopback port and sends requests from --connections threads, each waiting for
its answer before the next (closed loop), for --duration seconds. Reads are
GET /api/v1/targets/ and GET /api/v1/summary/; writes create a report, then
submit and approve it. Prints requests, errors and latency percentiles; exits
1 if any request failed. Only loopback addresses are ever contacted.

The same pieces (prepare_database, Server, run_traffic) drive the database
outage test, tracking/tests/test_outage.py.
"""

import argparse
import contextlib
import datetime
import http.client
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Scratch databases this script may drop and recreate; anything else is refused.
SCRATCH_SUFFIXES = ("_load", "_outage")

SETUP = r"""
import datetime, json
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from tracking.models import Item, Membership, Programme, Target

call_command("seed", verbosity=0)
plan = Programme.objects.create(
    region_id="321102", kind="annual_plan", title="2024年为职工办实事（压测）", year=2024,
    period_start=datetime.date(2024, 1, 1), period_end=datetime.date(2024, 12, 31),
)
targets = []
for n in range(1, 21):
    item, _ = Item.objects.get_or_create(programme=plan, number=(n - 1) // 2 + 1,
                                         defaults={"title": f"事项{n}", "category": "services"})
    targets.append(Target.objects.create(programme=plan, item=item, code=f"{item.number}.{n}", name=f"指标{n}",
                                         unit="人", target_value=1000))
tokens = {}
for username, region, role, group in (("load_reporter", "321102", "reporter", "填报员"),
                                      ("load_reviewer", "321100", "reviewer", "审核员")):
    user = User.objects.create_user(username, is_staff=True)
    Membership.objects.create(user=user, region_id=region, role=role)
    user.groups.add(Group.objects.get(name=group))
    tokens[role] = Token.objects.create(user=user).key
print(json.dumps({"tokens": tokens, "targets": [t.pk for t in targets]}))
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_name(url):
    name = urlsplit(url).path.lstrip("/")
    if not name.endswith(SCRATCH_SUFFIXES):
        raise SystemExit(f"refusing to recreate {name!r}: use a scratch database named *_load or *_outage")
    return name


def admin_connection(url):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
        password=parts.password, dbname="postgres", autocommit=True,
    )


def server_env(url, **extra):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DATABASE_URL=url,
        DEBUG="false",
        LOCAL_MODE="true",
        # Capacity is measured here, not the per-user throttle that protects it.
        API_THROTTLE_USER="1000000/minute",
        API_THROTTLE_ANON="1000000/minute",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def prepare_database(url):
    """Recreate the scratch database, migrate it and load the load-test world. Returns tokens and target ids."""
    name = database_name(url)
    with admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = server_env(url)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=BASE_DIR, env=env, check=True)
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", SETUP], cwd=BASE_DIR, env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def drop_database(url):
    name = database_name(url)
    with admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server:
    """gunicorn serving config.wsgi on a free loopback port, its output in log_path."""

    def __init__(self, url, log_path, workers=4):
        self.url, self.log_path, self.workers = url, Path(log_path), workers
        self.port = free_port()
        self.base = f"127.0.0.1:{self.port}"

    def __enter__(self):
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "config.wsgi", "--bind", self.base, "--workers", str(self.workers),
             "--no-control-socket", "--timeout", "30"],
            cwd=BASE_DIR, env=server_env(self.url), stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            with contextlib.suppress(OSError):
                status, _body = request(self.base, "GET", "/healthz")
                if status == 200:
                    return self
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn did not answer /healthz within 30 s; see {self.log_path}")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def request(base, method, path, token=None, body=None, timeout=10):
    """One request on a fresh connection (gunicorn's sync workers close it anyway)."""
    host, port = base.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class Result:
    kind: str
    started: float
    finished: float
    status: int  # 0: no HTTP answer at all
    body: bytes = b""
    report: int | None = None  # the report a write created or acted on
    value: str | None = None


@dataclass
class Workload:
    """What the threads send: mostly reads, a share of writes; every write a fresh report."""

    tokens: dict
    targets: list
    write_share: float = 0.1
    slots: itertools.count = field(default_factory=itertools.count)
    lock: threading.Lock = field(default_factory=threading.Lock)
    drafts: list = field(default_factory=list)

    def next_slot(self):
        """A (target, date) no report has used yet: 20 targets × 366 days of 2024."""
        with self.lock:
            n = next(self.slots)
        target = self.targets[n % len(self.targets)]
        date = datetime.date(2024, 1, 1) + datetime.timedelta(days=(n // len(self.targets)) % 366)
        if n >= len(self.targets) * 366:
            raise RuntimeError("out of fresh (target, date) pairs")
        return target, date

    def step(self, base, rng):
        if rng.random() >= self.write_share:
            if rng.random() < 0.5:
                return self.send(base, "targets", "GET", "/api/v1/targets/?year=2024&page_size=50", "reporter")
            return self.send(base, "summary", "GET", "/api/v1/summary/?year=2024", "reviewer")
        with self.lock:
            draft = self.drafts.pop() if self.drafts and rng.random() < 0.5 else None
        if draft is None:
            target, date = self.next_slot()
            value = str(rng.randint(1, 100))
            result = self.send(base, "create", "POST", "/api/v1/progress-reports/", "reporter",
                               {"target": target, "period_end": date.isoformat(), "value": value})
            result.value = value
            if result.status == 201:
                result.report = json.loads(result.body)["id"]
                with self.lock:
                    self.drafts.append(result.report)
            return result
        submitted = self.send(base, "submit", "POST", f"/api/v1/progress-reports/{draft}/submit/", "reporter", {})
        submitted.report = draft
        if submitted.status != 200:
            return submitted
        approved = self.send(base, "approve", "POST", f"/api/v1/progress-reports/{draft}/approve/", "reviewer", {})
        approved.report = draft
        return [submitted, approved]

    def send(self, base, kind, method, path, role, body=None):
        started = time.monotonic()
        try:
            status, payload = request(base, method, path, self.tokens[role], body)
        except OSError as error:
            status, payload = 0, repr(error).encode()
        return Result(kind, started, time.monotonic(), status, payload)


def run_traffic(base, workload, *, duration, connections, seed=1):
    """Closed loop: each thread sends its next request when the previous one has been answered."""
    results, lock = [], threading.Lock()
    deadline = time.monotonic() + duration

    def worker(n):
        rng = random.Random(seed * 1000 + n)
        mine = []
        while time.monotonic() < deadline:
            outcome = workload.step(base, rng)
            mine.extend(outcome if isinstance(outcome, list) else [outcome])
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 60)
    return sorted(results, key=lambda r: r.started)


def percentile(values, share):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def summarise(results, duration):
    ok = {"targets": 200, "summary": 200, "create": 201, "submit": 200, "approve": 200}
    lines = [f"{'endpoint':<10} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}"]
    errors = []
    for kind in ("targets", "summary", "create", "submit", "approve", "all"):
        rows = results if kind == "all" else [r for r in results if r.kind == kind]
        bad = [r for r in rows if r.status != ok[r.kind]]
        if kind != "all":
            errors.extend(bad)
        ms = [(r.finished - r.started) * 1000 for r in rows]
        lines.append(
            f"{kind:<10} {len(rows):>9} {len(bad):>7} {percentile(ms, .5):>8.1f} {percentile(ms, .9):>8.1f} "
            f"{percentile(ms, .99):>8.1f} {max(ms, default=float('nan')):>8.1f}"
        )
    lines.append(f"throughput: {len(results) / duration:.1f} requests/s over {duration:.0f} s")
    return "\n".join(lines), errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--write-share", type=float, default=0.1, help="share of steps that write")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/tracker_load")
    parser.add_argument("--keep-database", action="store_true")
    options = parser.parse_args()

    world = prepare_database(options.database_url)
    log_path = Path(tempfile.gettempdir()) / "tracker-load-gunicorn.log"
    try:
        with Server(options.database_url, log_path, workers=options.workers) as server:
            workload = Workload(world["tokens"], world["targets"], write_share=options.write_share)
            results = run_traffic(server.base, workload, duration=options.duration, connections=options.connections)
    finally:
        if not options.keep_database:
            drop_database(options.database_url)
    table, errors = summarise(results, options.duration)
    print(f"load: {options.connections} connections, {options.duration:.0f} s, gunicorn {options.workers} workers "
          f"(server log: {log_path})")
    print(table)
    print(f"errors: {len(errors)}")
    for error in errors[:10]:
        print(f"  {error.kind} {error.status} {error.body[:200]!r}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
