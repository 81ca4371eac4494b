"""Throughput of pages and of 304 revalidations: one web node, then two web nodes and a read replica.

    .venv/bin/python benchmarks/scaleout.py                     # 300 districts, 3 years, 10 s per run
    .venv/bin/python benchmarks/scaleout.py --districts 100 --seconds 5

Starts its own PostgreSQL primary and streaming replica (tracking/tests/cluster.py,
in a temporary directory, on free ports), fills the primary with
generate_scale_data, and uses the machine's Redis (database 12, flushed) as
the shared cache. Each configuration is loaded by wrk over loopback:

- page: GET /api/v1/targets/?year=Y&completion_min=<random> as a national user,
  a new question each time, so every answer is built (no body kept in the cache);
- 304: GET /api/v1/targets/?year=Y with the If-None-Match its first answer gave.

Configurations: one node (2 sync workers) with the local-memory cache, as
today; the same with Redis; two such nodes sharing Redis and a replica.

Besides requests per second it measures the CPU time each part used (web
nodes, primary, replica; from /proc), so that the figures can be given per
core: requests per CPU-second of each part is what one more core of that part
buys. Redis is the machine's and shared, so its CPU is not counted (it is far
below the others). Prints a Markdown table and writes --out (JSON).
"""

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracking.tests.cluster import Machine  # noqa: E402

REDIS_DB = 12
TICKS = os.sysconf("SC_CLK_TCK")

SETUP = r"""
import json
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from tracking.models import Programme
user = User.objects.create_superuser("bench_national", password="x")
print(json.dumps({"token": Token.objects.create(user=user).key, "year": max(Programme.objects.values_list("year", flat=True))}))
"""

PAGE_SCRIPT = """
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  return wrk.format("GET", wrk.path .. "&completion_min=0." .. math.random(100000000, 999999999))
end
"""


def tree_cpu_seconds(root_pid):
    """User and system CPU of a process and all its descendants alive now, in seconds."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append((int(entry.name), int(fields[11]) + int(fields[12])))
    total, stack = 0, [root_pid]
    try:
        fields = Path(f"/proc/{root_pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    except OSError:
        return 0.0
    while stack:
        for pid, ticks in children.get(stack.pop(), []):
            total += ticks
            stack.append(pid)
    return total / TICKS


def postmaster_pid(data_dir):
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def wrk(url, headers, seconds, connections, script=None):
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    return subprocess.Popen([*command, url], stdout=subprocess.PIPE, text=True)


def parse(output):
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return int(re.search(r"(\d+) requests in", output).group(1)), int(non_2xx.group(1)) if non_2xx else 0


def run(machine, nodes, kind, world, seconds, connections):
    headers = {"Authorization": f"Token {world['token']}"}
    path = f"/api/v1/targets/?year={world['year']}"
    script = None
    if kind == "304":
        etag = requests.get(nodes[0][0] + path, headers=headers, timeout=30).headers["ETag"]
        headers["If-None-Match"] = etag
    else:
        script = str(machine.base / "page.lua")
        Path(script).write_text(PAGE_SCRIPT)
    parts = {"web": [process.pid for _, process in nodes], "primary": [postmaster_pid(machine.primary_dir)]}
    if len(nodes) > 1:
        parts["replica"] = [postmaster_pid(machine.replica_dir)]
    before = {part: sum(map(tree_cpu_seconds, pids)) for part, pids in parts.items()}
    started = time.monotonic()
    loads = [wrk(url + path, headers, seconds, connections // len(nodes), script) for url, _ in nodes]
    outputs = [load.communicate()[0] for load in loads]
    elapsed = time.monotonic() - started
    cpu = {part: sum(map(tree_cpu_seconds, pids)) - before[part] for part, pids in parts.items()}
    counted = [parse(output) for output in outputs]
    total = sum(count for count, _ in counted)
    return {
        "nodes": len(nodes), "kind": kind, "requests": total, "errors": sum(errors for _, errors in counted),
        "requests_per_s": round(total / elapsed), "cpu_seconds": {k: round(v, 1) for k, v in cpu.items()},
        "cpu_ms_per_request": {k: round(1000 * v / total, 2) for k, v in cpu.items()},
        "requests_per_core_second": {k: round(total / v) if v else None for k, v in cpu.items()},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, default=300)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "scaleout.json"))
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("needs wrk (apt-get install wrk)")

    base = Path(tempfile.mkdtemp(prefix="tracker_scaleout_bench_"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
    machine = Machine(base, secret_key=secrets.token_urlsafe(50), redis_db=REDIS_DB, extra_environment={
        # Throttles would stop the load, not measure it.
        "API_THROTTLE_USER": "1000000/minute", "LOG_LEVEL": "ERROR",
    })
    results = []
    try:
        print("starting the primary and the replica, generating data…", flush=True)
        machine.start_databases()
        import redis

        redis.Redis(db=REDIS_DB).flushdb()
        machine.manage("migrate", "--no-input")
        machine.manage("generate_scale_data", "--districts", str(options.districts), "--years", str(options.years),
                       "--seed", "1")
        world = json.loads(machine.manage("shell", "-c", SETUP).strip().splitlines()[-1])
        targets = machine.sql("primary", "SELECT count(*) FROM tracking_target")[0][0]
        reports = machine.sql("primary", "SELECT count(*) FROM tracking_progressreport")[0][0]
        machine.sql("primary", "VACUUM ANALYZE")
        machine.wait_for_replay()
        print(f"{targets} targets, {reports} reports; year {world['year']}", flush=True)

        for name, redis_cache in (("one-local", False), ("one", True)):
            one = machine.start_node(name, replicas=False, threads=1, redis=redis_cache)
            machine.wait_for_nodes()
            for kind in ("page", "304"):
                run(machine, [(machine.nodes[name], one)], kind, world, 2, options.connections)  # warm-up
                result = run(machine, [(machine.nodes[name], one)], kind, world, options.seconds, options.connections)
                results.append({**result, "cache": "redis" if redis_cache else "local memory"})
                print(results[-1], flush=True)
            one.terminate()
            one.wait()
            del machine.nodes[name]

        a, b = machine.start_node("A", threads=1), machine.start_node("B", threads=1)
        machine.wait_for_nodes()
        pair = [(machine.nodes["A"], a), (machine.nodes["B"], b)]
        for kind in ("page", "304"):
            run(machine, pair, kind, world, 2, options.connections)
            results.append({**run(machine, pair, kind, world, options.seconds, options.connections), "cache": "redis"})
            print(results[-1], flush=True)
    finally:
        machine.stop()
        shutil.rmtree(base, ignore_errors=True)

    summary = {
        "districts": options.districts, "years": options.years, "targets": targets, "reports": reports,
        "seconds": options.seconds, "connections": options.connections, "cpus": os.cpu_count(),
        "load_average_after": os.getloadavg(), "results": results,
    }
    Path(options.out).write_text(json.dumps(summary, indent=2) + "\n")
    print("\n| configuration | answer | req/s | web CPU ms/req | primary CPU ms/req | replica CPU ms/req |"
          " req per web core-second |")
    print("|---|---|---|---|---|---|---|")
    for result in results:
        cpu = result["cpu_ms_per_request"]
        name = ("1 node" if result["nodes"] == 1 else "2 nodes + replica") + f", {result['cache']}"
        print(f"| {name} | {result['kind']} | {result['requests_per_s']} | {cpu['web']} | {cpu['primary']} | "
              f"{cpu.get('replica', '–')} | {result['requests_per_core_second']['web']} |")


if __name__ == "__main__":
    main()
