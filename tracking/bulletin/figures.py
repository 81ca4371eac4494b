"""The bulletin's figures for a region on a date, read through the summary selectors and the progress rule.

Every count and mean here is what `GET /api/v1/summary/?region=…&as_of=…`
answers for the same region and date (test_bulletin.py checks it): the
ranking is summary()'s groups by the region's children, the totals are the
one group summary() gives for the region under its parent, and the lagging
targets are with_progress() filtered to the statuses the dashboard calls for
attention.
"""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from .. import selectors
from ..followup import selectors as followup_selectors
from ..models import Programme, Region, Target
from ..selectors import ATTENTION_STATUSES

# The lagging targets listed per region, furthest behind first; the rest are counted.
LAGGING_SHOWN = 10
# A region is red when this share of its targets (or more) is behind or overdue.
RED_SHARE = 1 / 3


def mark(group):
    """Red, amber or green for a group of summary(): red with anything overdue or a third behind,
    amber with anything behind, green otherwise; None without targets."""
    if not group["targets"]:
        return None
    lagging = group["behind"] + group["overdue"]
    if group["overdue"] or lagging >= RED_SHARE * group["targets"]:
        return "red"
    return "amber" if lagging else "green"


def target_mark(status):
    return {Target.Status.OVERDUE: "red", Target.Status.BEHIND: "amber"}.get(status, "green")


@dataclass
class Bulletin:
    region: Region
    as_of: datetime.date
    year: int
    # The region's own figures: one summary() group (or None without targets).
    totals: dict | None
    # summary()'s groups by the region's children, ranked by mean completion.
    ranking: list
    # Per group key: the lagging targets shown and how many more there are.
    lagging: dict = field(default_factory=dict)
    rates: dict = field(default_factory=dict)

    @property
    def issuer(self):
        return self.region.union_name or self.region.name


def ranked(groups):
    """Highest mean completion first; groups without a measured target last, by code."""
    return sorted(groups, key=lambda g: (g["mean_completion"] is None, -(g["mean_completion"] or 0), g["key"]))


def bulletin_figures(*, region, as_of=None):
    """The figures of `region`'s bulletin on `as_of` (today by default), in five queries.

    The caller has checked that the user may see the region; its whole
    subtree is then theirs too (the scoping rule gives subtrees).
    """
    today = timezone.localdate()
    as_of = as_of or today
    programmes = Programme.objects.filter(region__in=Region.objects.subtree(region.code))
    year = selectors.default_year(programmes, as_of)
    programmes = programmes.filter(year=year)
    # Today's figures are the stored ones (and the tallies): the same as computed from the reports, only faster.
    day = None if as_of == today else as_of
    parent = region.parent if region.parent_id else None
    whole = selectors.summary(programmes, year=year, as_of=day, region=parent)["groups"]
    by_child = selectors.summary(programmes, year=year, as_of=day, region=region)["groups"]
    bulletin = Bulletin(
        region=region, as_of=as_of, year=year, totals=whole[0] if whole else None, ranking=ranked(by_child),
        rates=followup_selectors.reporting_rates(region=region, as_of=as_of),
    )
    for group in bulletin.ranking:
        group["mark"] = mark(group)
        rate = bulletin.rates.get(group["key"]) or {}
        group["reporting_rate"], group["on_time_rate"] = rate.get("reporting_rate"), rate.get("on_time_rate")
    bulletin.lagging = lagging_targets(programmes, region, day, year)
    return bulletin


def lagging_targets(programmes, region, day, year):
    """{group key: {"shown": [targets furthest behind first], "more": count}} of the behind and overdue targets."""
    key, _name = selectors.region_grouping(region)
    targets = (
        Target.objects.with_progress(as_of=day).filter(programme__in=programmes, year=year)
        .filter(status__in=ATTENTION_STATUSES)
        .annotate(group_key=key)
        .select_related("item", "programme__region")
        .order_by("group_key", "item__number", "code_key")
    )
    lagging = {}
    for target in targets:
        lagging.setdefault(str(target.group_key), []).append(target)
    result = {}
    for group_key, found in lagging.items():
        found.sort(key=lambda t: (t.completion or 0.0) - t.expected)
        result[group_key] = {"shown": found[:LAGGING_SHOWN], "more": max(len(found) - LAGGING_SHOWN, 0)}
    return result
