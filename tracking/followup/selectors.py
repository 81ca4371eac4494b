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

    def add(self, state, period, as_of, count=1):
        """Count `count` region-periods in this state."""
        # Only periods already due count, even when a report came early.
        if period.due >= as_of:
            return
        self.expected += count
        if state in (ON_TIME, LATE):
            self.reported += count
        if state == ON_TIME:
            self.on_time += count

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


def unit_states(programmes, *, as_of, source=stored_months.days_stored):
    """{programme: [(period, state), ...]} for the periods each programme's region existed throughout.

    programmes: anything with a pk, a calendar (period_start, period_end,
    reporting_frequency, due_days) and a region with valid_from/valid_to:
    Programme rows with their region, or the grid's Plan rows. One query for
    their months.
    source: where the months come from: tracking.months.days_stored (what is
    kept, the default) or days_counted (from the reports, for checking the first).
    """
    programmes = list(programmes)
    months = {}
    if programmes:
        # Submissions after as_of have not happened yet as far as as_of is concerned (the source's business).
        for row in source([p.pk for p in programmes], as_of=as_of):
            months.setdefault(row[0], []).append(row)
    result = {}
    # Per calendar: its periods, and the index of the period of each month's first day. Most programmes
    # share one (a year's plans by the settings' rule), which is made once.
    calendars = {}
    for programme in programmes:
        region = programme.region
        rule = (programme.period_start, programme.period_end, programme.reporting_frequency, programme.due_days)
        known = calendars.get(rule)
        if known is None:
            known = calendars[rule] = (calendar.programme_periods(programme), {})
        periods, index_of = known
        seen = [None] * len(periods)
        for _programme, month, first, returned, drafts in months.get(programme.pk, ()):
            # The month's reports lie within the programme, so its clipped period contains
            # the later of the month's first day and the programme's start.
            day = max(month, programme.period_start)
            index = index_of.get(day, False)
            if index is False:
                period = calendar.period_of(day, periods)
                index = index_of[day] = None if period is None else periods.index(period)
            if index is None:
                continue
            folded = seen[index]
            if folded is None:
                seen[index] = [first, returned, drafts]
                continue
            if first is not None and (folded[0] is None or first < folded[0]):
                folded[0] = first
            folded[1] += returned
            folded[2] += drafts
        # Most regions always existed: no period to leave out.
        always = region.valid_from is None and region.valid_to is None
        result[programme] = [
            (period, state_of(seen[index], period, as_of))
            for index, period in enumerate(periods) if always or existed(region, period)
        ]
    return result


def existed(region, period):
    """Whether the region existed throughout the period (DHIS2 counts units that opened or closed in it)."""
    return (region.valid_from is None or region.valid_from <= period.start) and (
        region.valid_to is None or region.valid_to >= period.end
    )


def state_of(seen, period, as_of):
    """The state of a period from its months: seen is [first day, returned, drafts] or None (no report).

    first day: the local day of the earliest counted submission made by as_of (tracking.months).
    """
    if seen and seen[0] is not None:
        return ON_TIME if seen[0] <= period.due else LATE
    if period.due >= as_of:
        return NOT_DUE
    if seen and seen[1]:
        return RETURNED
    if seen and seen[2]:
        return DRAFT_ONLY
    return MISSING


