"""The fixtures taken from the four union reports in seeds/."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tracking.management.commands.seed import seed_fixtures
from tracking.models import Item, ProgressReport, Programme, Target

SEEDS = Path(settings.BASE_DIR) / "seeds"
DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000}
SCALES = {"": 1, "千": 1000, "万": 10**4, "亿": 10**8}
# Page layout split one figure: "近10" ends a line and its "万人次" resumes after
# a picture caption. Each entry names the quote and the text that resumes.
SPLIT_BY_LAYOUT = {"设置课程227门(次),培训学员近10": "\n万人次,"}
NUMBER = re.compile(r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十百千]+)[多余]?([千万亿]?)")


def chinese_numeral(text):
    """三百 → 300, 十 → 10, 二十五 → 25, 百 → 100."""
    total, digit = 0, None
    for char in text:
        if char in DIGITS:
            digit = DIGITS[char]
        else:
            total += (1 if digit is None else digit) * UNITS[char]
            digit = None
    return total + (digit or 0)


def numbers_written_in(quote):
    """Every value a number written in the quote can stand for, in base units."""
    values = set()
    for match in NUMBER.finditer(quote):
        written, scale = match.groups()
        try:
            number = Decimal(written) if written[0].isdigit() else Decimal(chinese_numeral(written))
        except KeyError:
            continue
        values.add(number * SCALES[scale])
        if scale == "千":  # "3千" is 3000, but "百千" is two numerals
            values.add(number)
    if quote.startswith(("万余", "万多")):
        values.add(Decimal(10000))
    return values


@pytest.fixture
def seeded(db):
    call_command("seed", verbosity=0)


def seeded_reports():
    return ProgressReport.objects.exclude(source_quote="").select_related("target__programme")


def test_every_source_quote_occurs_verbatim_in_its_document(seeded):
    documents = {path.name: path.read_text(encoding="utf-8") for path in SEEDS.iterdir()}
    missing = [
        (r.target.natural_key(), r.source_quote)
        for r in seeded_reports()
        if r.source_quote not in documents[r.target.programme.source_document]
    ]
    assert seeded_reports().count() > 150
    assert missing == []


def test_every_quote_contains_its_number_as_written(seeded):
    wrong = []
    for r in seeded_reports():
        quote = r.source_quote
        if quote in SPLIT_BY_LAYOUT:
            document = (SEEDS / r.target.programme.source_document).read_text(encoding="utf-8")
            assert quote + "\n" in document and SPLIT_BY_LAYOUT[quote] in document
            quote += SPLIT_BY_LAYOUT[quote].strip()
        if r.value not in numbers_written_in(quote):
            wrong.append((r.source_quote, r.value))
    assert wrong == []


def test_every_seeded_figure_is_an_approved_report_of_a_results_programme(seeded):
    for r in seeded_reports():
        assert r.status == ProgressReport.Status.APPROVED
        assert r.target.programme.kind != Programme.Kind.ANNUAL_PLAN
        assert r.period_end == r.target.programme.period_end


def test_each_document_became_a_programme(seeded):
    assert sorted(Programme.objects.values_list("region", "year", "kind")) == [
        ("320582", 2023, "review"),
        ("320583", 2018, "review"),
        ("320612", 2023, "annual_report"),
        ("320612", 2024, "annual_plan"),
        ("321102", 2022, "annual_report"),
    ]
    assert {p.source_document for p in Programme.objects.all()} == {path.name for path in SEEDS.iterdir()}


def counts():
    return [model.objects.count() for model in (Programme, Item, Target, ProgressReport)]


def test_loading_the_fixtures_twice_leaves_the_counts_unchanged(seeded):
    first = counts()
    call_command("loaddata", *seed_fixtures(), verbosity=0)
    assert counts() == first


def test_stored_totals_of_seeded_targets_match_their_reports(seeded):
    from tracking.totals import stale_targets

    assert stale_targets() == []
    assert not Target.objects.with_progress().filter(programme__kind="review", progress__isnull=True).exists()
