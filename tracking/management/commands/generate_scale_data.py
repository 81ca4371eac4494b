"""Synthetic national-scale data for benchmarks: provinces, cities, districts,
their yearly plans, targets and monthly reports.

Rows are streamed with COPY on PostgreSQL (bulk_create on SQLite, for the
smoke test) and the stored totals are recomputed in SQL at the end, so the
result is indistinguishable from data entered through the workflow as far as
with_progress() and verify_progress are concerned.
"""

import calendar
import datetime
import random
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from tracking import months, tallies, totals
from tracking.models import Item, Programme, ProgressReport, Region, Target
from tracking.models.targets import code_key

# The seed fixtures' regions. Generated codes skip them so that `manage.py seed`
# still loads into a generated database; 320000 is only created (identically
# to the fixture) when it is missing, since Jiangsu has no other code.
SEED_CODES = {"320000", "320500", "320600", "321100", "320582", "320583", "320612", "321102"}

# The 31 provincial-level divisions of the mainland, with their real code prefixes.
PROVINCES = [
    ("11", "北京市"), ("12", "天津市"), ("13", "河北省"), ("14", "山西省"), ("15", "内蒙古自治区"),
    ("21", "辽宁省"), ("22", "吉林省"), ("23", "黑龙江省"), ("31", "上海市"), ("32", "江苏省"),
    ("33", "浙江省"), ("34", "安徽省"), ("35", "福建省"), ("36", "江西省"), ("37", "山东省"),
    ("41", "河南省"), ("42", "湖北省"), ("43", "湖南省"), ("44", "广东省"), ("45", "广西壮族自治区"),
    ("46", "海南省"), ("50", "重庆市"), ("51", "四川省"), ("52", "贵州省"), ("53", "云南省"),
    ("54", "西藏自治区"), ("61", "陕西省"), ("62", "甘肃省"), ("63", "青海省"), ("64", "宁夏回族自治区"),
    ("65", "新疆维吾尔自治区"),
]
NAME_CHARS = "安平临江阳山河东西南北新华兴宁德昌丰泰和顺广永清城台湖川海林石云源溪坪桥庄岭"

ITEMS = [
    ("political", "深化职工思想政治引领", "开展“中国梦·劳动美”主题宣讲，推动党的创新理论进企业、进车间。"),
    ("skills", "开展职工技能提升行动", "组织劳动和技能竞赛，建设劳模和工匠人才创新工作室。"),
    ("rights", "维护职工合法权益", "推进集体协商，开展法律援助和劳动争议调解。"),
    ("services", "实施夏送清凉冬送温暖", "走访慰问一线职工和困难职工，发放慰问金和防暑降温物资。"),
    ("services", "做好困难职工帮扶", "落实困难职工解困脱困，开展医疗互助和金秋助学。"),
    ("culture", "丰富职工文化生活", "举办职工运动会和文艺汇演，建设职工书屋。"),
    ("organisation", "加强基层工会建设", "推进新就业形态劳动者入会，建设职工之家。"),
    ("reform", "推进产业工人队伍建设改革", "完善产业工人技能评价和激励机制。"),
    ("services", "建设户外劳动者服务站点", "新建和提升“职工驿站”，方便户外劳动者歇脚。"),
    ("services", "开展职工疗休养", "组织劳模和一线职工疗休养。"),
]
# (name, unit, measure, aggregation, low, high): the target value is drawn from [low, high].
TARGET_KINDS = [
    ("一线职工送清凉", "名", "count", "sum", 3000, 20000),
    ("职工技能培训", "人次", "count", "sum", 500, 6000),
    ("困难职工帮扶资金", "元", "amount", "sum", 100_000, 5_000_000),
    ("职工医疗互助参保率", "%", "percentage", "latest", 60, 95),
    ("新建职工之家", "个", "count", "sum", 5, 60),
    ("法律援助案件", "件", "count", "sum", 50, 600),
    ("工会组建率", "%", "percentage", "latest", 80, 98),
    ("智慧工会平台上线", "项", "milestone", "latest", 1, 1),
    ("理论宣讲", "场", "count", "sum", 50, 200),
    ("职工疗休养", "人次", "count", "sum", 100, 2000),
    ("送温暖慰问金", "元", "amount", "sum", 200_000, 3_000_000),
    ("集体合同签订率", "%", "percentage", "latest", 85, 99),
    ("职工书屋", "家", "count", "sum", 5, 40),
    ("户外劳动者服务站点", "个", "count", "sum", 10, 80),
    ("新就业形态劳动者入会", "人", "count", "sum", 500, 8000),
    ("劳模创新工作室", "个", "count", "sum", 2, 20),
]
STATUSES = ["approved"] * 90 + ["submitted"] * 5 + ["draft"] * 3 + ["returned"] * 2
QUALIFIERS = ["exact"] * 17 + ["at_least", "more_than", "about"]
NOW_NOTE = "由 generate_scale_data 生成"


