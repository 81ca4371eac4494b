"""The extractor measured against figures taken by hand: recall, precision, value and qualifier accuracy.

A proposed figure matches a gold figure when its quote overlaps the gold
quote's place in the text and its value is the gold value. A proposed figure
that overlaps but reads another value counts against value accuracy. Only
ticked figures are proposals; unticked ones (captions, repeats, a damaged
table) wait for a person and are neither right nor wrong here.
"""

import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from . import extract


@dataclass
class Gold:
    value: Decimal
    quote: str
    qualifier: str


@dataclass
class Score:
    name: str
    gold: int = 0
    proposed: int = 0
    correct: int = 0  # value right and quote overlapping
    wrong_value: int = 0  # quote overlapping, value wrong
    right_qualifier: int = 0
    seconds: float = 0.0
    characters: int = 0
    missed: list = field(default_factory=list)
    spurious: list = field(default_factory=list)

    @property
    def recall(self):
        return self.correct / self.gold if self.gold else 1.0

    @property
    def precision(self):
        return self.correct / self.proposed if self.proposed else 1.0

    @property
    def value_accuracy(self):
        matched = self.correct + self.wrong_value
        return self.correct / matched if matched else 1.0

    @property
    def qualifier_accuracy(self):
        return self.right_qualifier / self.correct if self.correct else 1.0

    def __add__(self, other):
        total = Score("合计")
        for name in ("gold", "proposed", "correct", "wrong_value", "right_qualifier", "seconds", "characters"):
            setattr(total, name, getattr(self, name) + getattr(other, name))
        return total


def spans_of(text, quote):
    """Where a quote stands in the text; a quote assembled from pieces is found piece by piece."""
    spans, start = [], text.find(quote)
    while start != -1:
        spans.append((start, start + len(quote)))
        start = text.find(quote, start + 1)
    if spans or not quote:
        return spans
    # The longest prefix found, then the rest: how the reassembled table items were made.
    for length in range(len(quote) - 1, 3, -1):
        start = text.find(quote[:length])
        if start != -1:
            return [(start, start + length), *spans_of(text, quote[length:])]
    return []


def score(name, text, gold, proposal, seconds=0.0):
    result = Score(name, gold=len(gold), seconds=seconds, characters=len(text))
    figures = [figure for figure in proposal.figures if figure.selected]
    result.proposed = len(figures)
    used = set()
    for expected in gold:
        spans = spans_of(text, expected.quote)

        def overlaps(figure):
            return any(figure.offset < end and start < figure.offset + len(figure.quote) for start, end in spans)

        same = next((i for i, f in enumerate(figures) if i not in used and f.value == expected.value and overlaps(f)), None)
        if same is not None:
            used.add(same)
            result.correct += 1
            result.right_qualifier += figures[same].qualifier == expected.qualifier
            continue
        other = next(
            (i for i, f in enumerate(figures) if i not in used and overlaps(f) and _inside(f, spans)), None
        )
        if other is not None:
            used.add(other)
            result.wrong_value += 1
        result.missed.append(expected)
    result.spurious = [figure for i, figure in enumerate(figures) if i not in used]
    return result


def _inside(figure, spans):
    return any(start <= figure.start < end for start, end in spans)


def timed_extract(text, kind):
    started = time.perf_counter()
    proposal = extract(text, kind)
    return proposal, time.perf_counter() - started


# --- the development set: seeds/ and today's fixtures ----------------------------------------------


def fixture_gold(path):
    """(document name, kind, gold figures) of a fixture: its reports, or a plan's targets in its item texts."""
    objects = json.loads(Path(path).read_text(encoding="utf-8"))
    programme = next(o["fields"] for o in objects if o["model"] == "tracking.programme")
    reports = [o["fields"] for o in objects if o["model"] == "tracking.progressreport"]
    if reports:
        gold = [Gold(Decimal(r["value"]), r["source_quote"], r["qualifier"]) for r in reports]
    else:
        items = {o["fields"]["number"]: o["fields"]["text"] for o in objects if o["model"] == "tracking.item"}
        gold = [
            Gold(Decimal(t["fields"]["target_value"]), items[t["fields"]["item"][-1]], "exact")
            for t in objects
            if t["model"] == "tracking.target" and t["fields"]["measure"] != "milestone"
        ]
    return programme["source_document"], programme["kind"], gold


def unseen_gold(path):
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return data["kind"], [Gold(Decimal(f["value"]), f["quote"], f["qualifier"]) for f in data["figures"]]
