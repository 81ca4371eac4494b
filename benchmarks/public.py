#!/usr/bin/env python
"""Benchmark issue 17 at national scale: a province's 公示 page uncached, a province's bulletin, and a
public page revalidated (304) through gunicorn with 2 workers and wrk.

Run against a PostgreSQL database filled by `manage.py generate_scale_data` (README, "Benchmarks"):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker_bench_public .venv/bin/python benchmarks/public.py

The province measured is the one with the most districts. Every figure printed is measured in this run;
benchmarks/public.md keeps a run's figures.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import BENCH_ENV, free_port, setup_django, wrk  # noqa: E402

GOALS = {"page_uncached_ms": 30, "bulletin_s": 2, "revalidated_per_s": 1000}


def timed(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/tracker_bench_public")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--wrk-seconds", type=int, default=20)
    parser.add_argument("--wrk-connections", type=int, default=16)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "public.json"))
    options = parser.parse_args()
    os.environ["TRACKING_PUBLIC_READ"] = "true"
    # One log line per request would be measured too.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    setup_django(options.database_url)

    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.utils import timezone

    from tracking.bulletin import document
    from tracking.bulletin.figures import bulletin_figures
    from tracking.models import Region

    province = (
        Region.objects.filter(level=Region.Level.PROVINCE).annotate(districts=Count("children__children"))
        .order_by("-districts", "code").first()
    )
    cities = Region.objects.filter(parent=province).count()
    results = {"province": province.code, "name": province.name, "cities": cities, "districts": province.districts}
    print(f"{province.name} ({province.code}): {cities} cities, {province.districts} districts")

    client = Client(HTTP_HOST="127.0.0.1")
    url = f"/gongshi/{province.code}/"

    def uncached_page():
        cache.clear()  # no body kept for the ETag: the page is built
        response = client.get(url)
        assert response.status_code == 200
        return response

    uncached_page()
    queries = []
    # Counted as they go out (request_started empties connection.queries).
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        page = uncached_page()
    seconds, page = timed(uncached_page, options.repeat)
    results["page_uncached_ms"] = round(seconds * 1000, 1)
    results["page_bytes"] = len(page.content)
    results["page_queries"] = len(queries)
    print(f"province page, uncached: median {results['page_uncached_ms']} ms, {len(page.content):,} bytes, "
          f"{len(queries)} queries")

    def bulletin():
        return document.build(bulletin_figures(region=province))

    seconds, docx = timed(bulletin, max(3, options.repeat // 4))
    results["bulletin_s"] = round(seconds, 2)
    results["bulletin_bytes"] = len(docx)
    print(f"province bulletin (today): median {results['bulletin_s']} s, {len(docx):,} bytes")
    past = timezone.localdate().replace(month=6, day=30)
    seconds, _ = timed(lambda: document.build(bulletin_figures(region=province, as_of=past)), 3)
    results["bulletin_as_of_s"] = round(seconds, 2)
    print(f"province bulletin (as_of {past}, every target judged from its reports): median {results['bulletin_as_of_s']} s")

    port = free_port()
    env = {**os.environ, **BENCH_ENV, "PYTHONPATH": str(ROOT), "DATABASE_URL": options.database_url}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "config.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        for _ in range(10):
            with urllib.request.urlopen(base + url) as response:
                etag = response.headers["ETag"]
        try:
            urllib.request.urlopen(urllib.request.Request(base + url, headers={"If-None-Match": etag}))
            raise RuntimeError("revalidation with the ETag did not answer 304")
        except urllib.error.HTTPError as error:
            if error.code != 304:
                raise
        # Discarded: both workers' first requests import, connect and fill their caches, which
        # would otherwise count against whichever variant runs first.
        wrk(base + url, {}, 3, options.wrk_connections)
        revalidated = wrk(base + url, {"If-None-Match": etag}, options.wrk_seconds, options.wrk_connections)
        kept = wrk(base + url, {}, options.wrk_seconds, options.wrk_connections)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    results["revalidated_per_s"] = revalidated["requests_per_s"]
    results["revalidated"] = revalidated
    results["kept_body"] = kept
    print(f"public page revalidated (304), gunicorn 2 workers: {revalidated['requests_per_s']:,} req/s, "
          f"p50 {revalidated['wrk_p50_ms']} ms, {revalidated['errors']} errors")
    print(f"public page, body kept per ETag (200): {kept['requests_per_s']:,} req/s, p50 {kept['wrk_p50_ms']} ms")

    results["goals"] = {
        "page_uncached_ms": results["page_uncached_ms"] <= GOALS["page_uncached_ms"],
        "bulletin_s": results["bulletin_s"] <= GOALS["bulletin_s"],
        "revalidated_per_s": results["revalidated_per_s"] >= GOALS["revalidated_per_s"],
    }
    results["load_average"] = os.getloadavg()
    Path(options.out).write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str) + "\n")
    print(json.dumps(results["goals"]))


if __name__ == "__main__":
    main()
