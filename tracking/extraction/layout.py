"""Damage done by page layout: photo captions, figures split across a page break, restated sentences.

Reports reach us converted from PDF or web pages. Pictures leave short
caption lines set apart by extra blank lines, a page break can cut "近10" from
its "万人次" with a caption in between, and a closing paragraph often repeats
an opening one. Figures touched by any of these are kept but flagged, and
captions and repeats are proposed unticked, so a person decides.
"""

import re
from dataclasses import replace

from .. import numbers
from ..numbers import BEFORE, NUMERAL
from .proposal import Flag

CAPTION_LENGTH = 60
CAPTION_GAP = 4  # newlines: three blank lines or more set a caption apart
SPLIT_LOOKBACK = 4  # lines searched back for the first half of a split figure
SIMILAR = 0.5
FINISHED = ("。", "！", "？", "；", "!", "?", ";", "”")  # bigram overlap above which a sentence restates an earlier one


def lines(text):
    """(start, end) of every non-empty line."""
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text) if m.group().strip()]


def gap_before(text, start):
    return len(text[:start]) - len(text[:start].rstrip("\n"))


def gap_after(text, end):
    return len(text[end:]) - len(text[end:].lstrip("\n"))


def caption_lines(text, headings):
    """Short lines set apart by three or more blank lines: captions of pictures that were there.

    Not a line that opens with a number right after prose that stopped
    mid-sentence: that is the sentence resuming after the picture (发放助学金 … 415万元。).
    """
    heading_starts = {heading.start for heading in headings}
    all_lines = lines(text)
    return [
        (start, end)
        for index, (start, end) in enumerate(all_lines)
        if end - start < CAPTION_LENGTH
        and start not in heading_starts
        and not text[start:end].lstrip().startswith("|")
        and max(gap_before(text, start), gap_after(text, end)) >= CAPTION_GAP
        and not _resumes(text, all_lines, index)
    ]


def _resumes(text, all_lines, index):
    start = all_lines[index][0]
    opening = NUMERAL.match(text, start)
    if opening is None or not opening.group():
        return False
    for line_start, line_end in reversed(all_lines[:index]):
        if line_end - line_start >= CAPTION_LENGTH:
            return not text[line_start:line_end].rstrip().endswith(FINISHED)
    return False


def untick_captions(figures, captions):
    for figure in figures:
        if "split" in figure.flags:
            continue  # a sentence resuming across a picture, not a caption
        if any(start <= figure.start < end for start, end in captions):
            figure.selected = False
            figure.flags.append("caption")


def join_split_figures(text, figures):
    """近10 … (a caption) … 万人次: a number at a line's end joined to the scale and unit that resume later.

    Returns the figures with each such pair made one, and a flag for each.
    """
    result, flags = [], []
    for figure in figures:
        joined = _joined(text, figure) if figure.written[:1] in numbers.SCALES and _line_start(text, figure.start) else None
        if joined is None:
            result.append(figure)
            continue
        result.append(joined)
        flags.append(
            Flag(
                kind="split_figure",
                message=f"数字被版面隔断：“{joined.written}”与其后的“{figure.written}”之间隔有其他内容，请核对",
                start=joined.start,
                end=figure.end,
            )
        )
    return result, flags


def _line_start(text, position):
    return position == 0 or text[position - 1] == "\n"


def _joined(text, figure):
    previous = [line for line in lines(text[: figure.start])][-SPLIT_LOOKBACK:]
    for start, end in reversed(previous):
        ending = None
        for match in NUMERAL.finditer(text, start, end):
            if match.group() and match.end() == end and match["scale"] is None:
                ending = match
        if ending is None:
            continue
        first = numbers.numeral_value(ending)
        scale = numbers.parse_number(figure.written[: len(figure.written) - len(figure.unit)] or "万").value
        qualifier = first.qualifier
        for word, word_qualifier in BEFORE.items():
            if text.startswith(word, ending.start() - len(word)):
                qualifier = word_qualifier
                break
        quote_start = max(text.rfind(c, start, ending.start()) for c in "，,；;。") + 1 or start
        quote_start = max(quote_start, start)
        return replace(
            figure,
            value=numbers.tidy(first.value * scale),
            qualifier=qualifier,
            written=text[ending.start():end],
            start=ending.start(),
            end=end,
            quote=text[quote_start:end],
            offset=quote_start,
            flags=[*figure.flags, "split"],
        )
    return None


def sentence_of(text, position):
    start = max(text.rfind(c, 0, position) for c in "。\n") + 1
    ends = [i for i in (text.find(c, position) for c in "。\n") if i != -1]
    return start, min(ends, default=len(text))


def bigrams(sentence):
    return {sentence[i:i + 2] for i in range(len(sentence) - 1)}


def untick_restatements(text, figures):
    """A figure whose whole sentence restates an earlier sentence's, with the same value and unit."""
    seen = []
    for figure in figures:
        span = sentence_of(text, figure.start)
        grams = bigrams(text[span[0]:span[1]])
        for other_span, other_grams, other in seen:
            if other_span == span or (other.value, other.unit) != (figure.value, figure.unit):
                continue
            if len(grams & other_grams) / max(1, len(grams | other_grams)) >= SIMILAR:
                figure.selected = False
                figure.flags.append("repeated")
                break
        seen.append((span, grams, figure))