def month_ends(year, today):
    ends = [datetime.date(year, m, calendar.monthrange(year, m)[1]) for m in range(1, 13)]
    return [d for d in ends if d <= today]


def split(total, parts, rng):
    """total split into `parts` positive, uneven counts (parts <= total)."""
    weights = [rng.uniform(0.4, 1.6) for _ in range(parts)]
    scale = (total - parts) / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    for i in range(total - sum(counts)):
        counts[i % parts] += 1
    return counts


def region_name(rng, suffix, taken):
    """A unique name; two characters run out after about a thousand per suffix."""
    for attempt in range(1000):
        length = 2 if attempt < 20 else 3
        name = "".join(rng.choice(NAME_CHARS) for _ in range(length)) + suffix
        if name not in taken:
            taken.add(name)
            return name
    raise CommandError("ran out of region names")


class Loader:
    """Appends rows with explicit ids: COPY on PostgreSQL, bulk_create elsewhere."""

    def __init__(self, stdout):
        self.stdout = stdout
        self.postgres = connection.vendor == "postgresql"

    def next_id(self, model):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX({model._meta.pk.column}) FROM {model._meta.db_table}")
            return (cursor.fetchone()[0] or 0) + 1

    def write(self, model, columns, rows):
        """rows: an iterable of tuples in the order of `columns` (attnames)."""
        started, count = time.monotonic(), 0
        if self.postgres:
            names = ", ".join(model._meta.get_field(c).column for c in columns)
            with connection.cursor() as cursor:
                with cursor.cursor.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
        else:
            batch = []
            for row in rows:
                batch.append(model(**dict(zip(columns, row))))
                count += 1
                if len(batch) == 5000:
                    model.objects.bulk_create(batch)
                    batch = []
            model.objects.bulk_create(batch)
        self.stdout.write(f"  {model._meta.db_table}: {count:,} rows in {time.monotonic() - started:.1f} s")
        return count

    def reset_sequence(self, model):
        if self.postgres:
            table, column = model._meta.db_table, model._meta.pk.column
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                    f"(SELECT COALESCE(MAX({column}), 1) FROM {table}))"
                )


