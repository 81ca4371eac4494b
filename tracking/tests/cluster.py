"""PostgreSQL primary and streaming replica, an S3 endpoint and gunicorn nodes, on one machine.

Used by tracking/tests/test_scaleout.py and benchmarks/scaleout.py. Every
server listens on a free port of 127.0.0.1 and lives in one temporary
directory: the primary is a cluster of its own (initdb), not the machine's,
because a base backup copies a whole cluster (the machine's holds every
benchmark database) and because it needs no change to the machine's pg_hba.conf.
"""

import glob
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def server_binaries():
    for directory in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]), reverse=True):
        if all(os.access(f"{directory}/{name}", os.X_OK) for name in ("initdb", "pg_ctl", "pg_basebackup")):
            return directory
    return None


def redis_answers():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Machine:
    """The servers of one test module, and what the tests need to talk to them."""

    def __init__(self, base, *, secret_key, redis_db, extra_environment=None):
        self.base = base
        self.secret_key = secret_key
        self.redis_db = redis_db
        self.extra_environment = extra_environment or {}
        self.s3_port = None
        self.bin = server_binaries()
        self.primary_port, self.replica_port = free_port(), free_port()
        self.primary_dir, self.replica_dir = base / "primary", base / "replica"
        self.nodes = {}
        self.processes = []

    # --- PostgreSQL ---------------------------------------------------------

    def as_postgres(self, *args):
        # initdb and postgres refuse to run as root.
        command = [f"{self.bin}/{args[0]}", *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def pg_ctl(self, data_dir, port, action, *extra):
        options = f"-p {port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        self.as_postgres("pg_ctl", "-D", str(data_dir), "-l", str(data_dir) + ".log", "-o", options, "-w", action, *extra)

    def start_databases(self):
        self.as_postgres("initdb", "-D", str(self.primary_dir), "-U", "postgres", "--auth=trust", "--no-sync")
        self.pg_ctl(self.primary_dir, self.primary_port, "start")
        self.as_postgres(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
            "-D", str(self.replica_dir), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
        )
        self.start_replica()
        self.sql("primary", "CREATE DATABASE tracker_scaleout", database="postgres")

    def start_replica(self):
        self.pg_ctl(self.replica_dir, self.replica_port, "start")

    def stop_replica(self):
        self.pg_ctl(self.replica_dir, self.replica_port, "stop", "-m", "fast")

    def url(self, which):
        port = self.primary_port if which == "primary" else self.replica_port
        return f"postgres://postgres@127.0.0.1:{port}/tracker_scaleout"

    def sql(self, which, statement, params=(), database="tracker_scaleout"):
        import psycopg

        port = self.primary_port if which == "primary" else self.replica_port
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname=database, autocommit=True) as conn:
            rows = conn.execute(statement, params)
            return rows.fetchall() if rows.description else None

    def wait_for_replay(self):
        position = self.sql("primary", "SELECT pg_current_wal_lsn()")[0][0]
        for _ in range(100):
            if self.sql("replica", "SELECT pg_last_wal_replay_lsn() >= %s", [position])[0][0]:
                return
            time.sleep(0.05)
        raise AssertionError("the replica did not catch up")

    # --- the rest ---------------------------------------------------------------

    def environment(self):
        env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "REDIS_", "S3_"))}
        env.update(
            DATABASE_URL=self.url("primary"),
            DATABASE_REPLICA_URLS=self.url("replica"),
            REDIS_URL=f"redis://127.0.0.1:6379/{self.redis_db}",
            S3_BUCKET="evidence",
            S3_ENDPOINT_URL=f"http://127.0.0.1:{self.s3_port}" if self.s3_port else "",
            S3_ACCESS_KEY="testing",
            S3_SECRET_KEY="testing",
            SECRET_KEY=self.secret_key,
            LOCAL_MODE="true",
            DEBUG="false",
            MEDIA_ROOT=str(self.base / "no-local-media"),
            LOG_LEVEL="WARNING",
        )
        env.update(self.extra_environment)
        if self.s3_port is None:
            del env["S3_BUCKET"]
        return env

    def manage(self, *args, input=None):
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.environment(), capture_output=True, text=True,
            timeout=300, input=input,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def start_s3(self):
        self.s3_port = free_port()
        log = open(self.base / "s3.log", "w")
        self.processes.append(subprocess.Popen(
            [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.s3_port)], stdout=log, stderr=log,
        ))
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{self.s3_port}/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        import boto3

        boto3.client(
            "s3", endpoint_url=f"http://127.0.0.1:{self.s3_port}", aws_access_key_id="testing",
            aws_secret_access_key="testing", region_name="us-east-1",
        ).create_bucket(Bucket="evidence")

    def start_node(self, name, *, workers=2, threads=2, replicas=True, redis=True):
        port = free_port()
        env = self.environment()
        if not replicas:
            del env["DATABASE_REPLICA_URLS"]
        if not redis:
            del env["REDIS_URL"]
        log = open(self.base / f"node-{name}.log", "w")
        self.processes.append(subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
             "--threads", str(threads), "--no-control-socket"],
            cwd=ROOT, env=env, stdout=log, stderr=log,
        ))
        self.nodes[name] = f"http://127.0.0.1:{port}"
        return self.processes[-1]

    def wait_for_nodes(self):
        for url in self.nodes.values():
            for _ in range(200):
                try:
                    if requests.get(f"{url}/healthz", timeout=10).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.1)
            else:
                raise AssertionError(f"{url} did not start: {self.logs()}")

    def logs(self):
        return "\n".join(path.read_text()[-2000:] for path in self.base.glob("node-*.log"))

    def stop(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for data_dir, port in ((self.replica_dir, self.replica_port), (self.primary_dir, self.primary_port)):
            if (data_dir / "postmaster.pid").exists():
                try:
                    self.pg_ctl(data_dir, port, "stop", "-m", "immediate")
                except subprocess.CalledProcessError:
                    pass
