"""Reads that more than one interface shares: summaries, the dashboard's data, a programme's figures.

The API's summary and the bulletin, the admin's dashboard and programme list
read through these, so each figure is computed one way. Every figure comes
from the progress rule (tracking.progress), through with_progress() or the
programme tallies (tracking.tallies) that hold the same figures.
"""

import datetime
from collections import Counter

from django.db.models import Avg, Case, Count, Exists, F, FloatField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from .models import Category, Item, Programme, ProgrammeTally, Target
from .progress import (
    completion_totals, mean_completion, mean_completion_aggregate, mean_completion_of, progress_series_of,
)

# A target with no approved report for this long is listed on the dashboard.
STALE_AFTER_DAYS = 45
# Statuses the dashboard lists under 需要关注.
ATTENTION_STATUSES = (Target.Status.BEHIND, Target.Status.OVERDUE)


# --- Summaries ----------------------------------------------------------------------------


def region_grouping(region):
    """The child of `region` that each target's region lies in (or the region itself), as code and name.

    Without a region, the province. The hierarchy is three levels deep, so two
    levels of parent cover every case.
    """
    here, up, top = "programme__region", "programme__region__parent", "programme__region__parent__parent"
    if region is None:
        conditions = [Q(**{f"{here}__parent__isnull": True}), Q(**{f"{up}__parent__isnull": True})]
        columns = [here, up, top]
    else:
        conditions = [Q(**{f"{here}__parent": region.code}), Q(**{f"{up}__parent": region.code})]
        columns = [here, up, here]
    key = Case(*[When(c, then=F(col)) for c, col in zip(conditions, columns)], default=F(columns[2]))
    name = Case(*[When(c, then=F(f"{col}__name")) for c, col in zip(conditions, columns)], default=F(f"{columns[2]}__name"))
    return key, name


def group_columns(group_by, region):
    """The key and name of the group a target or tally falls in (both reach their programme as `programme`)."""
    if group_by == "region":
        return region_grouping(region)
    if group_by == "programme":
        return F("programme_id"), Concat("programme__region__name", Value(" "), "programme__title")
    return F("item__category"), F("item__category")


TALLIED = ("targets", *Target.Status.values, "pending_reports", "completion_sum", "with_value")


def summary_groups(group_by, region, targets, tallies=None):
    """Per group: target count, count per status, mean completion and pending reports.

    The programmes of `tallies` are added up from them; `targets` (or none)
    are judged one by one. One aggregate query each.
    """
    key, name = group_columns(group_by, region)
    groups = {}

    def group_of(row):
        key = str(row["group_key"])
        if key not in groups:
            label = Category(row["group_key"]).label if group_by == "category" else row["group_name"]
            groups[key] = {"key": key, "name": str(label), **dict.fromkeys(TALLIED, 0)}
        return groups[key]

    if tallies is not None:
        rows = (
            tallies.filter(targets__gt=0).order_by().values(group_key=key, group_name=name)
            .annotate(**{f"sum_{figure}": Sum(figure) for figure in TALLIED})
        )
        for row in rows:
            group = group_of(row)
            for figure in TALLIED:
                group[figure] += row[f"sum_{figure}"]
    # Grouped by status too, so that each target's status is computed once
    # rather than once per status column; the statuses are folded here.
    rows = [] if targets is None else (
        targets.order_by()
        .values(group_key=key, group_name=name, group_status=F("status"))
        .annotate(targets=Count("pk"), **completion_totals(), pending_reports=Coalesce(Sum("pending_count"), 0))
    )
    for row in rows:
        group = group_of(row)
        group["targets"] += row["targets"]
        group[row["group_status"]] += row["targets"]
        group["pending_reports"] += row["pending_reports"]
        group["completion_sum"] += row["completion_sum"] or 0.0
        group["with_value"] += row["with_value"]
    result = []
    for key in sorted(groups, key=lambda k: (int(k) if group_by == "programme" else k)):
        group = groups[key]
        group["mean_completion"] = mean_completion(group.pop("completion_sum"), group.pop("with_value"))
        result.append(group)
    return result


