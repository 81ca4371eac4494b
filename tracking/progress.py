"""The progress rule: progress, completion, expected progress, status and mean completion, defined once.

Everything that shows or counts progress derives from here: the stored
totals (tracking.totals), Target.objects.with_progress(), the tallies
(tracking.tallies), the history series and the summaries. The benchmark
generator's set-based SQL is tested equal to it (test_progress_rule.py).
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import (
    Avg, Case, Count, F, FloatField, IntegerField, Min, OuterRef, Q, Subquery, Sum, Value, When, Window,
)
from django.db.models.functions import Cast, Coalesce, Floor, Greatest, Least
from django.utils import timezone

from .db import DayNumber
from .models import VALUE_FIELD, ProgressReport, Target

# The figures progress_expressions() defines, each stored on Target as cached_<name>.
PROGRESS_FIGURES = ("progress", "last_reported_on", "pending_value", "pending_count", "completion")

# Targets with a target value are the ones with a completion; mean completion is over them.
MEASURED = Q(target_value__isnull=False)


def _decimal_subquery(queryset, aggregate):
    """One aggregate over the rows of a correlated subquery, as a scalar."""
    return Subquery(
        queryset.order_by().values("target").annotate(result=aggregate).values("result")[:1],
        output_field=models.DecimalField(**VALUE_FIELD),
    )


def completion_of(progress, target_value="target_value"):
    """Progress as a percentage of the target value; None without a positive target value."""
    return Case(
        When(
            **{f"{target_value}__gt": 0},
            then=Cast(progress, FloatField()) * 100.0 / Cast(F(target_value), FloatField()),
        ),
        default=None,
        output_field=FloatField(),
    )


def progress_expressions(as_of=None):
    """Progress figures of a target, computed from its reports.

    This is the definition of progress. tracking.totals stores its result for
    all approved reports; with_progress(as_of=…) evaluates it at a past date.
    """
    reports = ProgressReport.objects.filter(target=OuterRef("pk"))
    if as_of is not None:
        reports = reports.filter(period_end__lte=as_of)
    approved = reports.filter(status=ProgressReport.Status.APPROVED)
    submitted = reports.filter(status=ProgressReport.Status.SUBMITTED)
    latest = approved.order_by("-period_end")
    progress = Case(
        When(aggregation=Target.Aggregation.SUM, then=_decimal_subquery(approved, Sum("value"))),
        default=Subquery(latest.values("value")[:1]),
        output_field=models.DecimalField(**VALUE_FIELD),
    )
    return {
        "progress": progress,
        "last_reported_on": Subquery(latest.values("period_end")[:1]),
        "pending_value": Coalesce(_decimal_subquery(submitted, Sum("value")), Value(Decimal("0"))),
        "pending_count": Coalesce(
            Subquery(submitted.order_by().values("target").annotate(n=Count("pk")).values("n")[:1]), 0
        ),
        # Stored too, because converting decimals to floats for every target
        # and every status test was most of the cost of a national summary.
        "completion": completion_of(progress),
    }


def days_to_due():
    """The days from a target's start to its due date, both counted: what expected progress divides by."""
    return Greatest(DayNumber("due_date") - DayNumber("period_start") + 1, Value(1))


def expected_on(day):
    """The share of a target's period elapsed on this day, in percent, 0 to 100."""
    elapsed = Value(day.toordinal()) - DayNumber("period_start") + 1
    return Least(
        Greatest(Cast(elapsed, FloatField()) * 100.0 / Cast(days_to_due(), FloatField()), Value(0.0)), Value(100.0)
    )


def status_expression(day):
    """A target's status on this day, from its annotated progress, completion and expected progress.

    A target without approved progress counts as 0 % done. It is
    not_started while the time elapsed is within the tolerance, behind after
    that, and overdue once its due date has passed. One with progress is
    achieved at 100 %; short of that it is overdue once its due date has
    passed, behind while it trails the time elapsed by more than the
    tolerance, and on track otherwise. A figure without a target value has
    nothing to complete: once reported, it stays `reported`.

    status_change_aggregates() and last_day_of() below solve it for the next
    day a status changes; test_progress_rule.py checks that they agree.
    """
    tolerance = settings.TRACKING_BEHIND_TOLERANCE
    return Case(
        When(completion__gte=100, then=Value(Target.Status.ACHIEVED)),
        When(progress__isnull=False, target_value__isnull=True, then=Value(Target.Status.REPORTED)),
        When(due_date__lt=day, then=Value(Target.Status.OVERDUE)),
        # Without progress (completion is then null), as if at 0 %.
        When(
            Q(completion__lt=F("expected") - tolerance) | Q(completion__isnull=True, expected__gt=tolerance),
            then=Value(Target.Status.BEHIND),
        ),
        When(progress__isnull=True, then=Value(Target.Status.NOT_STARTED)),
        default=Value(Target.Status.ON_TRACK),
        output_field=models.CharField(),
    )


def with_progress(targets, as_of=None):
    """Annotate progress, completion, expected and status: the single source of truth.

    Without as_of, progress is what all approved reports add up to, read from
    the stored totals (tracking.totals), and expected is for today. With
    as_of, everything is computed from reports dated on or before it.
    """
    if as_of is None:
        day = timezone.localdate()
        figures = {name: F(f"cached_{name}") for name in PROGRESS_FIGURES}
    else:
        day = as_of
        figures = progress_expressions(as_of)
    return targets.annotate(**figures).annotate(expected=expected_on(day)).annotate(status=status_expression(day))


