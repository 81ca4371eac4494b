"""The progress rule has one definition (tracking.progress); what restates it for speed is tested equal to it.

Three places compute progress another way: the tallies count statuses per
programme and solve for the next day a status changes (a target falls behind
or becomes overdue), the history
series runs a window sum, and the benchmark generator writes the stored
totals with one set-based UPDATE. On random targets and reports, each gives
what with_progress() gives.
"""

import datetime
import random
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from tracking import tallies, totals
from tracking.models import Item, ProgressReport, Target
from tracking.progress import progress_series

from .conftest import make_plan

D = datetime.date
S = ProgressReport.Status
SEEDS = range(6)


def random_programme(rng, region="320612", year=2024, targets=25):
    """A plan with targets of every kind (sum and latest, with and without target value, early due dates)
    and reports in every status on random days; some targets without any approved report, some nearly
    achieved."""
    programme = make_plan(region, year=year)
    items = [Item.objects.create(programme=programme, number=n, title=f"事项{n}", category="services") for n in (1, 2, 3)]
    start, end = programme.period_start, programme.period_end
    made = []
    for n in range(targets):
        due = end if rng.random() < 0.7 else start + datetime.timedelta(days=rng.randint(20, 360))
        # One in six nearly there: on track to its due date, overdue the day after.
        near = n % 6 == 5
        target = Target.objects.create(
            programme=programme, item=rng.choice(items), code=f"{n}", name=f"指标{n}", unit="个",
            target_value=None if rng.random() < 0.15 and not near else Decimal(rng.choice([1, 3, 95, 100, 12000])),
            aggregation=rng.choice(Target.Aggregation.values), due_date=due,
        )
        if near:
            reports = [(rng.randint(0, (due - start).days), target.target_value * rng.choice([91, 95, 99]) / 100, S.APPROVED)]
        else:
            reports = [
                (day, Decimal(rng.choice([0, 1, 2, 5, 30, 60, 99, 4000, 6000, 13000])) / rng.choice([1, 4]),
                 rng.choice(S.values))
                for day in rng.sample(range(0, (end - start).days + 1), rng.randint(0, 6))
            ]
        ProgressReport.objects.bulk_create(
            ProgressReport(target=target, period_end=start + datetime.timedelta(days=day), value=value, status=status)
            for day, value, status in reports
        )
        made.append(target)
    totals.refresh([target.pk for target in made])
    return programme


def statuses_by_day(programme, monkeypatch):
    """Each target's status by with_progress() on every day from before the programme starts to well after
    it ends, a query a day: {day: {target id: status}}."""
    first, last = programme.period_start - datetime.timedelta(days=10), programme.period_end + datetime.timedelta(days=40)
    result = {}
    for offset in range((last - first).days + 1):
        day = first + datetime.timedelta(days=offset)
        monkeypatch.setattr(timezone, "localdate", lambda day=day: day)
        result[day] = dict(Target.objects.filter(programme=programme).with_progress().values_list("pk", "status"))
    return result


def counts(statuses):
    counted = Counter(statuses.values())
    return {status: counted[status] for status in Target.Status.values}


def tally_counts(tally):
    return {status: getattr(tally, status) for status in Target.Status.values}


# Every way a status moves with time alone. (not_started → overdue directly would need a tolerance of 100 %.)
TRANSITIONS = {("not_started", "behind"), ("on_track", "behind"), ("behind", "overdue"), ("on_track", "overdue")}


@pytest.mark.parametrize("seed", SEEDS)
def test_a_tally_counts_what_with_progress_says_on_every_day_it_holds(regions, monkeypatch, seed):
    rng = random.Random(seed)
    programme = random_programme(rng)
    by_day = statuses_by_day(programme, monkeypatch)
    days = sorted(by_day)
    crossed = {
        (before[pk], after[pk]) for before, after in zip(map(by_day.get, days), map(by_day.get, days[1:]))
        for pk in before if before[pk] != after[pk]
    }
    # The random plan crosses every transition, and nothing else happens with time.
    assert crossed == TRANSITIONS, seed

    for counted_on in sorted(rng.sample(range(len(days) - 1), 8)):
        day = days[counted_on]
        monkeypatch.setattr(timezone, "localdate", lambda day=day: day)
        [tally] = tallies.counted([programme.pk])
        targets = list(Target.objects.filter(programme=programme).with_progress())

        measured = [t for t in targets if t.target_value is not None]
        assert tally.completion_sum == pytest.approx(sum(t.completion or 0.0 for t in measured))
        assert (tally.targets, tally.with_value) == (len(targets), len(measured))
        assert tally.pending_reports == sum(t.pending_count for t in targets)
        # Counted today, it holds today; then every day until valid_until (for good if null).
        held = [d for d in days if d == day or (d > day and (tally.valid_until is None or d <= tally.valid_until))]
        for later in held:
            assert tally_counts(tally) == counts(by_day[later]), (seed, day, later)
        # And valid_until is no more than a day early (falls_behind_day's rounding): two days later some
        # target has moved, and a move always changes the counts (statuses only move towards overdue).
        if tally.valid_until is not None and tally.valid_until + datetime.timedelta(days=2) in by_day:
            assert tally_counts(tally) != counts(by_day[tally.valid_until + datetime.timedelta(days=2)]), (seed, day)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_history_series_is_with_progress_at_each_report_date(regions, seed):
    rng = random.Random(seed)
    programme = random_programme(rng, targets=12)
    checked = 0
    for target in Target.objects.filter(programme=programme):
        for point in progress_series(target):
            at = Target.objects.with_progress(as_of=point["period_end"]).get(pk=target.pk)
            assert (point["progress"], point["completion"]) == (at.progress, at.completion), (seed, target.pk)
            checked += 1
    assert checked > 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the generator's set-based SQL is PostgreSQL's")
@pytest.mark.parametrize("seed", SEEDS)
def test_the_generators_stored_totals_are_the_progress_rules(regions, seed):
    from tracking.management.commands.generate_scale_data import refresh_all_totals

    rng = random.Random(seed)
    programme = random_programme(rng)
    by_the_rule = list(Target.objects.filter(programme=programme).order_by("pk").values())
    Target.objects.filter(programme=programme).update(cached_progress=None, cached_completion=None, cached_pending_count=7)

    refresh_all_totals()

    by_the_generator = list(Target.objects.filter(programme=programme).order_by("pk").values())
    for rule, generated in zip(by_the_rule, by_the_generator, strict=True):
        for name in ("cached_progress", "cached_last_reported_on", "cached_pending_value", "cached_pending_count",
                     "cached_completion"):
            assert generated[name] == rule[name], (seed, rule["id"], name)
    assert totals.stale_targets() == []
    assert tallies.wrong_tallies() == []
