#!/usr/bin/env python
"""Benchmark the API and the admin at national scale.

Run against a PostgreSQL database filled by `manage.py generate_scale_data`
(see README, "Benchmarks"). Each scenario goes through the whole Django stack
(the test Client: middleware, authentication, DRF, rendering) and is compared
with hand-written SQL that produces the same answer; the throughput scenario
goes through gunicorn and wrk over loopback. Every figure printed is measured
in this run.

    .venv/bin/python benchmarks/run.py --out benchmarks/results.json
"""

import argparse
import csv
import io
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tracker_bench"
# Throttling limits a client, which is not what is measured here; a high rate
# keeps the throttle's own cost in every request without refusing any.
BENCH_ENV = {"API_THROTTLE_USER": "100000000/minute", "API_THROTTLE_ANON": "100000000/minute"}

GOALS = {
    # scenario/variant: (what is compared, bound, "max" = measured must be <= bound, "min" = >=)
    "targets-page/first uncached": ("median_ms", 20, "max"),
    "targets-page/deep uncached": ("median_ms", 20, "max"),
    "programme-detail/district uncached": ("median_ms", 10, "max"),
    "summary-national/by-province": ("median_ms", 50, "max"),
    "import/100k": ("rows_per_s", 20_000, "min"),
    "import/100k rss": ("peak_rss_mb", 300, "max"),
    "throughput/targets-page": ("requests_per_s", 300, "min"),
    "throughput/304": ("requests_per_s", 1000, "min"),
    "peer/targets-page": ("speedup", 10, "min"),
}
MAX_QUERIES = 6


def setup_django(database_url):
    import warnings

    # WhiteNoise warns that collectstatic has not run; static files are not benchmarked.
    warnings.filterwarnings("ignore", message="No directory at")
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DATABASE_URL", database_url)
    for name, value in BENCH_ENV.items():
        os.environ.setdefault(name, value)
    import django

    django.setup()
    # An A/B measurement of one mechanism (benchmarks/ledger.py): switch it off here.
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import switches

    switched_off = switches.apply()
    if switched_off:
        print(f"switched off: {switched_off}")


# --- Measuring -------------------------------------------------------------------------