def progress_series(target):
    """Each approved report of a target with the progress and completion it brings it to, in date order.

    progress_expressions() evaluated after every report, in one query: a
    running sum for `sum` targets, the report's own value for `latest` ones.
    """
    reports = target.reports.filter(status=ProgressReport.Status.APPROVED).order_by("period_end")
    if target.aggregation == Target.Aggregation.SUM:
        progress = Window(Sum("value"), order_by=F("period_end").asc())
    else:
        progress = F("value")
    reports = reports.annotate(progress=progress)
    return reports.annotate(completion=completion_of(F("progress"), "target__target_value")).values(
        "period_end", "value", "progress", "completion"
    )


def progress_series_of(targets):
    """progress_series() for many targets in one query: {target id: [{period_end, value, progress, completion}]}.

    The same rule: a running sum per target for `sum` targets (a window
    partitioned by target), the report's own value for `latest` ones; the
    completion is completion_value() of that progress. Targets without an
    approved report are absent.
    """
    reports = (
        ProgressReport.objects.filter(target__in=targets, status=ProgressReport.Status.APPROVED)
        .annotate(running=Window(Sum("value"), partition_by=F("target"), order_by=F("period_end").asc()))
        .order_by("target", "period_end")
        .values("target", "period_end", "value", "running", "target__aggregation", "target__target_value")
    )
    series = {}
    for row in reports:
        progress = row["running"] if row["target__aggregation"] == Target.Aggregation.SUM else row["value"]
        series.setdefault(row["target"], []).append({
            "period_end": row["period_end"], "value": row["value"], "progress": progress,
            "completion": completion_value(progress, row["target__target_value"]),
        })
    return series


# --- Mean completion --------------------------------------------------------------------
# Over targets with a target value; one without approved progress counts as
# 0 %; not capped at 100 %, so a summary shows the overshoot it was given.


def completion_totals():
    """Aggregates of annotated targets that mean_completion() divides: the sum and the count."""
    return {
        "completion_sum": Coalesce(Sum(Coalesce("completion", Value(0.0)), filter=MEASURED), Value(0.0)),
        "with_value": Count("pk", filter=MEASURED),
    }


def mean_completion(completion_sum, with_value):
    return completion_sum / with_value if with_value else None


def mean_completion_aggregate():
    """mean_completion() as one SQL aggregate over annotated targets (None without a measured target)."""
    return Avg(Coalesce("completion", Value(0.0)), filter=MEASURED)


def mean_completion_of(targets):
    """mean_completion() over annotated target instances already in memory."""
    measured = [target for target in targets if target.target_value is not None]
    return mean_completion(sum(target.completion or 0.0 for target in measured), len(measured))


def falls_behind_day(completion, tolerance):
    """Expression: the first day on which a target at this completion falls `tolerance` points behind.

    expected_on(day) passes completion + tolerance on day start + floor(x)
    with x = (completion + tolerance) * span / 100. x is taken a millionth
    smaller, so that where rounding could put it on either side of a whole
    number the answer is a day early rather than a day late.
    """
    x = (completion + tolerance) * Cast(days_to_due(), FloatField()) / 100.0
    return DayNumber("period_start") + Cast(Floor(x - 1e-6), IntegerField())


# status_expression() solved for time. Achieved, reported and overdue are
# final. On track and not started (as at 0 %) fall behind on falls_behind_day(),
# unless close enough to 100 % never to; on track, not started and behind become
# overdue the day after their due date. A tally holds until the day before the
# first of these: aggregated per status (so that each target's status is
# computed once), then last_day_of() picks the figure that applies.
FALLING_STATUSES = (Target.Status.ON_TRACK, Target.Status.NOT_STARTED)
DUE_STATUSES = (*FALLING_STATUSES, Target.Status.BEHIND)


def status_change_aggregates(tolerance):
    """Aggregates over annotated targets of one status (DayNumbers): the last day before the first
    of them falls behind, were they on track or not started, and the earliest due date."""
    # Completion (0 % without progress) + tolerance below 100: it can still fall behind.
    may_fall_behind = Q(completion__lt=100 - tolerance)
    if tolerance < 100:
        may_fall_behind |= Q(completion__isnull=True)
    reach = Coalesce(F("completion"), Value(0.0))
    return {
        "last_before_behind": Min(falls_behind_day(reach, tolerance) - 1, filter=may_fall_behind),
        "last_before_overdue": Min(DayNumber("due_date")),
    }


def last_day_of(status, last_before_behind, last_before_overdue):
    """The last day (a DayNumber) on which targets of this status, with these aggregates, all keep it;
    None if it is final."""
    if status in FALLING_STATUSES:
        return min(day for day in (last_before_behind, last_before_overdue) if day is not None)
    if status in DUE_STATUSES:
        return last_before_overdue
    return None


def day_of(number):
    """A DayNumber back to a date."""
    return None if number is None else datetime.date.fromordinal(int(number))


# --- What one report brings ----------------------------------------------------------------


def completion_value(progress, target_value):
    """completion_of() for figures in memory: progress as a percentage of the target value."""
    if progress is None or not target_value:
        return None
    return float(progress) * 100.0 / float(target_value)


def progress_once_counted(target, report):
    """A target's progress once this report counts: what approving it would bring, or has brought.

    target is annotated by with_progress(). For `sum`, the approved total plus
    the report's value; for `latest`, its value unless a later report was
    approved. An approved report is already in the total.
    """
    if report.status == ProgressReport.Status.APPROVED:
        return target.progress
    if target.aggregation == Target.Aggregation.SUM:
        return (target.progress or Decimal("0")) + report.value
    if target.last_reported_on is None or report.period_end > target.last_reported_on:
        return report.value
    return target.progress
