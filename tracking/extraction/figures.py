"""Figures in running text: a number, the measure word after it, and the words that qualify it.

A number becomes a figure only when a measure word follows it (units.py); the
refusals in names.py then drop names, slogans, ranks and ordinals. Each figure
keeps the clause it came from, as written, so a person can check it.
"""

import re
from dataclasses import replace
from decimal import InvalidOperation

from .. import numbers
from ..numbers import ABOUT, AT_LEAST, BEFORE, EXACT, NUMERAL, STRENGTH
from . import names, units
from .proposal import Figure

# Where a clause ends. The enumeration comma 、 does not end one: "发放奖、助学金99万元" is one clause.
CLAUSE_BREAKS = "，,；;。：:！!？?\n|"
# Words at the start of a clause that say nothing about what is counted.
FILLERS = (
    "截至目前", "截至年底", "目前", "全年", "累计", "共计", "共有", "其中", "先后", "已经", "已", "共", "并",
    "全市", "全区", "全县", "全省", "此外", "同时", "另外", "还", "五年来", "近年来", "今年以来",
)
# 上 reads "as many as" only before a round Chinese numeral: 上百, 上千, 上万.
ROUND = ("百", "千", "万")
# 最近, 就近, 附近: 近 as a place, not "nearly".
NOT_NEARLY = "最就附临接将"
# After 以上/以下, a noun means a threshold (百人以上企业), not a qualifier.
AFTER_WORDS = (("以上", AT_LEAST), ("左右", ABOUT), ("上下", ABOUT), ("以下", EXACT))
# 十大行业, 五大行动: a count written as "N big …". Not 大会, 大学, 大力 and other words made with 大.
BIG = "大"
NOT_AFTER_BIG = "会学家力幅量批多概约都众赛队厦道街桥院"
CLOSING_QUOTES = "”」』》’\""
SHORTEST_NAME = 2
LONGEST_QUOTE = 40
LONGEST_NAME = 60
PERCENT_WORDS = re.compile(r"百分之([零一二两三四五六七八九十百]+|\d+(?:\.\d+)?)")
ASCII_WORD = re.compile(r"[A-Za-z_.]")


def is_cjk(char):
    return "\u4e00" <= char <= "\u9fff"


def find_figures(text):
    """Every figure in text, in order of appearance."""
    quoted = names.quoted_spans(text) + names.slogan_spans(text)
    figures, taken = [], 0
    for match in PERCENT_WORDS.finditer(text):
        figure = _percent_in_words(text, match, quoted)
        if figure:
            figures.append(figure)
    in_words = [(f.start, f.end) for f in figures]
    for match in NUMERAL.finditer(text):
        if not match.group() or match.start() < taken:
            continue
        if any(s <= match.start() < e for s, e in in_words):
            continue
        figure = _figure_at(text, match, quoted)
        if figure is not None:
            figures.append(figure)
            taken = figure.end
    figures.sort(key=lambda f: f.start)
    return _one_per_rate(text, _without_restated_labels(text, figures))


def _inside(spans, position):
    # Spans are few per paragraph; a linear scan is cheaper than bisect bookkeeping here.
    return any(start <= position < end for start, end in spans)


def _figure_at(text, match, quoted):
    start, end = match.span()
    if _inside(quoted, start):
        return None
    before = text[start - 1] if start else ""
    if before == "第" or ASCII_WORD.match(before or " ") or before.isdigit():
        return None
    chinese = match["chinese"] is not None
    try:
        number = numbers.numeral_value(match)
    except (ValueError, InvalidOperation):
        return None
    if chinese and names.repeated_numeral_pattern(text, start, end):
        return None
    position = end
    unit = units.unit_at(text, position)
    written_unit = unit
    if not unit and chinese and text[position:position + 1] == BIG:
        unit, written_unit = _big_count(text, position, number.value)
    if not unit:
        return None
    unit_end = position + len(written_unit)
    if _is_rank_or_session(text, start, unit_end, unit, number.value, chinese):
        return None
    if chinese and number.value <= 10 and _is_label(text, start, unit_end):
        return None
    qualifier = number.qualifier
    prefix_word, prefix_qualifier = _word_before(text, start, match)
    after_end = unit_end
    for word, word_qualifier in AFTER_WORDS:
        if text.startswith(word, unit_end):
            following = text[unit_end + len(word):unit_end + len(word) + 1]
            if following == "的" or (following and is_cjk(following)):
                return None  # 百人以上企业: a size threshold, not a figure
            after_end = unit_end + len(word)
            qualifier = _stronger(qualifier, word_qualifier)
            break
    qualifier = _stronger(qualifier, prefix_qualifier)
    value = numbers.tidy(number.value)
    if value <= 0:
        return None
    quote_start, quote_end = _quote_bounds(text, start - len(prefix_word), after_end)
    return Figure(
        value=value,
        unit=units.stored_unit(unit),
        qualifier=qualifier,
        measure=units.measure_of(unit),
        written=text[start:unit_end],
        start=start,
        end=after_end,
        quote=text[quote_start:quote_end],
        offset=quote_start,
        name=_name(text, quote_start, start - len(prefix_word), after_end),
    )