def peak_rss_reset():
    """Linux lets a process reset its peak RSS (VmHWM), so each scenario gets its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb(pid="self"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def percentile(samples, fraction):
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def timed(fn, reps, warmup):
    """Wall-clock median and p95, and the median CPU time this process spent.

    On a shared machine the wall clock includes waiting for a core; the CPU
    time shows how much of a request is Python, whatever the load.
    """
    for _ in range(warmup):
        fn()
    samples, cpu = [], []
    for _ in range(reps):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "cpu_ms": round(statistics.median(cpu), 2),
    }


class Bench:
    def __init__(self, options, out):
        from django.db import connection
        from django.test import Client

        self.options = options
        self.out = out
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.results = []
        self.client = Client(HTTP_HOST="127.0.0.1")

    def say(self, text=""):
        self.out.write(text + "\n")
        self.out.flush()

    def record(self, row):
        self.results.append(row)
        figures = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("scenario", "variant"))
        self.say(f"  {row['scenario']}/{row['variant']}: {figures}")
        return row

    def get(self, path, expect=200, **headers):
        response = self.client.get(path, **headers)
        if response.status_code != expect:
            raise RuntimeError(f"GET {path} answered {response.status_code}, expected {expect}: {response.content[:300]!r}")
        return response

    def queries(self, fn):
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(self.connection) as captured:
            fn()
        return len(captured.captured_queries)

    def sql(self, statements):
        """Median time of the bare SQL that produces the same answer, or None where it is PostgreSQL-only."""
        if not self.postgres:
            return None

        def run():
            with self.connection.cursor() as cursor:
                for sql, params in statements:
                    cursor.execute(sql, params)
                    cursor.fetchall()

        return timed(run, self.options.reps, self.options.warmup)["median_ms"]

    def http(self, scenario, variant, path, sql=None, expect=200, uncached=False, **headers):
        """uncached: empty Django's cache before every request, so that nothing the
        application may keep there (a rendered page, say) answers for it."""
        from django.core.cache import cache

        peak_rss_reset()
        if uncached:
            fetch = lambda: (cache.clear(), self.get(path, expect, **headers))  # noqa: E731
        else:
            fetch = lambda: self.get(path, expect, **headers)  # noqa: E731
        figures = timed(fetch, self.options.reps, self.options.warmup)
        row = {"scenario": scenario, "variant": variant, "path": path, **figures, "queries": self.queries(fetch)}
        if sql:
            row["sql_median_ms"] = self.sql(sql)
            if row["sql_median_ms"]:
                row["ratio_to_sql"] = round(row["median_ms"] / row["sql_median_ms"], 1)
        row["peak_rss_mb"] = peak_rss_mb()
        return self.record(row)


# --- The world the scenarios look at ----------------------------------------------------


def pick_world(year):
    """Users, a province, a city, a district, a programme and a target, all from the generated data."""
    from django.contrib.auth.models import Group, User
    from django.db.models import Count
    from rest_framework.authtoken.models import Token

    from tracking.models import Membership, Programme, Region, Target

    if not Programme.objects.filter(year=year).exists():
        raise SystemExit(f"no programmes for {year}: run manage.py generate_scale_data first")
    province = (
        Region.objects.filter(level=Region.Level.PROVINCE)
        .annotate(n=Count("children__children"))
        .order_by("-n", "code")
        .first()
    )
    city = (
        Region.objects.filter(level=Region.Level.CITY, parent=province)
        .annotate(n=Count("children"))
        .order_by("-n", "code")
        .first()
    )
    programme = (
        Programme.objects.filter(year=year, region__parent=city).annotate(n=Count("targets")).order_by("-n", "pk").first()
    )
    target = (
        Target.objects.filter(programme=programme, aggregation=Target.Aggregation.SUM)
        .annotate(n=Count("reports"))
        .order_by("-n", "pk")
        .first()
    )

    def user(username, region=None, role=None, superuser=False):
        account, _ = User.objects.get_or_create(username=username)
        account.is_staff, account.is_superuser, account.is_active = True, superuser, True
        account.set_unusable_password()
        account.save()
        if region is not None:
            Membership.objects.update_or_create(user=account, defaults={"region": region, "role": role})
            group = {"reporter": "填报员", "manager": "管理员", "reviewer": "审核员"}[role]
            account.groups.set([Group.objects.get(name=group)])
        token, _ = Token.objects.get_or_create(user=account)
        return account, token.key

    national, national_token = user("bench_national", superuser=True)
    clerk, clerk_token = user("bench_clerk", programme.region, "reporter")
    reviewer, reviewer_token = user("bench_city_reviewer", city, "reviewer")
    return {
        "year": year,
        "province": province,
        "city": city,
        "programme": programme,
        "target": target,
        "national": national,
        "national_token": national_token,
        "clerk": clerk,
        "clerk_token": clerk_token,
        "reviewer": reviewer,
    }


# --- Bare SQL, the yardstick ---------------------------------------------------------------

# with_progress() written by hand: the figures every target row carries.
TARGET_FIGURES = """
    t.cached_progress AS progress,
    t.cached_last_reported_on AS last_reported_on,
    t.cached_pending_value AS pending_value,
    t.cached_pending_count AS pending_count,
    LEAST(GREATEST((%(today)s::date - t.period_start + 1)::float8 * 100.0
                   / GREATEST(t.due_date - t.period_start + 1, 1)::float8, 0.0), 100.0) AS expected,
    t.cached_completion AS completion
"""
STATUS = """
    CASE WHEN x.completion >= 100 THEN 'achieved'
         WHEN x.progress IS NOT NULL AND x.target_value IS NULL THEN 'reported'
         WHEN x.due_date < %(today)s THEN 'overdue'
         WHEN x.completion < x.expected - %(tolerance)s
              OR (x.completion IS NULL AND x.expected > %(tolerance)s) THEN 'behind'
         WHEN x.progress IS NULL THEN 'not_started'
         ELSE 'on_track' END AS status