def summary(programmes, *, year, as_of=None, region=None, group_by="region"):
    """The summary of these programmes of a year (already scoped and filtered), as the API answers it.

    Without as_of, today's figures per programme are kept in its tally; the
    programmes whose tally does not hold today are judged target by target,
    which gives the same figures, only slower. With as_of, or per category,
    every target is judged.
    """
    if as_of is None and group_by != "category":
        current = ProgrammeTally.objects.current(timezone.localdate()).filter(year=year)
        uncounted = list(
            programmes.filter(~Exists(current.filter(pk=OuterRef("pk")))).order_by().values_list("pk", flat=True)
        )
        # The programmes found uncounted are excluded by name: a tally
        # recounted since holds today, and must not be added twice. One
        # current a moment ago still is, whatever happened since.
        tallies = current.filter(programme__in=programmes).exclude(pk__in=uncounted)
        targets = Target.objects.with_progress().filter(programme__in=uncounted) if uncounted else None
    else:
        tallies = None
        targets = Target.objects.with_progress(as_of=as_of).filter(programme__in=programmes, year=year)
    return {
        "year": year,
        "as_of": as_of,
        "group_by": group_by,
        "region": region.code if region else None,
        "groups": summary_groups(group_by, region, targets, tallies),
    }


# --- The year shown when none is asked for ---------------------------------------------------


def years_newest_first(programmes, day):
    """The years of these programmes, the one to show first: the latest up to this day's year, or,
    when all are later, the latest.

    The dashboard and summary/ without a year both show the first (the
    dashboard in the same query as its programmes): this year's programmes,
    or the last year's once a plan has ended and the next is not in yet.
    """
    upcoming = Case(When(year__lte=day.year, then=Value(0)), default=Value(1))
    return programmes.order_by(upcoming, "-year").values_list("year", flat=True)


def default_year(programmes, day):
    """The year years_newest_first() puts first; the day's year if there are no programmes."""
    return years_newest_first(programmes, day).first() or day.year


# --- A programme's figures, and the dashboard ------------------------------------------------


def programme_figures():
    """Target count, mean completion and mean expected progress of a programme, as subqueries of one query."""
    targets = Target.objects.filter(programme=OuterRef("pk")).order_by().values("programme")
    # values() comes after with_progress() so that only the programme is grouped on.
    measured = (
        Target.objects.filter(programme=OuterRef("pk"), target_value__isnull=False)
        .with_progress().order_by().values("programme")
    )
    return {
        "target_count": Coalesce(Subquery(targets.annotate(n=Count("pk")).values("n")[:1]), 0),
        "average_completion": Subquery(
            measured.annotate(a=mean_completion_aggregate()).values("a")[:1], output_field=FloatField()
        ),
        "average_expected": Subquery(
            measured.annotate(a=Avg("expected")).values("a")[:1], output_field=FloatField()
        ),
    }


def dashboard(user):
    """The user's programmes of the year shown (years_newest_first), with their items, targets (each with
    its progress series, for its chart), status counts and the targets that need attention (behind,
    overdue, or silent), in four queries."""
    today = timezone.localdate()
    visible = Programme.objects.visible_to(user)
    # The year is found in the same query as its programmes.
    year = Subquery(years_newest_first(visible, today)[:1])
    programmes = list(visible.filter(year=year).select_related("region").order_by("region", "kind"))
    year = programmes[0].year if programmes else None
    items = Item.objects.filter(programme__in=programmes).order_by("programme", "number")
    targets = Target.objects.visible_to(user).filter(programme__in=programmes).with_progress()
    targets = list(targets.select_related("programme__region", "item").order_by("item__number", "code_key"))

    series = progress_series_of(targets) if targets else {}
    by_item = {}
    for target in targets:
        target.series = series.get(target.pk, [])
        by_item.setdefault(target.item_id, []).append(target)
    by_programme = {}
    for item in items:
        item.target_list = by_item.get(item.pk, [])
        measured = [t for t in item.target_list if t.target_value is not None]
        item.mean_completion = mean_completion_of(item.target_list)
        item.mean_expected = sum(t.expected for t in measured) / len(measured) if measured else None
        by_programme.setdefault(item.programme_id, []).append(item)
    for programme in programmes:
        programme.item_list = by_programme.get(programme.pk, [])

    counts = Counter(t.status for t in targets)
    stale_before = today - datetime.timedelta(days=STALE_AFTER_DAYS)
    attention = []
    for target in targets:
        # Only a running programme can be late with its reports, and an achieved target has nothing left to report.
        running = target.programme.period_start <= today <= target.programme.period_end
        stale = target.last_reported_on is None or target.last_reported_on < stale_before
        target.silent = running and stale and target.status != Target.Status.ACHIEVED
        if target.status in ATTENTION_STATUSES or target.silent:
            attention.append(target)
    return {
        "year": year,
        "today": today,
        "programmes": programmes,
        "status_counts": [(value, label, counts.get(value, 0)) for value, label in Target.Status.choices],
        "attention": attention,
        "stale_days": STALE_AFTER_DAYS,
        "target_count": len(targets),
    }
