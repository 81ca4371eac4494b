"""A numbered list laid out in table columns and read back row by row, so its entries are cut and shuffled.

PDF converters read a multi-column list across the page: entry 2 starts in
one row and ends in the row above, entry 9 is spread over three cells. The
signs are general: numbered cells out of order, numbered cells that stop
mid-sentence, and cells with no number that carry the rest.

Reassembly relies on one property of the damage: cutting a list into columns
keeps each entry's pieces in reading order. So the unfinished entries, in
their own order, take the unnumbered pieces in theirs, preferring a piece
that fits (a measure word after a trailing number, a closing bracket for an
open one). The result is always flagged for a person to check.
"""

import re
from dataclasses import dataclass, field

from .units import UNIT_FIRST_CHARS

LIST_NUMBER = re.compile(r"(\d{1,2})[.、．]\s*")
FINISHED = ("；", ";", "。", ".")
SEPARATOR_CELL = re.compile(r"[-:\s]*")


@dataclass
class Cell:
    start: int  # offset of the cell's text (without list number) in the document
    end: int
    number: int | None  # the list number the cell opens with, if any

    def text(self, document):
        return document[self.start:self.end]


@dataclass
class Entry:
    number: int
    cells: list = field(default_factory=list)

    def text(self, document):
        return "".join(cell.text(document) for cell in self.cells).rstrip("；;。")


@dataclass
class Table:
    start: int
    end: int
    cells: list
    scrambled: bool
    entries: list  # reassembled, in number order; empty when not scrambled


def tables(text):
    """Every pipe table in the text (Markdown tables, as converters write them)."""
    found, block = [], []
    for match in re.finditer(r"[^\n]*", text):
        if match.group().count("|") >= 2:
            block.append(match)
        elif match.group().strip() or not block:
            if block:
                found.append(_table(text, block))
            block = []
    if block:
        found.append(_table(text, block))
    return found


def _table(text, rows):
    cells = []
    for row in rows:
        position = row.start()
        for raw in row.group().split("|"):
            start = position + len(raw) - len(raw.lstrip())
            end = position + len(raw.rstrip())
            position += len(raw) + 1
            content = text[start:end]
            if not content or SEPARATOR_CELL.fullmatch(content):
                continue
            number = LIST_NUMBER.match(content)
            if number:
                cells.append(Cell(start + number.end(), end, int(number.group(1))))
            else:
                cells.append(Cell(start, end, None))
    scrambled = _scrambled(text, cells)
    return Table(rows[0].start(), rows[-1].end(), cells, scrambled, _reassembled(text, cells) if scrambled else [])


def _scrambled(text, cells):
    numbered = [cell.number for cell in cells if cell.number is not None]
    pieces = [cell for cell in cells if cell.number is None]
    if len(numbered) < 2 or not pieces:
        return False
    unfinished = [cell for cell in cells if cell.number is not None and not cell.text(text).endswith(FINISHED)]
    return numbered != sorted(numbered) or bool(unfinished)


def _reassembled(text, cells):
    entries = {cell.number: Entry(cell.number, [cell]) for cell in cells if cell.number is not None}
    pieces = [cell for cell in cells if cell.number is None]
    for number in sorted(entries):
        entry = entries[number]
        while pieces and not entry.cells[-1].text(text).endswith(FINISHED):
            piece = next((p for p in pieces if _fits(entry.text(text), p.text(text))), pieces[0])
            pieces.remove(piece)
            entry.cells.append(piece)
    return [entries[number] for number in sorted(entries)]


def _fits(so_far, piece):
    if so_far[-1:].isdigit():
        return piece[:1] in UNIT_FIRST_CHARS
    if so_far.count("(") + so_far.count("（") > so_far.count(")") + so_far.count("）"):
        return ")" in piece or "）" in piece
    return True