"""


def sql_params(**extra):
    from django.conf import settings
    from django.utils import timezone

    return {"today": timezone.localdate(), "tolerance": settings.TRACKING_BEHIND_TOLERANCE, **extra}


def targets_page_sql(year, offset, limit):
    # The page's ids first, from the narrow ordered rows, then their joins:
    # the cheapest shape for a deep OFFSET.
    page = f"""
        SELECT x.*, {STATUS} FROM (
            SELECT t.id, t.programme_id, p.region_id, i.number AS item_number, i.title AS item_title,
                   i.category, t.code, t.code_key, t.name, t.unit, t.measure, t.aggregation, t.target_value, t.due_date,
                   t.updated_at, {TARGET_FIGURES}
            FROM tracking_target t
            JOIN tracking_programme p ON p.id = t.programme_id
            JOIN tracking_item i ON i.id = t.item_id
            WHERE t.id IN (
                SELECT t2.id FROM tracking_target t2
                WHERE t2.year = %(year)s ORDER BY t2.programme_id, t2.code_key, t2.id LIMIT %(limit)s OFFSET %(offset)s
            )
        ) x
        ORDER BY x.programme_id, x.code_key, x.id
    """
    count = "SELECT COUNT(*) FROM tracking_target t WHERE t.year = %(year)s"
    params = sql_params(year=year, limit=limit, offset=offset)
    return [(count, params), (page, params)]


def programme_detail_sql(programme_id):
    programme = "SELECT * FROM tracking_programme WHERE id = %(id)s"
    rows = f"""
        SELECT x.*, {STATUS} FROM (
            SELECT i.id AS item_id, i.number, i.title, i.text, i.category, t.id, t.code, t.name, t.unit,
                   t.measure, t.aggregation, t.target_value, t.due_date, {TARGET_FIGURES}
            FROM tracking_item i
            JOIN tracking_programme p ON p.id = i.programme_id
            LEFT JOIN tracking_target t ON t.item_id = i.id
            WHERE i.programme_id = %(id)s
            ORDER BY i.number, t.code_key, t.id
        ) x
    """
    params = sql_params(id=programme_id)
    return [(programme, params), (rows, params)]


def summary_grouping(province_code):
    """The group of a programme's region d (with parent c): its province, or its city within one province."""
    if province_code is None:
        key = "CASE WHEN d.parent_id IS NULL THEN d.code WHEN c.parent_id IS NULL THEN c.code ELSE c.parent_id END"
        return key, ""
    key = "CASE WHEN d.parent_id = %(region)s THEN d.code WHEN c.parent_id = %(region)s THEN c.code ELSE d.code END"
    return key, "AND (d.code = %(region)s OR d.parent_id = %(region)s OR c.parent_id = %(region)s)"


def summary_sql(year, province_code=None):
    """The summary as the service computes it: the programme tallies of the year that hold
    today, added up per province (or per city of one province)."""
    key, scope = summary_grouping(province_code)
    sql = f"""
        SELECT g.code, g.name, SUM(s.targets), SUM(s.not_started), SUM(s.on_track), SUM(s.behind),
               SUM(s.overdue), SUM(s.achieved), SUM(s.reported), SUM(s.completion_sum), SUM(s.with_value), SUM(s.pending_reports)
        FROM tracking_programmetally s
        JOIN tracking_programme p ON p.id = s.programme_id
        JOIN tracking_region d ON d.code = p.region_id
        LEFT JOIN tracking_region c ON c.code = d.parent_id
        JOIN tracking_region g ON g.code = {key}
        WHERE s.year = %(year)s AND s.targets > 0 AND s.tolerance = %(tolerance)s {scope}
          AND (s.counted_on = %(today)s
               OR (s.counted_on < %(today)s AND (s.valid_until IS NULL OR s.valid_until >= %(today)s)))
        GROUP BY g.code, g.name
    """
    return [(sql, sql_params(year=year, region=province_code))]


