"""What the public may read about a region: approved figures only, as plain dicts.

Both the 公示 pages (tracking/public/views.py) and the public API
(tracking/api/public.py) read through region_page(), so they show the same
content. Each figure comes from the progress rule: with_progress() reads the
stored totals, which count approved reports only; the series are
progress_series_of(), approved reports only; the districts' figures are
selectors.summary()'s. The rows are read with values() naming every column,
so nothing else a report carries (drafts, pending values, notes, review
notes, who entered or reviewed it) can reach a public answer; evidence only
where a reviewer published it (ProgressReport.evidence_public), as a link.
"""

from django.db.models import Max
from django.utils import timezone

from .. import selectors
from ..models import Item, Programme, ProgressReport, Region, Target
from ..progress import progress_series_of

TARGET_FIELDS = (
    "id", "item_id", "code", "name", "unit", "target_value", "measure", "aggregation", "period_start", "due_date",
    "progress", "completion", "expected", "status", "last_reported_on",
)
# Per district or city: the public part of a summary() group (pending reports are not public).
GROUP_FIGURES = ("targets", "not_started", "on_track", "behind", "overdue", "achieved", "reported", "mean_completion")


def top_regions():
    """The regions without a parent (the provinces), for the public index."""
    return list(Region.objects.filter(parent__isnull=True).order_by("code").values("code", "name", "union_name"))


def region_page(region):
    """A region's public content today: its own programmes of the year shown, with items, targets,
    approved progress, status and series; its children with their figures; the last report date.

    Nine queries, however many targets and children.
    """
    today = timezone.localdate()
    subtree = Programme.objects.filter(region__in=Region.objects.subtree(region.code))
    year = selectors.default_year(subtree, today)
    programmes = list(
        subtree.filter(region=region, year=year).order_by("kind", "pk")
        .values("id", "kind", "title", "year", "period_start", "period_end")
    )
    ids = [p["id"] for p in programmes]
    items = list(
        Item.objects.filter(programme__in=ids).order_by("programme", "number")
        .values("id", "programme_id", "number", "title", "category")
    )
    targets = list(
        Target.objects.filter(programme__in=ids).with_progress()
        .order_by("item__number", "code_key").values(*TARGET_FIELDS)
    ) if ids else []
    series = progress_series_of([t["id"] for t in targets]) if targets else {}
    evidence = published_evidence([t["id"] for t in targets]) if targets else {}
    by_item = {}
    for target in targets:
        target["series"] = [
            {"period_end": p["period_end"], "progress": p["progress"], "completion": p["completion"]}
            for p in series.get(target["id"], [])
        ]
        target["evidence"] = evidence.get(target["id"], [])
        by_item.setdefault(target["item_id"], []).append(target)
    by_programme = {}
    for item in items:
        item["targets"] = by_item.get(item["id"], [])
        by_programme.setdefault(item["programme_id"], []).append(item)
    for programme in programmes:
        programme["items"] = by_programme.get(programme["id"], [])
    return {
        "region": region,
        "parent": region.parent,
        "year": year,
        "today": today,
        "programmes": programmes,
        "children": children_figures(region, subtree.filter(year=year), year),
        "last_reported_on": last_reported_on(region, year),
    }


def published_evidence(target_ids):
    """{target id: [{"id", "period_end"}, ...]}: the evidence reviewers published, of approved reports, by date."""
    rows = (
        ProgressReport.objects.filter(target__in=target_ids, status=ProgressReport.Status.APPROVED, evidence_public=True)
        .order_by("target", "period_end").values("id", "target_id", "period_end")
    )
    found = {}
    for row in rows:
        found.setdefault(row.pop("target_id"), []).append(row)
    return found


def children_figures(region, programmes, year):
    """Each child region (with or without targets) and its summary() figures for the year."""
    children = list(Region.objects.filter(parent=region).order_by("code").values("code", "name", "level"))
    if not children:
        return []
    groups = {g["key"]: g for g in selectors.summary(programmes, year=year, region=region)["groups"]}
    for child in children:
        group = groups.get(child["code"])
        child.update({figure: (group[figure] if group else 0) for figure in GROUP_FIGURES})
        if group is None:
            child["mean_completion"] = None
    return children


def last_reported_on(region, year):
    """The date of the latest approved report of the year in the region and below: the last update."""
    return (
        Target.objects.filter(programme__region__in=Region.objects.subtree(region.code), year=year)
        .with_progress().aggregate(latest=Max("last_reported_on"))["latest"]
    )
