"""The demo's living sample plan: Tongzhou's ten items carried over to this year, with reports through it.

`manage.py demo` (local mode only) loads it, so that a visitor sees bars
filled to different lengths, the statuses the date allows (on track, behind,
overdue, achieved, reported; not started only in the first weeks of a year,
since after that a target without progress is behind) and a review queue.
`seed`, which production runs, never does. Its title and description say it
is demo data; its figures are made up.

Written like the benchmark generator: rows in bulk, each with its history
record, then the stored totals and the tally recomputed by the progress rule
(tracking.totals.refresh), so it reads exactly like data that went through
the workflow.
"""

import datetime
from decimal import ROUND_CEILING, Decimal

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from . import services, totals
from .models import Item, Programme, ProgressReport, Target

DEMO_MARK = "【演示数据】"
SOURCE = ("320612", 2024, Programme.Kind.ANNUAL_PLAN)
Status = ProgressReport.Status

# What happens to each of the 2024 plan's targets this year. pace: approved
# progress as a share of the time elapsed (on track, ahead, behind); overdue:
# due half way to today with this share done; last: a report dated today
# (or the latest month end) still in review, in draft or sent back.
# On track at 1.0: approved up to the last month end, at most 31 days behind
# the time elapsed, which is within the tolerance of 10 points (36 days).
ON_TRACK, AHEAD, BEHIND = 1.0, 1.3, 0.3
SCENARIOS = {
    "1.1": {"pace": ON_TRACK, "last": Status.SUBMITTED},
    "2.1": {"milestone": True},
    "3.1": {"pace": BEHIND},
    "4.1": {"pace": ON_TRACK, "last": Status.SUBMITTED},
    "4.2": {"overdue": 0.4},
    "4.3": {"achieved": True},
    "5.1": {"returned": True},
    "5.2": {"pace": ON_TRACK, "last": Status.DRAFT},
    "6.1": {"pace": AHEAD},
    "6.2": {"pace": BEHIND, "last": Status.SUBMITTED},
    "6.3": {"pace": ON_TRACK},
    "7.1": {"overdue": 0.5, "last": Status.DRAFT},
    "8.1": {"pace": AHEAD, "last": Status.SUBMITTED},
    "9.1": {"pace": ON_TRACK},
    "9.2": {"pace": ON_TRACK, "last": Status.SUBMITTED},
    "9.3": {"silent": True},
    "10.1": {"pace": ON_TRACK, "last": Status.SUBMITTED},
}
# A figure reported without a target value, added to item 8.
REPORTED_FIGURE = {"code": "8.2", "name": "职工文体活动参与人次", "unit": "人次", "monthly": 2600}
RETURN_NOTE = "请补充活动签到表和照片后重新提交。"


def sample_plan_title(year):
    return f"{DEMO_MARK}通州区总工会{year}年度“为职工办实事”项目"


def load_sample_plan(*, reporter, reviewer, today=None):
    """Create this year's sample plan, once; returns (programme, created).

    Returns (None, False) when the 2024 plan it copies is missing, and the
    programme already there when Tongzhou has a plan for this year (a demo
    one from an earlier run, or a real one, which is left alone).
    """
    today = today or timezone.localdate()
    source = Programme.objects.filter(region_id=SOURCE[0], year=SOURCE[1], kind=SOURCE[2]).first()
    existing = Programme.objects.filter(region_id=SOURCE[0], year=today.year, kind=SOURCE[2]).first()
    if existing is not None or source is None:
        return existing, False
    with transaction.atomic():
        programme = services.save_programme(programme=Programme(
            region_id=SOURCE[0], kind=SOURCE[2], year=today.year, title=sample_plan_title(today.year),
            description=(
                f"演示数据：由 manage.py demo 生成，供试用。事项和指标沿用通州区总工会{SOURCE[1]}年度十项实事，"
                "填报数值为虚构。Demo data: made up by manage.py demo."
            ),
            period_start=datetime.date(today.year, 1, 1), period_end=datetime.date(today.year, 12, 31),
        ))
        targets = _copy_plan(source, programme, today)
        reports = [report for target in targets for report in _reports(target, today, reporter, reviewer)]
        bulk_create_with_history(reports, ProgressReport, batch_size=500)
        totals.refresh([target.pk for target in targets])
    return programme, True