def summary_from_targets_sql(year, province_code=None):
    """The same figures from the targets, without tallies: each target's status computed once,
    grouped with its province (or city) and status; folding the statuses is trivial."""
    key, scope = summary_grouping(province_code)
    sql = f"""
        SELECT g.code, g.name, s.status, COUNT(*) AS targets,
               SUM(COALESCE(s.completion, 0.0)) FILTER (WHERE s.target_value IS NOT NULL) AS completion_sum,
               COUNT(*) FILTER (WHERE s.target_value IS NOT NULL) AS with_value,
               COALESCE(SUM(s.pending_count), 0) AS pending_reports
        FROM (
            SELECT x.*, {STATUS} FROM (
                SELECT {key} AS group_code, t.target_value, t.due_date, {TARGET_FIGURES}
                FROM tracking_target t
                JOIN tracking_programme p ON p.id = t.programme_id
                JOIN tracking_region d ON d.code = p.region_id
                LEFT JOIN tracking_region c ON c.code = d.parent_id
                WHERE t.year = %(year)s {scope}
            ) x
        ) s
        JOIN tracking_region g ON g.code = s.group_code
        GROUP BY g.code, g.name, s.status
    """
    return [(sql, sql_params(year=year, region=province_code))]


def history_sql(target_id):
    sql = """
        SELECT period_end, value, SUM(value) OVER (ORDER BY period_end) AS progress
        FROM tracking_progressreport
        WHERE target_id = %(id)s AND status = 'approved'
        ORDER BY period_end
    """
    return [("SELECT id, aggregation, target_value FROM tracking_target WHERE id = %(id)s", {"id": target_id}),
            (sql, {"id": target_id})]


def admin_page_sql(city_code, limit):
    subtree = "(d.code = %(city)s OR d.parent_id = %(city)s OR c.parent_id = %(city)s)"
    page = f"""
        SELECT x.*, {STATUS} FROM (
            SELECT t.id, t.name, t.unit, t.target_value, t.due_date, d.name AS region, p.year, p.kind, i.number,
                   {TARGET_FIGURES}
            FROM tracking_target t
            JOIN tracking_programme p ON p.id = t.programme_id
            JOIN tracking_item i ON i.id = t.item_id
            JOIN tracking_region d ON d.code = p.region_id
            LEFT JOIN tracking_region c ON c.code = d.parent_id
            WHERE {subtree}
            ORDER BY p.region_id, p.year DESC, p.kind, i.number, t.code_key, t.id DESC
            LIMIT %(limit)s
        ) x
    """
    count = f"""
        SELECT COUNT(*) FROM tracking_target t
        JOIN tracking_programme p ON p.id = t.programme_id
        JOIN tracking_region d ON d.code = p.region_id
        LEFT JOIN tracking_region c ON c.code = d.parent_id
        WHERE {subtree}
    """
    params = sql_params(city=city_code, limit=limit)
    return [(count, params), (page, params)]


# --- Scenarios ---------------------------------------------------------------------------


