"""Programme tallies: a programme's targets counted per status, for national summaries.

One row per programme (tracking.models.ProgrammeTally), recounted with every
change to its targets' stored totals (tracking.totals.refresh), to the
programme or to its list of targets (tracking.services.plans). Statuses move
with the date, so a tally also records the last day on which it holds.
"""

import datetime
import math

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from .db import lock
from .models import Programme, ProgrammeTally, Target
from .progress import completion_totals, day_of, last_day_of, status_change_aggregates

# What a tally holds besides completion_sum (a float sum, compared within rounding).
TALLY_COUNTS = [name for name in ProgrammeTally.FIGURES if name not in ("completion_sum", "counted_on")]


def tally_figures(targets):
    """Per programme of these targets: what a summary adds up, from with_progress() as of today.

    Statuses move with the date (a target falls behind as its period elapses
    and becomes overdue after its due date); last_day is the last day on
    which no target of the programme has changed status (tracking.progress).
    Grouped by status too, so that each target's status is computed once
    rather than once per figure that depends on it; the groups are folded here.
    """
    figures = {}
    rows = (
        targets.with_progress().order_by().values("programme_id", "status")
        .annotate(
            targets=Count("pk"), **completion_totals(), pending_reports=Coalesce(Sum("pending_count"), 0),
            **status_change_aggregates(settings.TRACKING_BEHIND_TOLERANCE),
        )
    )
    for row in rows:
        figure = figures.setdefault(
            row["programme_id"],
            {"targets": 0, **dict.fromkeys(Target.Status.values, 0), "completion_sum": 0.0, "with_value": 0,
             "pending_reports": 0, "last_day": None},
        )
        for name in ("targets", "with_value", "pending_reports"):
            figure[name] += row[name]
        figure["completion_sum"] += row["completion_sum"]
        figure[row["status"]] = row["targets"]
        last_day = last_day_of(row["status"], row["last_before_behind"], row["last_before_overdue"])
        if last_day is not None and (figure["last_day"] is None or last_day < figure["last_day"]):
            figure["last_day"] = last_day
    return figures


def counted(programme_ids, years=None):
    """Unsaved tallies of these programmes as of today, counted from their targets."""
    today = timezone.localdate()
    figures = tally_figures(Target.objects.filter(programme_id__in=programme_ids))
    if years is None:
        years = dict(Programme.objects.filter(pk__in=programme_ids).values_list("pk", "year"))
    result = []
    for pk in programme_ids:
        row = figures.get(pk, {})
        last_day = row.pop("last_day", None)
        result.append(ProgrammeTally(
            programme_id=pk, year=years[pk], **row, counted_on=today, tolerance=settings.TRACKING_BEHIND_TOLERANCE,
            valid_until=day_of(last_day),
        ))
    return result


def lock_programmes(programme_ids):
    """Lock the tally rows of these programmes (a batch, in key order), inserting missing ones first.

    Returns {programme id: year} of those locked, in key order. Whatever is counted per
    programme (its tally here, its months in tracking.months) is counted after
    this, in a later statement: two transactions changing one programme's
    targets or reports then count one after the other, and the second sees the
    first's rows (one statement would count from the snapshot it took before
    waiting). A missing row is inserted first for the same reason: a
    concurrent change then waits for that insert instead of finding no row to
    lock. Callers lock the targets first, the order every service takes.
    """
    years = dict(Programme.objects.filter(pk__in=programme_ids).values_list("pk", "year"))
    # A new row is a placeholder no summary reads (never current()) until it is counted.
    ProgrammeTally.objects.bulk_create(
        [ProgrammeTally(programme_id=pk, year=year, counted_on=datetime.date.min, tolerance=-1)
         for pk, year in years.items()],
        ignore_conflicts=True,
    )
    return {pk: years[pk] for pk in lock(ProgrammeTally.objects.filter(pk__in=years))}


def recount(programme_ids, batch_size=2000):
    """Count the tallies of these programmes again, creating missing ones; returns how many.

    Each batch's tally rows are locked first (lock_programmes), then counted.
    """
    programme_ids = sorted(set(programme_ids))
    with transaction.atomic():
        for start in range(0, len(programme_ids), batch_size):
            years = lock_programmes(programme_ids[start:start + batch_size])
            locked = list(years)
            ProgrammeTally.objects.bulk_create(
                counted(locked, years),
                update_conflicts=True, unique_fields=["programme"], update_fields=ProgrammeTally.FIGURES,
            )
    return len(programme_ids)


def catch_up():
    """Recount the tallies that no longer hold today and create the missing ones (programmes made by
    bulk inserts); returns how many of each."""
    expired = list(
        ProgrammeTally.objects.exclude(pk__in=ProgrammeTally.objects.current().values("pk")).values_list("pk", flat=True)
    )
    missing = Programme.objects.filter(~Exists(ProgrammeTally.objects.filter(pk=OuterRef("pk"))))
    missing = list(missing.values_list("pk", flat=True))
    recount(expired + missing)
    return len(expired), len(missing)


def wrong_tallies(batch_size=2000):
    """Programmes whose tally claims to hold today but differs from a count of their targets now."""
    wrong = []
    current = list(ProgrammeTally.objects.current().order_by("pk"))
    for start in range(0, len(current), batch_size):
        stored = current[start:start + batch_size]
        fresh_tallies = {tally.pk: tally for tally in counted([tally.pk for tally in stored])}
        for tally in stored:
            fresh = fresh_tallies[tally.pk]
            if not math.isclose(tally.completion_sum, fresh.completion_sum, rel_tol=1e-9, abs_tol=1e-6) or any(
                getattr(tally, name) != getattr(fresh, name) for name in TALLY_COUNTS
            ):
                wrong.append(tally.pk)
    return wrong


def repair_tallies():
    """Recount the wrong tallies, the ones that no longer hold today, and create missing ones.

    Returns the wrong ones, then how many were recounted or created in all.
    """
    wrong = wrong_tallies()
    return wrong, recount(wrong) + sum(catch_up())