def grid(*, region, programmes, as_of=None, source=stored_months.days_stored):
    """The completeness grid under `region` (None: the whole country, a row per province): a row for the
    region's own programmes (if it has any) and one per child region adding up that child's subtree; a
    column per period (the union of the programmes' calendars).

    programmes: the (already scoped) programmes to count, e.g. plans(year=2024) or one programme.
    Two queries, whatever the number of regions and periods.
    """
    as_of = as_of or timezone.localdate()
    if region is not None:
        programmes = programmes.filter(region__in=Region.objects.subtree(region.pk))
    plans, owners = plan_rows(programmes)
    states = unit_states(plans, as_of=as_of, source=source)
    children = {}
    columns = {}
    row_of_owner = {}
    # Per cell, how many of its region-periods are in each state; tallied once at the end
    # (the country's 34,000 region-periods fall into 31 × 12 cells).
    counts = {}
    for programme, periods in states.items():
        row = row_of_owner.get(programme.region_id)
        if row is None:
            code, name, level, parent_id = row_of(owners[programme.region_id], region)
            row = children.get(code)
            if row is None:
                own = region is not None and code == region.pk
                # The region itself, as the caller gave it, for its own row.
                row_region = region if own else Region(code=code, name=name, level=level, parent_id=parent_id)
                row = children[code] = Row(region=row_region, own=own)
            row_of_owner[programme.region_id] = row
        for period, state in periods:
            key = period.key
            cell = row.cells.get(key)
            if cell is None:
                columns.setdefault(key, period)
                cell = row.cells[key] = Cell(key, period.start, period.end, period.due, state=state,
                                             programme_id=programme.pk)
                counts[id(cell)] = (cell, period, {state: 1})
                continue
            # Several programmes in one row: only the counts say anything.
            cell.state, cell.programme_id = None, None
            in_state = counts[id(cell)][2]
            in_state[state] = in_state.get(state, 0) + 1
    for cell, period, in_state in counts.values():
        for state, count in in_state.items():
            cell.tally.add(state, period, as_of, count)
    total = Tally()
    for row in children.values():
        for cell in row.cells.values():
            row.tally.merge(cell.tally)
        total.merge(row.tally)
    ordered_columns = sorted(columns.values(), key=lambda p: (p.start, p.end))
    # The region's own row first, then its children by code.
    rows = sorted(children.values(), key=lambda r: (not r.own, r.region.pk))
    return Grid(columns=ordered_columns, rows=rows, tally=total, as_of=as_of)


@dataclass(slots=True, eq=False)
class Plan:
    """What the grid needs of a programme: its calendar (tracking.followup.calendar.rule_of) and its
    region's existence (existed()). A row of values rather than a model instance with its region's chain
    of three: the country's grid reads 2,844 programmes."""

    pk: int
    period_start: datetime.date
    period_end: datetime.date
    reporting_frequency: str
    due_days: int | None
    region_id: str
    region: "Span"


@dataclass(slots=True)
class Span:
    valid_from: datetime.date | None
    valid_to: datetime.date | None


# A programme's region, its parent and grandparent: what row_of() needs of them.
CHAIN = ["region", "region__parent", "region__parent__parent"]
CHAIN_FIELDS = ["code", "name", "level", "parent_id"]


def plan_rows(programmes):
    """([Plan, ...], {owner region code: its chain}) in one query; a chain is its region's, its parent's and its
    grandparent's (code, name, level, parent_id), as far as they go."""
    names = ["pk", "period_start", "period_end", "reporting_frequency", "due_days", "region__valid_from",
             "region__valid_to", *[f"{link}__{name}" for link in CHAIN for name in CHAIN_FIELDS]]
    plans, owners, spans = [], {}, {}
    width = len(CHAIN_FIELDS)
    for pk, start, end, frequency, due_days, valid_from, valid_to, *chain in (
        programmes.order_by("region_id").values_list(*names)
    ):
        owner = chain[0]
        if owner not in owners:
            owners[owner] = [tuple(chain[i:i + width]) for i in range(0, len(chain), width) if chain[i] is not None]
            spans[owner] = Span(valid_from, valid_to)
        plans.append(Plan(pk, start, end, frequency, due_days, owner, spans[owner]))
    return plans, owners


def row_of(chain, region):
    """The row a programme adds to under `region`, given its region's chain (plan_rows()): the region
    itself, or its child above the programme's region; the province when region is None. Its
    (code, name, level, parent code)."""
    place = chain[-1] if region is None else next(
        (place for place in chain if region.pk in (place[0], place[3])), None
    )
    if place is None:
        raise ValueError(f"{chain[0][0]} is not under {region.pk}")
    return place


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
