"""The import's columns and one parser per column: what a clerk may write in a cell, and what it means."""

import datetime
import unicodedata
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import VALUE_FIELD, Programme, ProgressReport
from ..numbers import EXACT, parse_number

# Canonical column → accepted headers. The first alias is the header used by
# exports and templates, so a downloaded file imports back unchanged.
COLUMNS = {
    "region": ("地区代码", "region", "行政区划代码"),
    "year": ("年度", "year"),
    "kind": ("计划类型", "kind"),
    "item": ("事项序号", "item", "item_number"),
    "target": ("指标编号", "target", "target_code", "code"),
    "period_end": ("截至日期", "period_end", "date"),
    "value": ("数值", "value"),
    "qualifier": ("限定", "qualifier"),
    "note": ("备注", "note"),
}
REQUIRED = ("region", "year", "kind", "item", "target", "period_end", "value")
HEADER_TO_COLUMN = {alias.lower(): column for column, aliases in COLUMNS.items() for alias in aliases}
KINDS = {**{k: k for k in Programme.Kind.values}, **{str(label): k for k, label in Programme.Kind.choices}}
QUALIFIERS = {
    **{k: k for k in ProgressReport.Qualifier.values},
    **{str(label): k for k, label in ProgressReport.Qualifier.choices},
    "": ProgressReport.Qualifier.EXACT,
}
MAX_NOTE = ProgressReport._meta.get_field("note").max_length
INTEGER_DIGITS = VALUE_FIELD["max_digits"] - VALUE_FIELD["decimal_places"]
# What makes a spreadsheet read a cell as a formula (after NFKC, so full-width
# ＝ and ＋ count too); an apostrophe before one of these says "text", and
# tracking.exports.excel_safe writes one there.
FORMULA_START = ("=", "+", "-", "@")
TEXT_MARK = "'"


def from_excel_text(text):
    """A cell as excel_safe() wrote it, without the apostrophe that kept it from being a formula."""
    if text[:1] == TEXT_MARK and text[1:2] in (*FORMULA_START, TEXT_MARK):
        return text[1:]
    return text


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    # ASCII is already in NFKC form; most cells are, and normalising is the costly part.
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.strip()
    if "\x00" in text:
        raise ValueError(_("含有非法字符"))
    if text.startswith("="):
        raise ValueError(_("不接受公式，请粘贴为数值"))
    return from_excel_text(text)


def parse_value(value):
    """A non-negative decimal. Accepts "12,000" and full-width "１２０００" as 12000."""
    typed = _text(value)
    text = typed.replace(",", "").replace("，", "")
    if not text:
        raise ValueError(_("数值不能为空"))
    # Errors quote the cell as typed ("1,2x"), not as cleaned up ("12x"), so the clerk finds it.
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = _written_number(text, typed)
    if not number.is_finite():
        raise ValueError(_("“%(text)s”不是有效的数字") % {"text": typed[:20]})
    if number < 0:
        raise ValueError(_("数值不能为负数"))
    if number.adjusted() >= INTEGER_DIGITS:
        raise ValueError(_("数值过大"))
    if number != number.quantize(Decimal(1).scaleb(-VALUE_FIELD["decimal_places"]), rounding="ROUND_HALF_UP"):
        raise ValueError(_("小数位数不能超过 %(n)d 位") % {"n": VALUE_FIELD["decimal_places"]})
    return number


def _written_number(text, typed):
    """A number as a clerk writes it (1.2万, 一千二百), by the parser the extractor uses too.

    A qualifier written into the value (3千余, 约400) is refused rather than
    dropped: the report has its own qualifier, which the clerk should set.
    """
    if text[:1] in "-−":
        raise ValueError(_("数值不能为负数"))
    try:
        number = parse_number(text)
    except ValueError:
        raise ValueError(_("“%(text)s”不是有效的数字") % {"text": typed[:20]}) from None
    if number.qualifier != EXACT:
        raise ValueError(
            _("“%(text)s”含有“余、多、约、以上”等限定词，请只填数值，并在“限定”中选择") % {"text": typed[:20]}
        )
    return number.value


def parse_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    if len(text) == 10 and text[4] == text[7] == "-" and text[:4].isdigit() and text[5:7].isdigit() and text[8:].isdigit():
        # The common 2024-06-30, without strptime's cost; it gives the same date.
        try:
            return datetime.date(int(text[:4]), int(text[5:7]), int(text[8:]))
        except ValueError:
            pass
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("“%(text)s”不是有效的日期，请使用 2024-06-30 格式") % {"text": text[:20]})


def _int(value, message):
    text = _text(value)
    if not text.isdigit() or len(text) > 9:
        raise ValueError(message)
    return int(text)


def _choice(value, choices, message):
    text = _text(value)
    if text not in choices:
        raise ValueError(message % {"value": text[:20]})
    return choices[text]


def _region(value):
    text = _text(value)
    if not (text.isdigit() and len(text) == 6):
        raise ValueError(_("地区代码应为6位数字"))
    return text


def _code(value):
    text = _text(value)
    if not text or len(text) > 20:
        raise ValueError(_("指标编号不能为空，且不超过20个字符"))
    return text


def _note(value):
    text = _text(value)
    if len(text) > MAX_NOTE:
        raise ValueError(_("备注不能超过 %(n)d 个字") % {"n": MAX_NOTE})
    return text


# Lazy, so that a message is translated when a row fails rather than for every cell.
YEAR_MESSAGE = gettext_lazy("年度应为整数，例如 2024")
KIND_MESSAGE = gettext_lazy("未知的计划类型“%(value)s”")
ITEM_MESSAGE = gettext_lazy("事项序号应为正整数")
QUALIFIER_MESSAGE = gettext_lazy("未知的限定“%(value)s”")

PARSERS = {
    "region": _region,
    "year": lambda v: _int(v, YEAR_MESSAGE),
    "kind": lambda v: _choice(v, KINDS, KIND_MESSAGE),
    "item": lambda v: _int(v, ITEM_MESSAGE),
    "target": _code,
    "period_end": parse_date,
    "value": parse_value,
    "qualifier": lambda v: _choice(v, QUALIFIERS, QUALIFIER_MESSAGE),
    "note": _note,
}

