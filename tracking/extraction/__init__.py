"""From a union report's text to a draft programme: items, figures and targets, each with its source.

    proposal = extract(text, kind="annual_report")

Nothing here touches the database; tracking.services.create_draft_programme
saves what a person kept. Modules: figures (numbers with units), names (what
is not a figure), sections (items), layout (captions, page breaks, repeats),
tables (lists cut into columns), fixture (the fixtures/ format), evaluation.
"""

from . import figures as figure_finder
from . import layout, sections, tables
from .categories import category_of
from .proposal import Figure, Flag, Item, Proposal

__all__ = ["extract", "check_text", "Figure", "Flag", "Item", "Proposal", "TextRefused", "MAX_CHARACTERS"]

PLAN = "annual_plan"
PLAN_LEVELS = ("arabic", "chinese", "bracketed", "circled", "part")
# A report is a few tens of thousands of characters; far more is not a report.
MAX_CHARACTERS = 200_000


class TextRefused(ValueError):
    """The text cannot be read as a report; the message says why, in Chinese."""


def check_text(text):
    """The text, or TextRefused: empty, binary or far too long."""
    if not isinstance(text, str) or not text.strip():
        raise TextRefused("文本为空，请粘贴或上传报告全文")
    if "\x00" in text or sum(1 for c in text[:4000] if ord(c) < 32 and c not in "\n\r\t") > 10:
        raise TextRefused("文件不是文本（可能是二进制文件），请上传 UTF-8 或 GB18030 编码的 .txt 文本")
    if len(text) > MAX_CHARACTERS:
        raise TextRefused(f"文本过长（{len(text):,} 字，上限 {MAX_CHARACTERS:,} 字），请分部分提取")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def extract(text, kind="annual_report"):
    """A proposal for the whole text. kind is a Programme.Kind value; a plan's figures are its targets."""
    text = check_text(text)
    found = figure_finder.find_figures(text)
    found, flags = layout.join_split_figures(text, found)
    layout.untick_captions(found, layout.caption_lines(text, sections.headings(text)))
    layout.untick_restatements(text, found)
    for table in tables.tables(text):
        if table.scrambled:
            flags.append(_table_flag(text, table))
            if kind != PLAN:
                _untick_inside(found, table.start, table.end)
            else:
                found = _reassembled_figures(text, table, found)
    items = _items(text, kind, found)
    title = next((h.title for h in sections.headings(text)), text.strip().split("\n")[0][:100])
    return Proposal(text=text, kind=kind, title=title[:200], items=items, figures=found, flags=flags)


def _untick_inside(found, start, end):
    for figure in found:
        if start <= figure.start < end:
            figure.selected = False
            figure.flags.append("layout")


def _table_flag(text, table):
    detail = [
        {"number": entry.number, "text": entry.text(text), "pieces": [[cell.start, cell.end] for cell in entry.cells]}
        for entry in table.entries
    ]
    return Flag(
        kind="scrambled_table",
        message="表格被拆分成列并打乱：各项内容被切成几段、顺序错乱。已按序号尝试拼接，请逐项核对原文。",
        start=table.start,
        end=table.end,
        detail=detail,
    )


def _reassembled_figures(text, table, found):
    """In a plan, figures read from each reassembled entry, so 托管班10 | 家 is one figure again."""
    outside = [f for f in found if not table.start <= f.start < table.end]
    inside = []
    for entry in table.entries:
        joined, where = "", []
        for cell in entry.cells:
            where.extend(range(cell.start, cell.end))
            joined += cell.text(text)
        for figure in figure_finder.find_figures(joined):
            # Offsets go back to the document; a quote stays inside the piece
            # holding the number, since the pieces are not adjacent there.
            start, last = where[figure.start], where[figure.end - 1]
            piece = next(cell for cell in entry.cells if cell.start <= start < cell.end)
            split = not piece.start <= last < piece.end
            figure.start = start
            figure.end = piece.end if split else last + 1
            figure.offset = max(where[figure.offset], piece.start)
            figure.quote = text[figure.offset:figure.end]
            figure.written = text[start:figure.end]
            figure.flags.append("layout")
            if split:
                figure.flags.append("split")
            inside.append(figure)
    return sorted(outside + inside, key=lambda f: f.start)


def _items(text, kind, found):
    table_entries = []
    if kind == PLAN:
        for table in tables.tables(text):
            table_entries.extend(table.entries)
    positions = [f.start for f in found]
    parts = sections.sections(text, positions, prefer=PLAN_LEVELS if kind == PLAN else None)
    items = []
    for title, start, end in parts:
        inside = [f for f in found if start <= f.start < end]
        entries = [e for e in table_entries if start <= e.cells[0].start < end]
        if entries:
            for entry in entries:
                items.append(_entry_item(text, entry, found, len(items) + 1))
            continue
        if not inside and kind != PLAN:
            continue  # a title, a byline, a closing paragraph: no figures, no item
        body = text[start:end].strip()
        if kind == PLAN and (not body or (not inside and start == 0 and len(parts) > 1)):
            continue  # a plan's preamble ("办好以下十件实事：") is no item of its own
        number = len(items) + 1
        for figure in inside:
            figure.item = number - 1
        items.append(
            Item(number=number, title=title[:200] or f"第{number}项", text=body, start=start, end=end,
                 category=category_of(title, body), milestone=kind == PLAN and not inside)
        )
    return items


def _entry_item(text, entry, found, number):
    body = entry.text(text)
    cells = entry.cells
    for figure in found:
        if any(cell.start <= figure.start < cell.end for cell in cells):
            figure.item = number - 1
    has_figures = any(any(cell.start <= f.start < cell.end for cell in cells) for f in found)
    title = sections.PROSE.split(body)[0][:200]
    return Item(number=number, title=title, text=body, start=cells[0].start, end=cells[-1].end,
                category=category_of(title, body), milestone=not has_figures)