def scenario_targets_page(bench, world):
    year, auth = world["year"], {"HTTP_AUTHORIZATION": f"Token {world['national_token']}"}
    size = bench.options.page_size
    first = f"/api/v1/targets/?year={year}&page_size={size}"
    total = bench.get(first, **auth).json()["count"]
    deep = min(bench.options.deep_page, max(1, -(-total // size)))
    deep_path, deep_sql = f"{first}&page={deep}", targets_page_sql(year, (deep - 1) * size, size)
    bench.http("targets-page", "first", first, targets_page_sql(year, 0, size), **auth)
    bench.http("targets-page", "deep", deep_path, deep_sql, **auth)
    bench.http("targets-page", "first uncached", first, targets_page_sql(year, 0, size), uncached=True, **auth)
    bench.http("targets-page", "deep uncached", deep_path, deep_sql, uncached=True, **auth)


def scenario_programme_detail(bench, world):
    programme = world["programme"]
    auth = {"HTTP_AUTHORIZATION": f"Token {world['clerk_token']}"}
    path, sql = f"/api/v1/programmes/{programme.pk}/", programme_detail_sql(programme.pk)
    bench.http("programme-detail", "district", path, sql, **auth)
    bench.http("programme-detail", "district uncached", path, sql, uncached=True, **auth)


def scenario_summary(bench, world):
    year, province = world["year"], world["province"]
    auth = {"HTTP_AUTHORIZATION": f"Token {world['national_token']}"}
    from tracking.models import Programme, ProgrammeTally

    current = ProgrammeTally.objects.current().filter(year=year).count()
    bench.say(f"  {current:,} of {Programme.objects.filter(year=year).count():,} programmes of {year} have a current tally "
              "(the others are summarised target by target; `manage.py recount_tallies` recounts them)")
    for variant, code, query in (("by-province", None, ""), ("one-province", province.code, f"&region={province.code}")):
        row = bench.http(
            "summary-national", variant, f"/api/v1/summary/?year={year}&group_by=region{query}",
            summary_sql(year, code), **auth,
        )
        # What the tallies save: the bare SQL that judges every target instead.
        row["sql_from_targets_ms"] = bench.sql(summary_from_targets_sql(year, code))
        bench.say(f"    without tallies, the bare SQL takes {row['sql_from_targets_ms']} ms")


def scenario_history(bench, world):
    target = world["target"]
    auth = {"HTTP_AUTHORIZATION": f"Token {world['clerk_token']}"}
    bench.http("history", "one-target", f"/api/v1/targets/{target.pk}/history/", history_sql(target.pk), **auth)


def scenario_admin(bench, world):
    bench.client.force_login(world["reviewer"])
    try:
        bench.http("admin-changelist", "city-reviewer", "/admin/tracking/target/", admin_page_sql(world["city"].code, 50))
    finally:
        bench.client.logout()


def scenario_peer(bench, world):
    from django.test import override_settings

    year, size = world["year"], bench.options.page_size
    auth = {"HTTP_AUTHORIZATION": f"Token {world['national_token']}"}
    ours = next(r for r in bench.results if (r["scenario"], r["variant"]) == ("targets-page", "first uncached"))
    reps, warmup = bench.options.reps, bench.options.warmup
    # The peer is an order of magnitude slower; fewer repetitions say as much.
    bench.options.reps, bench.options.warmup = max(3, reps // 10), 1
    try:
        with override_settings(ROOT_URLCONF="benchmarks.urls"):
            ours_body = bench.get(f"/api/v1/targets/?year={year}&page_size={size}", **auth).json()
            peer_body = bench.get(f"/bench/peer/targets/?year={year}&page_size={size}", **auth).json()
            same = same_figures(ours_body["results"], peer_body["results"])
            row = bench.http("peer", "targets-page", f"/bench/peer/targets/?year={year}&page_size={size}", **auth)
    finally:
        bench.options.reps, bench.options.warmup = reps, warmup
    row["speedup"] = round(row["median_ms"] / ours["median_ms"], 1)
    row["same_answer"] = same
    bench.say(f"  our targets page is {row['speedup']}x faster than the peer (same figures: {same})")


def same_figures(ours, theirs):
    fields = ("id", "progress", "completion", "status", "last_reported_on", "pending_count")

    def norm(value):
        return round(float(value), 6) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    return [tuple(norm(r.get(f)) for f in fields) for r in ours] == [tuple(norm(r.get(f)) for f in fields) for r in theirs]


def import_rows(year, count):
    """`count` new reports for the targets of `year`, dated mid-month so none exists yet, as CSV bytes."""
    import datetime

    from django.utils import timezone

    from tracking.importing import COLUMNS
    from tracking.models import ProgressReport, Target

    today = timezone.localdate()
    dates = [
        datetime.date(year, m, 15 if m != 2 else 14)
        for m in range(1, 13)
        if datetime.date(year, m, 15) <= today
    ]
    taken = set(
        ProgressReport.objects.filter(target__programme__year=year, period_end__in=dates).values_list("target_id", "period_end")
    )
    targets = (
        Target.objects.filter(programme__year=year)
        .order_by("pk")
        .values_list("pk", "programme__region_id", "programme__kind", "item__number", "code")
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([COLUMNS[c][0] for c in ("region", "year", "kind", "item", "target", "period_end", "value", "qualifier", "note")])
    written = 0
    for pk, region, kind, item, code in targets.iterator(chunk_size=5000):
        for day in dates:
            if (pk, day) in taken:
                continue
            writer.writerow([region, year, kind, item, code, day.isoformat(), (pk * 7 + day.month) % 500, "", "批量导入"])
            written += 1
            if written == count:
                return out.getvalue().encode("utf-8"), written
    return out.getvalue().encode("utf-8"), written


def scenario_import(bench, world):
    from django.db import connection
    from django.db.models import Max

    from tracking import months
    from tracking.importing import import_reports, read_table
    from tracking.models import Programme, ProgressReport

    year = bench.options.import_year or world["year"]
    data, count = import_rows(year, bench.options.import_rows)
    bench.say(f"  import: {count:,} rows ({len(data) / 1e6:.1f} MB of CSV) for {year}")
    history = ProgressReport.history.model

    rates, total_rates, samples = [], [], []
    peak_rss_reset()
    for _ in range(bench.options.import_reps):
        before = ProgressReport.objects.aggregate(m=Max("pk"))["m"] or 0
        file = io.BytesIO(data)
        file.name = "reports.csv"
        started = time.perf_counter()
        rows = read_table(file)
        parsed = time.perf_counter()
        result = import_reports(user=world["national"], rows=rows, dry_run=False)
        done = time.perf_counter()
        del rows
        if not result.ok or result.created != count:
            raise RuntimeError(f"import failed: created {result.created}, errors {result.errors[:5]}")
        samples.append((done - started) * 1000)
        rates.append(count / (done - parsed))
        total_rates.append(count / (done - started))
        # Put the database back as it was, so that every repetition and
        # every later scenario sees the same data.
        history.objects.filter(id__gt=before)._raw_delete(connection.alias)
        ProgressReport.objects.filter(pk__gt=before)._raw_delete(connection.alias)
        # Behind the services' back, so the months the import counted are recounted (verify_progress agrees).
        months.recount(Programme.objects.filter(year=year).values_list("pk", flat=True))
    rss = peak_rss_mb()
    row = {
        "scenario": "import",
        "variant": "100k" if count == 100_000 else f"{count}",
        "rows": count,
        "median_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 0.95), 1),
        "rows_per_s": round(statistics.median(rates)),
        "rows_per_s_with_csv_parsing": round(statistics.median(total_rates)),
        "peak_rss_mb": rss,
    }
    if bench.postgres:
        copy_rates = []
        for _ in range(bench.options.import_reps):
            with connection.cursor() as cursor:
                cursor.execute(
                    "CREATE TEMP TABLE bench_import (region text, year int, kind text, item int, target text, "
                    "period_end date, value numeric(20,4), qualifier text, note text)"
                )
                started = time.perf_counter()
                with cursor.cursor.copy("COPY bench_import FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                    copy.write(data)
                copy_rates.append(count / (time.perf_counter() - started))
                cursor.execute("DROP TABLE bench_import")
        row["copy_rows_per_s"] = round(statistics.median(copy_rates))
        row["ratio_to_copy"] = round(row["copy_rows_per_s"] / row["rows_per_s"], 1)
        with connection.cursor() as cursor:
            if not connection.in_atomic_block:
                cursor.execute("VACUUM ANALYZE tracking_progressreport, tracking_historicalprogressreport")
    bench.record(row)


# --- Throughput through gunicorn ---------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_pids(master):
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(entry.name))
    return pids


def wrk(url, headers, seconds, connections):
    # A 10 s timeout, so that slow answers count as slow rather than as errors.
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = int(non_2xx.group(1)) if non_2xx else 0
    socket_errors = sum(map(int, socket_errors.groups())) if socket_errors else 0
    latency = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    p50 = None
    if latency:
        p50 = float(latency.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[latency.group(2)]
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return {
        "requests_per_s": round(rate), "requests": requests, "errors": non_2xx + socket_errors,
        "non_2xx_3xx": non_2xx, "socket_errors": socket_errors, "wrk_p50_ms": p50,
    }


def scenario_throughput(bench, world):
    if bench.options.skip_wrk:
        bench.say("  throughput: skipped (--skip-wrk)")
        return
    if shutil.which("wrk") is None:
        bench.say("  throughput: skipped, wrk is not installed (apt-get install wrk)")
        return
    if not bench.postgres or bench.connection.in_atomic_block:
        bench.say("  throughput: skipped, needs committed data in PostgreSQL")
        return
    port = free_port()
    env = {**os.environ, **BENCH_ENV, "PYTHONPATH": str(ROOT)}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = open(bench.options.gunicorn_log, "w")
    server = subprocess.Popen(
        [str(gunicorn), "config.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT),
         # Applies BENCH_SWITCH_OFF in each worker, as setup_django() does here.
         "--config", str(ROOT / "benchmarks" / "gunicorn_switch.py")],
        env=env, stdout=log, stderr=log, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    path = f"/api/v1/targets/?year={world['year']}&page_size={bench.options.page_size}"
    headers = {"Authorization": f"Token {world['national_token']}"}
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        request = urllib.request.Request(base + path, headers=headers)
        for _ in range(10):  # warm both workers' connections and caches
            with urllib.request.urlopen(request) as response:
                etag = response.headers["ETag"]
        check = urllib.request.Request(base + path, headers={**headers, "If-None-Match": etag})
        try:
            urllib.request.urlopen(check)
            raise RuntimeError("revalidation with the ETag did not answer 304")
        except urllib.error.HTTPError as error:
            if error.code != 304:
                raise
        seconds, connections = bench.options.wrk_seconds, bench.options.wrk_connections
        # Discarded: the workers' first requests under load (imports, connections, caches)
        # would otherwise count against the first variant.
        wrk(base + path, headers, 3, connections)
        for variant, extra in (("targets-page", {}), ("304", {"If-None-Match": etag})):
            figures = wrk(base + path, {**headers, **extra}, seconds, connections)
            rss = max((peak_rss_mb(pid) for pid in worker_pids(server.pid)), default=None)
            bench.record({"scenario": "throughput", "variant": variant, "seconds": seconds,
                          "connections": connections, **figures, "worker_peak_rss_mb": rss})
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


SCENARIOS = {
    "targets-page": scenario_targets_page,
    "programme-detail": scenario_programme_detail,
    "summary": scenario_summary,
    "history": scenario_history,
    "admin": scenario_admin,
    "peer": scenario_peer,
    "import": scenario_import,
    "throughput": scenario_throughput,
}


# --- Report ------------------------------------------------------------------------------


def goals(results):
    by_key = {f"{r['scenario']}/{r['variant']}": r for r in results}
    verdicts = []
    for key, (figure, bound, sense) in GOALS.items():
        row = by_key.get(key.removesuffix(" rss"))
        value = row.get(figure) if row else None
        if value is None:
            verdicts.append({"goal": key, "figure": figure, "bound": bound, "value": None, "met": None})
            continue
        met = value <= bound if sense == "max" else value >= bound
        if key.startswith("throughput/"):
            met = met and row.get("errors") == 0
        verdicts.append({"goal": key, "figure": figure, "bound": bound, "value": value, "met": met})
    worst = max((r["queries"] for r in results if "queries" in r and r["scenario"] != "peer"), default=None)
    verdicts.append({"goal": "queries per request (all but peer)", "figure": "queries", "bound": MAX_QUERIES,
                     "value": worst, "met": None if worst is None else worst <= MAX_QUERIES})
    return verdicts


def table(results, verdicts):
    columns = ["scenario", "variant", "median_ms", "p95_ms", "cpu_ms", "queries", "sql_median_ms", "ratio_to_sql",
               "peak_rss_mb", "extra"]
    lines = []
    for r in results:
        extra = {k: v for k, v in r.items() if k not in columns and k not in ("path",)}
        cells = [r.get(c, "") for c in columns[:-1]] + [", ".join(f"{k}={v}" for k, v in extra.items())]
        lines.append(cells)
    widths = [max(len(str(c)) for c in column) for column in zip(columns, *lines)]
    render = lambda cells: " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    text = [render(columns), "-+-".join("-" * w for w in widths), *map(render, lines), "", "goals:"]
    for v in verdicts:
        mark = {True: "met", False: "NOT MET", None: "not measured"}[v["met"]]
        text.append(f"  {v['goal']}: {v['figure']} {v['value']} (goal {'<=' if 'rss' in v['goal'] or v['figure'] in ('median_ms', 'queries') else '>='} {v['bound']}) — {mark}")
    return "\n".join(text)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--reps", type=int, default=50, help="timed requests per scenario")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--deep-page", type=int, default=500)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--import-reps", type=int, default=3)
    parser.add_argument("--import-year", type=int, help="year whose targets receive the imported rows (default: --year)")
    parser.add_argument("--wrk-seconds", type=int, default=30)
    parser.add_argument("--wrk-connections", type=int, default=16)
    parser.add_argument("--skip-wrk", action="store_true")
    parser.add_argument("--gunicorn-log", default=os.devnull)
    parser.add_argument("--only", nargs="*", choices=list(SCENARIOS), help="run only these scenarios")
    return parser.parse_args(argv)


def run(options, out=sys.stdout):
    """Run the scenarios on the current database connection; returns the results and verdicts."""
    import logging

    # The request log is part of every request; keep its cost, drop its output.
    devnull = open(os.devnull, "w")
    silenced = [h for h in logging.getLogger().handlers if getattr(h, "stream", None) in (sys.stdout, sys.__stdout__)]
    streams = [h.setStream(devnull) for h in silenced]
    try:
        return _run(options, out)
    finally:
        for handler, stream in zip(silenced, streams):
            handler.setStream(stream)
        devnull.close()


def machine_speed(bench):
    """Two yardsticks that depend on the machine only, so that runs on different machines compare.

    Shared virtual machines of the same size differ by a factor of two or
    more; every latency above moves with these.
    """
    def best(fn, times=5):
        samples = []
        for _ in range(times):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1000)
        return round(min(samples), 1)

    speed = {"python_sum_1e6_ms": best(lambda: sum(range(1_000_000)))}
    if bench.postgres:
        def count():
            with bench.connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM generate_series(1, 1000000)")
        speed["postgres_count_1e6_ms"] = best(count)
    return speed


def _run(options, out):
    from django.db import connection

    bench = Bench(options, out)
    load_before = os.getloadavg()
    database_settings = {}
    if bench.postgres:
        with connection.cursor() as cursor:
            for name in ("server_version", "shared_buffers", "work_mem", "random_page_cost", "jit", "max_parallel_workers_per_gather"):
                cursor.execute(f"SHOW {name}")
                database_settings[name] = cursor.fetchone()[0]
        bench.say("postgresql: " + ", ".join(f"{k}={v}" for k, v in database_settings.items()))
    speed = machine_speed(bench)
    bench.say("machine speed: " + ", ".join(f"{k}={v}" for k, v in speed.items()))
    world = pick_world(options.year)
    bench.say(
        f"database {connection.vendor} {connection.settings_dict['NAME']}; year {world['year']}; "
        f"province {world['province'].code}, city {world['city'].code}, programme {world['programme'].pk}, "
        f"target {world['target'].pk}"
    )
    for name, scenario in SCENARIOS.items():
        if options.only and name not in options.only:
            continue
        bench.say(f"{name} …")
        scenario(bench, world)
    verdicts = goals(bench.results)
    notes = []
    if not bench.postgres:
        notes.append("bare-SQL and COPY comparisons skipped: they are written for PostgreSQL")
    load_after = os.getloadavg()
    notes.append(f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    bench.say("")
    bench.say(table(bench.results, verdicts))
    for note in notes:
        bench.say(f"note: {note}")
    report = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    **speed},
        "database": connection.vendor,
        "database_settings": database_settings,
        "options": {k: v for k, v in vars(options).items() if k != "database_url"},
        "results": bench.results,
        "goals": verdicts,
        "notes": notes,
    }
    if options.out:
        Path(options.out).write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        bench.say(f"results written to {options.out}")
    return report


if __name__ == "__main__":
    options = parse_args(sys.argv[1:])
    setup_django(options.database_url)
    run(options)