def copy_history(model, where_sql, params, history_date_sql="updated_at"):
    """One '+' history record per row of `model` matching where_sql, written by
    the database itself, so history costs one INSERT … SELECT rather than a
    second round of Python objects."""
    history = model.history.model
    source = {f.attname for f in model._meta.concrete_fields}
    columns, values = [], []
    for f in history._meta.concrete_fields:
        if f.attname == "history_id":
            continue
        columns.append(f.column)
        if f.attname in source:
            values.append(model._meta.get_field(f.attname).column)
        elif f.attname == "history_date":
            values.append(history_date_sql)
        elif f.attname == "history_type":
            values.append("'+'")
        elif f.attname in ("history_user_id", "history_change_reason"):
            values.append("NULL")
        else:
            raise CommandError(f"unexpected history column {f.attname}")
    sql = (
        f"INSERT INTO {history._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {model._meta.db_table} WHERE {where_sql}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


class Command(BaseCommand):
    help = (
        "Generate a synthetic national hierarchy (31 provinces, up to 333 cities, N districts) with yearly "
        "plans of 10 items and about 20 targets each, and monthly reports up to today. For benchmarks; "
        "run it on an empty, migrated database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--districts", type=int, default=2844)
        parser.add_argument("--years", type=int, default=5, help="the last N years, ending with the current one")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, districts, years, seed, **options):
        if districts < 1 or years < 1:
            raise CommandError("--districts and --years must be positive")
        if Region.objects.exclude(code__in=SEED_CODES).exists():
            raise CommandError("this database already holds generated regions; generate into a fresh database")
        started = time.monotonic()
        self.loader = Loader(self.stdout)
        self.rng = random.Random(seed)
        self.today = timezone.localdate()
        self.now = timezone.now()
        year_list = list(range(self.today.year - years + 1, self.today.year + 1))

        with transaction.atomic():
            district_codes = self.write_regions(districts)
            targets = self.write_plans(district_codes, year_list)
            self.write_reports(targets)
            self.stdout.write("recomputing stored totals …")
            step = time.monotonic()
            refreshed = refresh_all_totals()
            self.stdout.write(
                f"  {refreshed:,} targets, their programme tallies and months in {time.monotonic() - step:.1f} s"
            )
        # VACUUM cannot run inside a transaction, as when a test calls this command.
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            step = time.monotonic()
            with connection.cursor() as cursor:
                # Fresh statistics and visibility maps, so that the first
                # benchmark run sees the planner's steady-state choices.
                cursor.execute("VACUUM (ANALYZE)")
            self.stdout.write(f"vacuum analyze in {time.monotonic() - step:.1f} s")
        self.stdout.write(self.style.SUCCESS(f"done in {time.monotonic() - started:.1f} s"))

    # --- Regions ---------------------------------------------------------------

    def write_regions(self, districts):
        rng = self.rng
        n_provinces = min(len(PROVINCES), districts)
        n_cities = min(333, districts)
        provinces = PROVINCES[:n_provinces]
        cities_per_province = split(n_cities, n_provinces, rng)
        districts_per_city = split(districts, n_cities, rng)
        taken = set(Region.objects.values_list("name", flat=True))
        rows, district_codes, city_index = [], [], 0
        for (prefix, name), n_city in zip(provinces, cities_per_province):
            code = f"{prefix}0000"
            if code not in SEED_CODES or not Region.objects.filter(code=code).exists():
                rows.append((code, name, f"{name}总工会", "province", None))
            city_numbers = (n for n in range(1, 100) if f"{prefix}{n:02d}00" not in SEED_CODES)
            for _ in range(n_city):
                city_code = f"{prefix}{next(city_numbers):02d}00"
                city_name = region_name(rng, "市", taken)
                rows.append((city_code, city_name, f"{city_name}总工会", "city", code))
                numbers = (n for n in range(1, 100) if f"{city_code[:4]}{n:02d}" not in SEED_CODES)
                for _ in range(districts_per_city[city_index]):
                    district_code = f"{city_code[:4]}{next(numbers):02d}"
                    district_name = region_name(rng, rng.choice("区区区县市"), taken)
                    rows.append((district_code, district_name, f"{district_name}总工会", "district", city_code))
                    district_codes.append(district_code)
                city_index += 1
        self.stdout.write(f"regions: {n_provinces} provinces, {n_cities} cities, {districts} districts")
        self.loader.write(Region, ["code", "name", "union_name", "level", "parent_id"], rows)
        return district_codes

    # --- Programmes, items, targets --------------------------------------------

    def write_plans(self, district_codes, year_list):
        """Writes programmes, items and targets; returns what the reports need of each target."""
        rng, now = self.rng, self.now
        programme_id = first_programme = self.loader.next_id(Programme)
        item_id = first_item = self.loader.next_id(Item)
        target_id = first_target = self.loader.next_id(Target)
        programmes, items, targets, report_specs = [], [], [], []
        # Year by year, as plans are published: a year's targets then sit
        # together on disk, as they would in a database filled over the years.
        for year in year_list:
            for code in district_codes:
                start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
                programmes.append(
                    (programme_id, now, code, "annual_plan", f"{year}年为职工办实事项目", "", year, start, end, "")
                )
                per_item = split(20 + rng.randint(-2, 2), len(ITEMS), rng)
                for number, ((category, title, text), n_targets) in enumerate(zip(ITEMS, per_item), start=1):
                    items.append((item_id, now, programme_id, number, title, text, category))
                    for k in range(1, n_targets + 1):
                        name, unit, measure, aggregation, low, high = rng.choice(TARGET_KINDS)
                        if measure == "amount":
                            value = Decimal(rng.randrange(low // 1000, high // 1000 + 1) * 1000)
                        else:
                            value = Decimal(rng.randint(low, high))
                        if rng.random() < 0.05:
                            value = None  # only reported, no published target
                        code = f"{number}.{k}"
                        targets.append(
                            (target_id, now, programme_id, year, start, item_id, code, code_key(code), name, unit,
                             value, measure, aggregation, end, Decimal(0), 0)
                        )
                        report_specs.append((target_id, year, measure, aggregation, value))
                        target_id += 1
                    item_id += 1
                programme_id += 1
        self.stdout.write(f"plans: {len(programmes):,} programmes, {len(items):,} items, {len(targets):,} targets")
        self.loader.write(
            Programme,
            ["id", "updated_at", "region_id", "kind", "title", "description", "year", "period_start",
             "period_end", "source_document"],
            programmes,
        )
        self.loader.write(Item, ["id", "updated_at", "programme_id", "number", "title", "text", "category"], items)
        del programmes, items
        self.loader.write(
            Target,
            ["id", "updated_at", "programme_id", "year", "period_start", "item_id", "code", "code_key", "name", "unit",
             "target_value", "measure", "aggregation", "due_date", "cached_pending_value", "cached_pending_count"],
            targets,
        )
        del targets
        for model in (Programme, Item, Target):
            self.loader.reset_sequence(model)
        step = time.monotonic()
        written = sum(
            copy_history(model, "id >= %s", [first])
            for model, first in ((Programme, first_programme), (Item, first_item), (Target, first_target))
        )
        self.stdout.write(f"  history of plans: {written:,} rows in {time.monotonic() - step:.1f} s")
        return report_specs

    # --- Reports ---------------------------------------------------------------

    def write_reports(self, specs):
        first_report = self.loader.next_id(ProgressReport)
        self.stdout.write(f"reports for {len(specs):,} targets …")
        columns = ["id", "updated_at", "target_id", "period_end", "value", "qualifier", "note", "source_quote",
                   "evidence", "status", "submitted_at", "reviewed_at", "review_note", "created_at"]
        self.loader.write(ProgressReport, columns, self.report_rows(specs, first_report))
        self.loader.reset_sequence(ProgressReport)
        step = time.monotonic()
        written = copy_history(ProgressReport, "id >= %s", [first_report], history_date_sql="created_at")
        self.stdout.write(f"  history of reports: {written:,} rows in {time.monotonic() - step:.1f} s")

    def report_rows(self, specs, report_id):
        """Each target's monthly reports, target after target (specs are in year order).

        Within a year the rows go target by target rather than month by month:
        the indexes that start with the target then grow at their end, which
        keeps COPY several times faster than scattering every month's rows
        over the whole of them.
        """
        rng, today, now = self.rng, self.today, self.now
        tz = timezone.get_current_timezone()
        first_id, entered = report_id, {}
        every = max(len(specs) // 20, 1)
        for index, (target_id, year, measure, aggregation, target_value) in enumerate(specs):
            if index % every == 0:
                self.stdout.write(f"  … {year}: {index:,} of {len(specs):,} targets, {report_id - first_id:,} reports")
            if year not in entered:
                # Entered the day after the month ends.
                entered[year] = [
                    (end, min(datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(9), tz), now))
                    for end in month_ends(year, today)
                ]
            if rng.random() < 0.03:
                continue  # a target nobody has reported on yet
            reference = float(target_value) if target_value is not None else rng.uniform(100, 10000)
            pace = rng.uniform(0.6, 1.4)  # behind, on track or ahead of schedule
            done_in = rng.randint(3, 14)  # the month a milestone is reached, if at all
            level = reference * rng.uniform(0.3, 0.7)
            for number, (period_end, created) in enumerate(entered[year], start=1):
                if aggregation == "sum":
                    value = reference / 12 * pace * rng.uniform(0.5, 1.5)
                    value = str(round(value, 2) if measure == "amount" else round(value))
                elif measure == "milestone":
                    value = "1" if number >= done_in else "0"
                else:
                    level = min(100.0, level + reference * pace * rng.uniform(0, 0.08))
                    value = str(round(level, 1))
                status = rng.choice(STATUSES)
                submitted = reviewed = None
                if status != "draft":
                    submitted = min(submission_moment(rng, period_end, tz), now)
                if status in ("approved", "returned"):
                    reviewed = min(submitted + datetime.timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 6)), now)
                yield (
                    report_id, reviewed or submitted or created, target_id, period_end, value, rng.choice(QUALIFIERS),
                    "", "", "", status, submitted, reviewed, "请补充佐证材料" if status == "returned" else "",
                    min(created, submitted or created),
                )
                report_id += 1