def _copy_plan(source, programme, today):
    items = {
        item.number: item for item in bulk_create_with_history(
            [Item(programme=programme, number=i.number, title=i.title, text=i.text, category=i.category)
             for i in source.items.order_by("number")],
            Item,
        )
    }
    # Where bulk_create gives no ids back (SQLite before 3.35), read them.
    if any(item.pk is None for item in items.values()):
        items = {item.number: item for item in programme.items.all()}
    start, end = programme.period_start, programme.period_end
    halfway = start + datetime.timedelta(days=(today - start).days // 2)
    targets = []
    for target in source.targets.select_related("item").order_by("item__number", "code_key"):
        scenario = SCENARIOS.get(target.code, {"pace": ON_TRACK})
        targets.append(Target(
            programme=programme, year=programme.year, period_start=start, item=items[target.item.number],
            code=target.code, name=target.name, unit=target.unit, target_value=target.target_value,
            measure=target.measure, aggregation=target.aggregation,
            # An overdue one was due half way to today: its plan runs on, it does not.
            due_date=min(halfway, end) if "overdue" in scenario else end,
        ))
    targets.append(Target(
        programme=programme, year=programme.year, period_start=start, item=items[8], code=REPORTED_FIGURE["code"],
        name=REPORTED_FIGURE["name"], unit=REPORTED_FIGURE["unit"], target_value=None, due_date=end,
    ))
    targets = bulk_create_with_history(targets, Target)
    if any(target.pk is None for target in targets):
        targets = list(programme.targets.order_by("pk"))
    return targets


def report_dates(start, until, today):
    """Month ends from start through `until` (and not after today); the last day if there is none."""
    last = min(until, today)
    dates, month = [], start.month
    while True:
        following = datetime.date(start.year + month // 12, month % 12 + 1, 1)
        end_of_month = following - datetime.timedelta(days=1)
        if end_of_month > last:
            break
        dates.append(end_of_month)
        month += 1
    return dates or [last]


def _reports(target, today, reporter, reviewer):
    """Unsaved reports of one target, as its scenario says."""
    scenario = SCENARIOS.get(target.code, {"pace": ON_TRACK})
    dates = report_dates(target.period_start, target.due_date, today)
    goal = target.target_value
    if goal is None:
        monthly = REPORTED_FIGURE["monthly"]
        rows = [[day, Decimal(monthly + 150 * (n % 3)), Status.APPROVED] for n, day in enumerate(dates)]
    elif scenario.get("silent"):
        rows = []
    elif scenario.get("milestone"):
        rows = [[dates[0], goal, Status.APPROVED]]
    elif scenario.get("returned"):
        rows = [[dates[-1], (goal * Decimal("0.2")).quantize(Decimal(1)), Status.RETURNED]]
    else:
        count = len(dates)
        rows = _series(dates, [_share(scenario, target, day, n, count) for n, day in enumerate(dates)], goal)
        if scenario.get("last") and today > dates[-1]:
            # A report up to today on top of the approved ones (for an overdue target, a late one).
            reached = _share(scenario, target, dates[-1], count - 1, count)
            later = max(_share(scenario, target, today, count, count), reached + Decimal("0.1"))
            rows += _series([today], [later], goal, done=sum(row[1] for row in rows))
        if scenario.get("last") and rows:
            rows[-1][2] = scenario["last"]
    if target.aggregation == Target.Aggregation.LATEST:
        # Each report carries the running total rather than an increment.
        running = Decimal(0)
        for row in rows:
            running += row[1]
            row[1] = running
    return [_report(target, *row, reporter, reviewer) for row in rows]


def _share(scenario, target, day, n, count):
    """The share of its goal a target has reached by `day`, its n-th of `count` report dates."""
    if "overdue" in scenario:
        return Decimal(str(scenario["overdue"])) * (n + 1) / count
    if scenario.get("achieved"):
        return Decimal("1.05") * (n + 1) / count
    span = (target.due_date - target.period_start).days + 1
    return min(Decimal(str(scenario["pace"])) * ((day - target.period_start).days + 1) / span, Decimal(1))


def _series(dates, shares, goal, done=Decimal(0)):
    """Approved reports whose running total (from `done`) follows these shares of the goal."""
    rows = []
    for day, share in zip(dates, shares):
        # Rounded up, so that a goal of 10 is not put behind by its rounding.
        total = (goal * share).quantize(Decimal(1), rounding=ROUND_CEILING)
        if total > done:
            rows.append([day, total - done, Status.APPROVED])
            done = total
    return rows


def _report(target, period_end, value, status, reporter, reviewer):
    now = timezone.now()
    tz = timezone.get_current_timezone()
    created = min(datetime.datetime.combine(period_end + datetime.timedelta(days=1), datetime.time(9), tz), now)
    reviewed = None
    if status in (Status.APPROVED, Status.RETURNED):
        reviewed = min(datetime.datetime.combine(period_end + datetime.timedelta(days=3), datetime.time(15), tz), now)
    report = ProgressReport(
        target=target, period_end=period_end, value=value, status=status,
        note=f"{period_end.month}月完成情况", created_by=reporter, created_at=created, updated_at=reviewed or created,
        reviewed_by=reviewer if reviewed else None, reviewed_at=reviewed,
        review_note=RETURN_NOTE if status == Status.RETURNED else "",
    )
    # Its history record, dated and signed as the workflow would have it.
    report._history_date, report._history_user = reviewed or created, reviewer if reviewed else reporter
    return report
