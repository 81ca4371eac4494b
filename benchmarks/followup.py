#!/usr/bin/env python
"""Benchmark the follow-up (issue 16) at national scale: the completeness grid and send_reminders.

Run against a database filled by `manage.py generate_scale_data` (README, "Benchmarks"):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker_bench_followup .venv/bin/python benchmarks/followup.py \
        --day 2026-12-08 --day 2027-01-02 --out benchmarks/followup.json

Scenarios (each through the whole Django stack where a user would be, else the selector):
- a city's grid: the API's completeness/ for one city (about 10 districts × 12 months), as its reviewer;
- the country by province: completeness/ as a superuser without a region;
- send_reminders over the whole country on a day that chases one month and warns of the next: one
  reporter per district and one reviewer per city are created for it (and removed afterwards),
  mail goes to Django's in-memory backend; the count of digests and the peak RSS are reported;
- one report's writes through the services (create a draft, submit, approve), each rolled back: what
  keeping the stored figures (totals, tallies, months) costs a write.
Goals: ≤ 100 ms, ≤ 300 ms, ≤ 60 s. Each figure goes to --out with the load average when it was taken.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from run import peak_rss_mb, peak_rss_reset, setup_django  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tracker_bench_followup"
PREFIX = "bench_followup_"


def median_ms(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1] if len(times) > 1 else times[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--skip-reminders", action="store_true")
    parser.add_argument("--skip-grids", action="store_true")
    parser.add_argument("--skip-writes", action="store_true")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--day", action="append", default=[],
                        help="run send_reminders as on this day (YYYY-MM-DD); repeatable; default the 8th of as_of's month")
    args = parser.parse_args()
    setup_django(args.database_url)

    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.utils import timezone

    from tracking.access import grant_role
    from tracking.followup import reminders
    from tracking.models import Membership, Message, Programme, Region

    settings.ALLOWED_HOSTS = ["*"]
    today = timezone.localdate()
    year = Programme.objects.filter(kind="annual_plan").order_by("-year").values_list("year", flat=True).first()
    as_of = min(today, datetime.date(year, 12, 31))
    city = (
        Region.objects.filter(level="city", children__programmes__year=year).order_by("code").first()
    )
    districts = Region.objects.filter(parent=city).count()
    print(f"year {year}, as of {as_of}; city {city.code} {city.name} with {districts} districts")

    reviewer = grant_role(username=PREFIX + "city_reviewer", region_code=city.code, role="reviewer").user
    root = User.objects.filter(username=PREFIX + "root").first() or User.objects.create_superuser(PREFIX + "root")
    results = {}
    raw = {"as_of": as_of.isoformat(), "year": year, "city": city.code, "districts": districts, "runs": []}

    def record(**row):
        row["load_average"] = [round(x, 2) for x in os.getloadavg()]
        raw["runs"].append(row)

    for name, user, query in () if args.skip_grids else (
        ("city grid", reviewer, {"region": city.code, "year": year, "as_of": as_of}),
        ("country by province", root, {"year": year, "as_of": as_of}),
    ):
        client = Client()
        client.force_login(user)
        url = "/api/v1/completeness/"

        def request():
            from django.core.cache import cache
            cache.clear()  # no body kept for an ETag answers
            response = client.get(url, query)
            assert response.status_code == 200, response.content[:300]
            return response

        # Counted by a wrapper: the test client empties Django's query log at each request.
        queries = []

        def count(execute, sql, *rest, queries=queries):
            queries.append(sql)
            return execute(sql, *rest)

        with connection.execute_wrapper(count):
            data = request().json()
        median, p95 = median_ms(request, args.reps)
        results[name] = median
        record(scenario=name, median_ms=round(median, 1), p95_ms=round(p95, 1), reps=args.reps,
               queries=len(queries), rows=len(data["rows"]), periods=len(data["periods"]))
        print(f"{name}: median {median:.1f} ms, p95 {p95:.1f} ms, {len(queries)} queries, "
              f"{len(data['rows'])} rows × {len(data['periods'])} periods, "
              f"reporting rate {data['total']['reporting_rate']} %, on time {data['total']['on_time_rate']} %")

    if not args.skip_writes:
        write_steps(root, city, year, as_of, args.reps, record)

    if not args.skip_reminders:
        # One reporter per district and one reviewer per city, with addresses; the 8th of a month of the
        # plan's year: last month's reports are 3 days overdue.
        days = [datetime.date.fromisoformat(d) for d in args.day] or [datetime.date(year, max(as_of.month, 2), 8)]
        codes = list(Region.objects.filter(programmes__year=year, level="district").values_list("code", flat=True).distinct())
        cities = list(Region.objects.filter(level="city").values_list("code", flat=True))
        start = time.perf_counter()
        users = User.objects.bulk_create(
            [User(username=f"{PREFIX}r{code}", email=f"r{code}@example.cn", is_staff=True) for code in codes]
            + [User(username=f"{PREFIX}v{code}", email=f"v{code}@example.cn", is_staff=True) for code in cities]
        )
        by_name = {user.username: user for user in users}
        Membership.objects.bulk_create(
            [Membership(user=by_name[f"{PREFIX}r{code}"], region_id=code, role="reporter") for code in codes]
            + [Membership(user=by_name[f"{PREFIX}v{code}"], region_id=code, role="reviewer") for code in cities]
        )
        print(f"created {len(users)} users in {time.perf_counter() - start:.1f} s")
        for day in days:
            Message.objects.filter(key=day.isoformat()).delete()
            peak_rss_reset()
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                from django.core import mail
                mail.outbox = []
                start = time.perf_counter()
                counts = reminders.run(today=day)
                elapsed = time.perf_counter() - start
                again = time.perf_counter()
                second = reminders.run(today=day)
                elapsed_again = time.perf_counter() - again
            results["send_reminders"] = max(results.get("send_reminders", 0), elapsed)
            record(scenario="send_reminders", day=day.isoformat(), seconds=round(elapsed, 1), digests=counts["digests"],
                   sent=counts["sent"], mails=len(mail.outbox), failed=counts["failed"], peak_rss_mb=round(peak_rss_mb()),
                   second_run_seconds=round(elapsed_again, 1), second_run_sent=second["sent"])
            print(f"send_reminders on {day}: {elapsed:.1f} s, {counts['digests']} digests, {counts['sent']} sent "
                  f"({len(mail.outbox)} mails), {counts['failed']} failed, peak RSS {peak_rss_mb():.0f} MB; "
                  f"second run {elapsed_again:.1f} s, {second['sent']} sent")
        Message.objects.filter(user__username__startswith=PREFIX).delete()
        Membership.objects.filter(user__username__startswith=PREFIX).delete()
        User.objects.filter(username__startswith=PREFIX).delete()
    else:
        Membership.objects.filter(user__username__startswith=PREFIX).delete()
        User.objects.filter(username__startswith=PREFIX).delete()

    if args.out:
        import json
        Path(args.out).write_text(json.dumps(raw, indent=1, ensure_ascii=False) + "\n")

    goals = {"city grid": 100, "country by province": 300}
    for name, bound in goals.items():
        if name not in results:
            continue
        print(f"goal {name} ≤ {bound} ms: {'met' if results[name] <= bound else 'NOT met'} ({results[name]:.1f} ms)")
    if "send_reminders" in results:
        print(f"goal send_reminders ≤ 60 s: {'met' if results['send_reminders'] <= 60 else 'NOT met'} "
              f"({results['send_reminders']:.1f} s)")


def write_steps(user, city, year, as_of, reps, record):
    """What one report's life costs: create a draft, submit it, approve it, each through the services
    (their transaction, with every stored figure they keep); rolled back after each round."""
    from django.db import transaction

    from tracking import services
    from tracking.models import ProgressReport, Target

    day = as_of.replace(day=1) - datetime.timedelta(days=15)  # mid-month: the generated reports are month ends
    targets = list(
        Target.objects.filter(programme__region__parent=city, programme__year=year)
        .exclude(reports__period_end=day).select_related("programme").order_by("pk")[:reps + 2]
    )
    steps = {"create": [], "submit": [], "approve": []}
    for target in targets:
        with transaction.atomic():
            start = time.perf_counter()
            report = services.create_report(user=user, target=target, period_end=day, value=5)
            created = time.perf_counter()
            report = services.submit_report(user=user, report=ProgressReport.objects.get(pk=report.pk))
            submitted = time.perf_counter()
            services.approve_report(user=user, report=report)
            approved = time.perf_counter()
            transaction.set_rollback(True)
        steps["create"].append((created - start) * 1000)
        steps["submit"].append((submitted - created) * 1000)
        steps["approve"].append((approved - submitted) * 1000)
    for name, times in steps.items():
        times = sorted(times[2:])  # the first two warm up
        median = statistics.median(times)
        print(f"report write, {name}: median {median:.1f} ms over {len(times)}")
        record(scenario=f"report write: {name}", median_ms=round(median, 1), reps=len(times))


if __name__ == "__main__":
    main()
