"""Completeness and timeliness: which regions reported for which periods, and their rates.

A region is expected to report for each period of its programme's calendar
(tracking.followup.calendar) that it existed throughout (Region.valid_from /
valid_to). For such a region and period, its state comes from its reports
dated in the period:

- on_time: a report was submitted (or approved) and the earliest submission
  among those still counting (submitted or approved) came on or before the
  due date (local time);
- late: the same, after the due date;
- returned: nothing counting, but a returned report;
- draft_only: only drafts;
- missing: no report at all (not_due while the due date has not passed).

A report's submission moment is its submitted_at, set by every submission
(admin, API, import alike: tracking.services.reports); a report that was
submitted or approved before moments were recorded, or loaded from a
document, falls back to its review time, then its last change
(tracking.months, which keeps these per programme and month).

Rates are DHIS2's: reporting rate = reports received / reports expected
× 100, on-time rate = reports received by the due date / reports expected
× 100, where "expected" counts the region-periods already due (due date
before as_of) in which the region existed; None when nothing is due. A
parent's figures add up the region-periods of its whole subtree, as DHIS2
aggregates organisation units.

All of it from two queries: the programmes (with their regions) and their
stored months (tracking.models.ProgrammeMonth: per programme and month of
the reports' dates, the earliest counted submission and the returned and
draft counts). The months are folded into the calendar's periods in Python,
so the query count does not grow with the number of regions or periods.
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import months as stored_months
from ..models import Programme, Region
from . import calendar

ON_TIME, LATE, DRAFT_ONLY, RETURNED, MISSING, NOT_DUE = "on_time", "late", "draft_only", "returned", "missing", "not_due"
STATES = {
    ON_TIME: _("按时报送"),
    LATE: _("逾期报送"),
    DRAFT_ONLY: _("仅有草稿"),
    RETURNED: _("已退回"),
    MISSING: _("未报送"),
    NOT_DUE: _("未到期"),
}


@dataclass
class Tally:
    """Region-periods expected (already due), received, and received on time; their rates."""

    expected: int = 0
    reported: int = 0
    on_time: int = 0

    def add(self, state, period, as_of):
        # Only periods already due count, even when a report came early.
        if period.due >= as_of:
            return
        self.expected += 1
        self.reported += state in (ON_TIME, LATE)
        self.on_time += state == ON_TIME

    def merge(self, other):
        self.expected += other.expected
        self.reported += other.reported
        self.on_time += other.on_time

    @property
    def reporting_rate(self):
        return percent(self.reported, self.expected)

    @property
    def on_time_rate(self):
        return percent(self.on_time, self.expected)


def percent(part, whole):
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Cell:
    key: str
    start: datetime.date
    end: datetime.date
    due: datetime.date
    tally: Tally = field(default_factory=Tally)
    # The state when the row is one programme (a district's own plan); None for a row adding up several.
    state: str | None = None
    programme_id: int | None = None


@dataclass
class Row:
    region: Region
    # The row's own region only (its programme), or its whole subtree.
    own: bool
    cells: dict = field(default_factory=dict)
    tally: Tally = field(default_factory=Tally)


@dataclass
class Grid:
    columns: list
    rows: list
    tally: Tally
    as_of: datetime.date


def plans(*, year, kind=Programme.Kind.ANNUAL_PLAN):
    """The programmes that report during a year: one kind (annual plans by default) of that year."""
    return Programme.objects.filter(year=year, kind=kind)


def unit_states(programmes, *, as_of, source=stored_months.stored):
    """{programme: [(period, state), ...]} for the periods each programme's region existed throughout.

    programmes: Programme rows with their region (select_related or the
    region's valid_from/valid_to loaded). One query for their months.
    source: where the months come from, tracking.months.stored (what is kept)
    or tracking.months.counted (from the reports, for checking the first).
    """
    programmes = list(programmes)
    months = {}
    if programmes:
        # Submissions after as_of have not happened yet as far as as_of is concerned.
        cutoff = timezone.make_aware(datetime.datetime.combine(as_of + datetime.timedelta(days=1), datetime.time()))
        rows = source([p.pk for p in programmes], before=cutoff)
        if source is not stored_months.stored:
            rows = rows.values_list(*stored_months.FIELDS)
        for row in rows:
            months.setdefault(row[0], []).append(row)
    result = {}
    for programme in programmes:
        region = programme.region
        states = []
        by_period = {}
        periods = calendar.programme_periods(programme)
        for _programme, month, first, returned, drafts in months.get(programme.pk, ()):
            if isinstance(month, datetime.datetime):
                month = month.date()
            elif isinstance(month, str):
                month = datetime.date.fromisoformat(month[:10])
            # The month's reports lie within the programme, so its clipped period contains
            # the later of the month's first day and the programme's start.
            period = calendar.period_of(max(month, programme.period_start), periods)
            if period is None:
                continue
            seen = by_period.setdefault(period, {"first": None, "returned": 0, "drafts": 0})
            if first is not None and (seen["first"] is None or first < seen["first"]):
                seen["first"] = first
            seen["returned"] += returned
            seen["drafts"] += drafts
        for period in periods:
            if not existed(region, period):
                continue
            states.append((period, state_of(by_period.get(period), period, as_of)))
        result[programme] = states
    return result


def existed(region, period):
    """Whether the region existed throughout the period (DHIS2 counts units that opened or closed in it)."""
    return (region.valid_from is None or region.valid_from <= period.start) and (
        region.valid_to is None or region.valid_to >= period.end
    )


def state_of(seen, period, as_of):
    if seen and seen["first"] is not None:
        return ON_TIME if local_day(seen["first"]) <= period.due else LATE
    if period.due >= as_of:
        return NOT_DUE
    if seen and seen["returned"]:
        return RETURNED
    if seen and seen["drafts"]:
        return DRAFT_ONLY
    return MISSING


def local_day(moment):
    if isinstance(moment, datetime.datetime):
        return timezone.localdate(moment) if timezone.is_aware(moment) else moment.date()
    return moment


def grid(*, region, programmes, as_of=None, source=stored_months.stored):
    """The completeness grid under `region` (None: the whole country, a row per province): a row for the
    region's own programmes (if it has any) and one per child region adding up that child's subtree; a
    column per period (the union of the programmes' calendars).

    programmes: the (already scoped) programmes to count, e.g. plans(year=2024) or one programme.
    Two queries, whatever the number of regions and periods.
    """
    as_of = as_of or timezone.localdate()
    if region is not None:
        programmes = programmes.filter(region__in=Region.objects.subtree(region.pk))
    programmes = programmes.select_related("region__parent__parent").order_by("region_id")
    states = unit_states(programmes, as_of=as_of, source=source)
    children = {}
    columns = {}
    for programme, periods in states.items():
        row_region = row_of(programme.region, region)
        own = region is not None and row_region.pk == region.pk
        row = children.get(row_region.pk)
        if row is None:
            row = children[row_region.pk] = Row(region=row_region, own=own)
        for period, state in periods:
            columns.setdefault(period.key, period)
            cell = row.cells.get(period.key)
            if cell is None:
                cell = row.cells[period.key] = Cell(period.key, period.start, period.end, period.due, state=state,
                                                    programme_id=programme.pk)
            else:
                # Several programmes in one row: only the counts say anything.
                cell.state, cell.programme_id = None, None
            cell.tally.add(state, period, as_of)
            row.tally.add(state, period, as_of)
    total = Tally()
    for row in children.values():
        total.merge(row.tally)
    ordered_columns = sorted(columns.values(), key=lambda p: (p.start, p.end))
    # The region's own row first, then its children by code.
    rows = sorted(children.values(), key=lambda r: (not r.own, r.region.pk))
    return Grid(columns=ordered_columns, rows=rows, tally=total, as_of=as_of)


def row_of(owner, region):
    """The row a programme of `owner` adds to under `region`: the region itself, or its child above owner."""
    chain = [owner]
    while chain[-1].parent_id is not None and len(chain) < 3:
        chain.append(chain[-1].parent)
    if region is None:
        return chain[-1]
    for place in chain:
        if place.pk == region.pk or place.parent_id == region.pk:
            return place
    raise ValueError(f"{owner.pk} is not under {region.pk}")


def reporting_rates(*, region, as_of):
    """For the bulletin (issue 17): DHIS2's reporting rate and on-time rate under `region` as of a day.

    Returns {key: {"expected", "reported", "on_time", "reporting_rate", "on_time_rate"}} where key is
    - each child region's code, for that child's whole subtree;
    - region.pk, for the programmes of `region` itself (present only if it has any);
    - None, for the whole subtree of `region` (the overall figure).
    The rates are Decimals from 0 to 100 with one decimal, or None when no period is due.
    Counted: the annual plans of as_of's year, and of the periods whose due date falls in that year
    (so in January, last December's or last quarter's period), every period due before as_of in which
    the region existed. Two queries.
    """
    year = as_of.year
    programmes = Programme.objects.filter(
        kind=Programme.Kind.ANNUAL_PLAN, year__in=[year - 1, year]
    )
    data = grid(region=region, programmes=programmes, as_of=as_of)
    result = {}
    overall = Tally()
    for row in data.rows:
        tally = Tally()
        for cell in row.cells.values():
            if cell.due.year == year:
                tally.merge(cell.tally)
        result[row.region.pk] = tally
        overall.merge(tally)
    result[None] = overall
    return {key: as_dict(tally) for key, tally in result.items()}


def as_dict(tally):
    return {
        "expected": tally.expected, "reported": tally.reported, "on_time": tally.on_time,
        "reporting_rate": tally.reporting_rate, "on_time_rate": tally.on_time_rate,
    }
