"""A proposal as a fixture in the format of fixtures/: programme, items, targets and draft reports.

Only ticked figures are written. A plan's figures become target values; a
report's become draft progress reports on targets without a target value,
so loading the file puts nothing past the review workflow.
"""

import datetime

from .units import PERCENTAGE

PLAN = "annual_plan"
LONGEST_TITLE = 200
LONGEST_UNIT = 20


def default_period(kind, year):
    """A plan or a report covers its year; a review the five years ending with it."""
    first = year - 4 if kind == "review" else year
    return datetime.date(first, 1, 1), datetime.date(year, 12, 31)


def draft_objects(proposal, *, region, year, period_start, period_end, source_document=""):
    """The fixture's objects, as dicts ready for json.dumps."""
    kind = proposal.kind
    key = [region, year, kind]
    start, end = period_start.isoformat(), period_end.isoformat()
    notes = "；".join(flag.message for flag in proposal.flags)
    objects = [
        {
            "model": "tracking.programme",
            "fields": {
                "region": region, "kind": kind, "title": proposal.title[:LONGEST_TITLE],
                "description": ("由 extract_report 从原文自动提取，待人工核对。" + notes)[:4000],
                "year": year, "period_start": start, "period_end": end,
                "source_document": source_document[:100],
            },
        }
    ]
    for number, item in enumerate(draft_items(proposal), start=1):
        objects.append(
            {
                "model": "tracking.item",
                "fields": {"programme": key, "number": number, "title": item["title"],
                           "text": item["text"], "category": item["category"]},
            }
        )
        for code, target in enumerate(item["targets"], start=1):
            target_key = [*key, f"{number}.{code}"]
            objects.append(
                {
                    "model": "tracking.target",
                    "fields": {
                        "programme": key, "item": [*key, number], "year": year, "period_start": start,
                        "code": target_key[-1], "name": target["name"], "unit": target["unit"],
                        "target_value": target["target_value"], "measure": target["measure"],
                        "aggregation": target["aggregation"], "due_date": end,
                    },
                }
            )
            if target["report"] is not None:
                objects.append({"model": "tracking.progressreport", "fields": {"target": target_key, "period_end": end, **target["report"]}})
    return objects


def draft_items(proposal):
    """The items to save, each with its targets (and a target's draft report): the one shape
    that both the fixture writer and tracking.services.create_draft_programme take."""
    return [
        {"title": item.title[:LONGEST_TITLE], "text": item.text, "category": item.category,
         "targets": targets_of(item, figures, proposal.kind)}
        for item, figures in kept_items(proposal)
    ]


def kept_items(proposal):
    """Items in order with their ticked figures; a report's items without any are left out."""
    for index, item in enumerate(proposal.items):
        figures = [f for f in proposal.figures if f.selected and f.item == index]
        if figures or (proposal.kind == PLAN and item.milestone):
            yield item, figures


def targets_of(item, figures, kind):
    """One target per figure, or one milestone for a plan item that promises an act."""
    if not figures:
        return [{
            "name": item.title[:LONGEST_TITLE], "unit": "项", "target_value": "1", "measure": "milestone",
            "aggregation": "latest", "report": None,
        }]
    return [target_of(figure, kind) for figure in figures]


def target_of(figure, kind):
    value = format(figure.value, "f")
    plan = kind == PLAN
    return {
        "name": (figure.name or figure.unit)[:LONGEST_TITLE],
        "unit": figure.unit[:LONGEST_UNIT],
        "target_value": value if plan else None,
        "measure": figure.measure,
        # A rate is a level, not an increment: its latest report is its progress.
        "aggregation": "latest" if figure.measure == PERCENTAGE else "sum",
        "report": None if plan else {
            "value": value, "qualifier": figure.qualifier, "note": note_of(figure),
            "source_quote": figure.quote, "status": "draft",
        },
    }


FLAG_NOTES = {
    "split": "原文此数被版面隔断，请核对",
    "layout": "原文表格版面错乱，请核对",
    "caption": "取自图片说明",
    "repeated": "与前文重复",
}


def note_of(figure):
    return "；".join(FLAG_NOTES[flag] for flag in figure.flags if flag in FLAG_NOTES)