def _percent_in_words(text, match, quoted):
    """百分之九十五 → 95 %."""
    if _inside(quoted, match.start()):
        return None
    try:
        value = numbers.parse_number(match.group(1)).value
    except ValueError:
        return None
    quote_start, quote_end = _quote_bounds(text, match.start(), match.end())
    return Figure(
        value=value, unit="%", qualifier=EXACT, measure=units.PERCENTAGE, written=match.group(),
        start=match.start(), end=match.end(), quote=text[quote_start:quote_end], offset=quote_start,
        name=_name(text, quote_start, match.start(), match.end()),
    )


def _big_count(text, position, value):
    """十大行业 → a count of 10 (unit 个). Not 二十大 (a congress) nor 一大批."""
    following = text[position + 1:position + 2]
    if not (2 <= value <= 10) or not following or not is_cjk(following) or following in NOT_AFTER_BIG:
        return "", ""
    return "个", BIG


def _is_rank_or_session(text, start, unit_end, unit, value, chinese):
    following = text[unit_end:unit_end + 4]
    if unit == "次" and names.SESSION.match(text, unit_end - 1):
        return True
    if following.startswith(names.RANKS):
        return True
    if text[start - 1:start] == "前" and unit in ("名", "位"):
        return True  # 前三名: a rank
    if chinese and value == 1 and unit in names.ARTICLE_UNITS:
        return True  # 一个缩影, 两年一次
    if text.startswith("以下", start - 2) or names.LIST_COUNT.match(text, unit_end):
        return True  # 办好以下十件实事: the count of the list's own entries, which are the figures
    return False


def _is_label(text, start, unit_end):
    """“线上”“线下”两个阵地, 信息管理、办公系统、公众号三大平台: a small number naming a list just given.

    Only before a noun: in 新建“暖新医院”一家。 the number counts the quoted thing.
    """
    if not is_cjk(text[unit_end:unit_end + 1]):
        return False
    before = text[max(0, start - 1):start]
    if before and before in CLOSING_QUOTES:
        return True
    clause_start = max(text.rfind(c, 0, start) for c in CLAUSE_BREAKS) + 1
    clause = text[clause_start:start]
    return "、" in clause and not clause.rstrip().endswith("等")


def _word_before(text, start, match):
    for word, qualifier in BEFORE.items():
        if not text.startswith(word, start - len(word)):
            continue
        if word == "上" and not (match["chinese"] or "").startswith(ROUND) and not match.group().startswith("万"):
            continue
        if word == "近" and text[start - 2:start - 1] in NOT_NEARLY:
            continue
        return word, qualifier
    return "", EXACT


def _stronger(a, b):
    return a if STRENGTH[a] >= STRENGTH[b] else b


def _clause_start(text, position):
    return max(text.rfind(c, 0, position) for c in CLAUSE_BREAKS) + 1


def _clause_end(text, position):
    ends = [i for i in (text.find(c, position) for c in CLAUSE_BREAKS) if i != -1]
    return min(ends, default=len(text))


def _quote_bounds(text, number_start, number_end):
    """The clause up to the figure; the whole clause when the figure opens it (3.2万名职工参赛)."""
    start = _clause_start(text, number_start)
    while start < number_start and text[start] in " \u3000\t-*#>":
        start += 1
    end = number_end
    if len(_stripped(text[start:number_start])) < SHORTEST_NAME:
        end = max(end, min(_clause_end(text, number_end), number_start + LONGEST_QUOTE))
    return start, end


def _stripped(prefix):
    prefix = prefix.strip()
    changed = True
    while changed:
        changed = False
        for filler in FILLERS:
            if prefix.startswith(filler):
                prefix, changed = prefix[len(filler):], True
    return prefix


def _name(text, quote_start, number_start, number_end):
    """A first guess at what is counted, for the person to edit: the clause before the number, or after it."""
    name = _stripped(text[quote_start:number_start]).rstrip("为向对给和及与、的达到了计")
    if len(name) < SHORTEST_NAME:
        rest = text[number_end:_clause_end(text, number_end)]
        digit = re.search(r"\d", rest)
        name = (rest[: digit.start()] if digit else rest).strip("的")
    return name[:LONGEST_NAME]


def _without_restated_labels(text, figures):
    """Drop 十大技能竞赛单位 when the same sentence already counted 十家单位."""
    kept = []
    for figure in figures:
        if figure.written.endswith(BIG):
            sentence = (max(text.rfind(c, 0, figure.start) for c in "。\n") + 1, _sentence_end(text, figure.end))
            if any(o is not figure and o.value == figure.value and sentence[0] <= o.start < sentence[1] for o in figures):
                continue
        kept.append(figure)
    return kept


def _sentence_end(text, position):
    ends = [i for i in (text.find(c, position) for c in "。\n") if i != -1]
    return min(ends, default=len(text))



def _one_per_rate(text, figures):
    """建制率、签订率保持在93%以上: one percentage reported for two rates is two figures."""
    result = []
    for figure in figures:
        parts = text[figure.offset:figure.start].split("、") if figure.measure == units.PERCENTAGE else []
        rates = [part for part in parts if "率" in part]
        if len(rates) < 2:
            result.append(figure)
            continue
        for rate in rates:
            result.append(replace(figure, name=_stripped(rate[: rate.index("率") + 1])))
    return result