# Days after the month's end on which a report is submitted: within the default due rule (5 days,
# TRACKING_REPORTING_DUE_DAYS) mostly, and about one in seven late by up to a week.
ON_TIME_DAYS, LATE_DAYS, LATE_SHARE = (1, 5), (6, 12), 0.14


def submission_moment(rng, period_end, tz):
    """When a report for `period_end` was submitted: a working hour some days after it, some of them late."""
    low, high = LATE_DAYS if rng.random() < LATE_SHARE else ON_TIME_DAYS
    day = period_end + datetime.timedelta(days=rng.randint(low, high))
    return datetime.datetime.combine(day, datetime.time(rng.randint(8, 17), rng.randint(0, 59)), tz)


def refresh_all_totals():
    """Every target's stored totals from its reports, in one set-based pass; then every programme tally and
    every programme's months (tracking.months.rebuild, one INSERT … SELECT).

    Equal to tracking.totals.refresh() (verify_progress checks it, and
    test_progress_rule.py on random data); it replaces 4 correlated subqueries per target by one scan of
    the reports, which on PostgreSQL is several times faster at full size.
    Other databases use tracking.totals.refresh() itself.
    """
    if connection.vendor != "postgresql":
        return totals.refresh(Target.objects.all())
    sql = """
        UPDATE tracking_target AS t SET
            cached_progress = CASE WHEN t.aggregation = %(sum)s THEN r.approved_sum ELSE r.latest_value END,
            cached_last_reported_on = r.latest_date,
            cached_pending_value = COALESCE(r.pending_value, 0),
            cached_pending_count = COALESCE(r.pending_count, 0),
            -- completion_of(): the same float arithmetic, so verify_progress finds it equal.
            cached_completion = CASE WHEN t.target_value > 0 THEN
                (CASE WHEN t.aggregation = %(sum)s THEN r.approved_sum ELSE r.latest_value END)::float8 * 100.0
                / t.target_value::float8 END,
            updated_at = now()
        FROM (
            SELECT target_id,
                   SUM(value) FILTER (WHERE status = %(approved)s) AS approved_sum,
                   (ARRAY_AGG(value ORDER BY period_end DESC) FILTER (WHERE status = %(approved)s))[1] AS latest_value,
                   MAX(period_end) FILTER (WHERE status = %(approved)s) AS latest_date,
                   SUM(value) FILTER (WHERE status = %(submitted)s) AS pending_value,
                   COUNT(*) FILTER (WHERE status = %(submitted)s) AS pending_count
            FROM tracking_progressreport
            GROUP BY target_id
        ) AS r
        WHERE r.target_id = t.id
    """
    params = {
        "sum": Target.Aggregation.SUM,
        "approved": ProgressReport.Status.APPROVED,
        "submitted": ProgressReport.Status.SUBMITTED,
    }
    # Targets without any report get what totals.refresh() stores for them:
    # the defaults, which they have unless something wrote over them.
    no_reports = """
        UPDATE tracking_target AS t SET
            cached_progress = NULL, cached_last_reported_on = NULL, cached_pending_value = 0,
            cached_pending_count = 0, cached_completion = NULL, updated_at = now()
        WHERE NOT EXISTS (SELECT FROM tracking_progressreport r WHERE r.target_id = t.id)
          AND (cached_progress IS NOT NULL OR cached_last_reported_on IS NOT NULL OR cached_pending_value <> 0
               OR cached_pending_count <> 0 OR cached_completion IS NOT NULL)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        updated = cursor.rowcount
        cursor.execute(no_reports)
        updated += cursor.rowcount
    tallies.recount(Programme.objects.values_list("pk", flat=True))
    months.rebuild()
    return updated
