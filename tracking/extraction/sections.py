"""A document's own sections: numbered headings (一、 (一) 1.), Markdown headings, and short title lines.

Reports mark their sections in several ways at once: a title, sub-titles,
numbered parts and paragraph leads. Each way is a level; the items are the
sections of the level that puts the figures into the most sections, so the
document's main division wins whichever way it is written.
"""

import re
from dataclasses import dataclass

NUMERALS = "一二三四五六七八九十"
NUMBERED = [
    ("part", re.compile(rf"第[{NUMERALS}]+(?:部分|章|节)\s*")),
    ("chinese", re.compile(rf"[{NUMERALS}]+[、．.]\s*")),
    ("bracketed", re.compile(rf"[（(][{NUMERALS}]+[)）]\s*")),
    ("arabic", re.compile(r"\d{1,2}(?:[、．]|\.(?!\d))\s*")),
    ("circled", re.compile(r"[①②③④⑤⑥⑦⑧⑨⑩]\s*")),
]
RANK = ("part", "chinese", "bracketed", "arabic", "circled")
MARKDOWN = re.compile(r"(#{1,6})\s+")
# Sentence punctuation: a line with any of it is prose, not a title.
PROSE = re.compile(r"[。，,；;！!？?]")
TITLE_LENGTH = 30
FINISHED = ("。", "！", "？", "；", "!", "?", ";", "”", "」")
SHORT_PART = 12  # two short lines in a row are one title broken in two (坚持需求导向 / 保障关怀惠民润心)
NUMBERED_TITLE = 60  # a numbered line longer than this is a list entry whose title is its first phrase


@dataclass
class Heading:
    level: str
    start: int  # the line's start
    end: int  # the line's end
    title: str


def _line_spans(text):
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text) if m.group().strip()]


def _gap(text, start, end):
    before = len(text[:start]) - len(text[:start].rstrip("\n"))
    after = len(text[end:]) - len(text[end:].lstrip("\n"))
    return before, after


def headings(text):
    """Every line that looks like a heading, with its level."""
    found = []
    spans = _line_spans(text)
    for index, (start, end) in enumerate(spans):
        line = text[start:end].strip()
        if line.startswith("|"):
            continue
        markdown = MARKDOWN.match(line)
        if markdown:
            found.append(Heading(f"markdown{len(markdown.group(1))}", start, end, line[markdown.end():].strip()))
            continue
        numbered = next(((level, p.match(line)) for level, p in NUMBERED if p.match(line)), None)
        if numbered:
            level, match = numbered
            # （一）深入学习宣传贯彻党的二十大精神。组建…: the title is the lead sentence.
            title = re.split(r"[。：:]", line[match.end():])[0]
            if len(title) > NUMBERED_TITLE:
                title = PROSE.split(title)[0]
            found.append(Heading(level, start, end, title.strip().rstrip("；;。")))
            continue
        if _is_title_line(text, line, start, end, spans, index):
            found.append(Heading("title", start, end, line))
    return _join_broken_titles(text, found)


def _is_title_line(text, line, start, end, spans, index):
    if len(line) > TITLE_LENGTH or PROSE.search(line) or line.startswith(("—", "-", "*", ">")):
        return False
    before, after = _gap(text, start, end)
    if re.search(r"\S\s+\S", line):
        return True  # 把牢政治方向 职工思想有效凝聚: two phrases set side by side
    if index + 1 < len(spans):
        next_line = text[spans[index + 1][0]:spans[index + 1][1]].strip()
        if len(line) <= SHORT_PART and len(next_line) <= SHORT_PART and not PROSE.search(next_line):
            return True  # one title broken over two lines
    if before <= 2 and after <= 2:
        return True
    # A short line after extra blank lines is a picture's caption when the
    # prose before it stops mid-sentence (the page break put the picture
    # there), and a title when that prose had finished.
    return after <= 2 and _previous_prose_finished(text, spans, index)


def _previous_prose_finished(text, spans, index):
    for start, end in reversed(spans[:index]):
        line = text[start:end].strip()
        if len(line) > TITLE_LENGTH or PROSE.search(line[-1:]):
            return line.endswith(FINISHED)
    return True


def _join_broken_titles(text, found):
    joined = []
    for heading in found:
        previous = joined[-1] if joined else None
        if (
            previous
            and previous.level == heading.level == "title"
            and len(previous.title) <= SHORT_PART
            and len(heading.title) <= SHORT_PART
            and " " not in previous.title + heading.title
            and not text[previous.end:heading.start].strip()
        ):
            joined[-1] = Heading("title", previous.start, heading.end, f"{previous.title} {heading.title}")
            continue
        joined.append(heading)
    return joined


def sections(text, positions, prefer=None):
    """(title, start, end) of the sections at the level that holds the given positions best.

    positions are the offsets of the figures; prefer names levels to try
    first (a plan's items are its numbered entries). Text before the first
    heading is a section of its own, titled "总述".
    """
    found = headings(text)
    levels = {heading.level for heading in found}
    # Numbered parts nest: 一、 holds (一), which holds 1. The outermost numbering
    # used at least twice is the document's division; only without numbering
    # do Markdown and plain titles compete, by how well they spread the figures.
    numbered = [level for level in RANK if sum(h.level == level for h in found) > 1]
    if prefer:
        numbered = [level for level in prefer if level in numbered] or numbered
    if numbered:
        levels = {numbered[0]}
    best, best_score = None, 0
    for level in sorted(levels):
        marks = [h for h in found if h.level == level]
        bounds = [h.start for h in marks] + [len(text)]
        score = sum(
            1 for i, h in enumerate(marks) if any(bounds[i] <= p < bounds[i + 1] for p in positions)
        )
        if score > best_score or (numbered and best is None):
            best, best_score = level, score
    marks = [h for h in found if h.level == best] if best else []
    result = []
    first = marks[0].start if marks else len(text)
    if not marks or text[:first].strip():
        result.append(("总述", 0, first))
    for i, heading in enumerate(marks):
        end = marks[i + 1].start if i + 1 < len(marks) else len(text)
        result.append((heading.title, heading.start, end))
    return result
