"""Numbers as a clerk writes them: read (一千二百, 两万, 1.2万, 3千余, 十余万, 上百, 万余, １２,０００)
and written back (12,000 名, 0.5, 95%; never 12000.0000 or 1.2E+4).

One parser for the import, the API and the extractor, so that "1.2万" means
12000 wherever it is typed or read. It knows numerals, scales (万, 亿) and the
words that qualify a number (余, 多, 以上, 约, 近, 超过 …); it knows nothing
about units or sentences, which are the extractor's business.
"""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

EXACT, AT_LEAST, MORE_THAN, ABOUT = "exact", "at_least", "more_than", "about"

DIGITS = {
    "零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3, "四": 4, "肆": 4,
    "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}
POWERS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
SCALES = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
CHINESE = "".join(DIGITS) + "".join(POWERS)

# Words before a number. Longest first, so that 超过 wins over 超. 多达, 高达 and
# 达 say "reaching", not "more than": the figure is exact.
BEFORE = {
    "将近": ABOUT, "接近": ABOUT, "大约": ABOUT, "约合": ABOUT, "约": ABOUT, "近": ABOUT,
    "超过": MORE_THAN, "突破": MORE_THAN, "逾": MORE_THAN, "超": MORE_THAN,
    "不少于": AT_LEAST, "不低于": AT_LEAST, "不小于": AT_LEAST, "至少": AT_LEAST,  # a plan's floor
    "上": AT_LEAST,  # 上百家: a hundred or more
}
AFTER = {"以上": AT_LEAST, "左右": ABOUT, "上下": ABOUT, "余": MORE_THAN, "多": MORE_THAN}
# 约 and 近 are the weakest claim, so they win when two words meet (约8万余元 is "about").
STRENGTH = {EXACT: 0, MORE_THAN: 1, AT_LEAST: 2, ABOUT: 3}

ARABIC = r"\d+(?:[,，]\d{3})*(?:\.\d+)?"
# One numeral as written in running text: Arabic digits (an optional 十/百/千
# power after them, as in 3千), or a run of Chinese numerals; then 余/多, a
# scale, and 余/多 again (十余万, 5万余, 1000多). A bare scale (万余人次) counts
# as one of it. Qualifier words around the numeral are not part of it.
NUMERAL = re.compile(
    rf"(?:(?P<arabic>{ARABIC})(?P<power>[十百千](?![{CHINESE}]))?|(?P<chinese>[{CHINESE}]+(?:[万亿][{CHINESE}]+)*)|(?=[万亿]))"
    r"(?P<vague1>[余多])?(?P<scale>[万亿](?:[万亿])?)?(?P<vague2>[余多])?"
)
SEPARATOR = re.compile(r"(?<=\d)[,，](?=\d{3}(?!\d))")


@dataclass(frozen=True)
class Number:
    value: Decimal
    qualifier: str = EXACT


def normalise(text):
    """Full-width digits and punctuation to ASCII (１２，０００ → 12,000)."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def chinese_integer(text):
    """一千二百 → 1200, 两万 → 20000, 十 → 10, 百 → 100, 三亿五千万 → 350000000.

    Raises ValueError for a string that is not one well-formed numeral.
    """
    if not text:
        raise ValueError(text)
    if len(text) > 1 and all(c in DIGITS for c in text):
        # 二〇二四 is digit by digit (a year), not a quantity: refuse it.
        raise ValueError(text)
    if len(text) > 1 and text[-1] in DIGITS and text[-2] in "百佰千仟万萬亿億":
        # 一万二 is 12000 to a reader but 10002 to the grammar (一万零二): refused
        # rather than guessed, in a value field and in a report alike.
        raise ValueError(text)
    total, section, digit = 0, 0, None
    last_power = 10**9
    for char in text:
        if char in DIGITS:
            if digit is not None and DIGITS[char] != 0 and digit != 0:
                raise ValueError(text)  # 三四 is "three or four", not a number
            digit = DIGITS[char]
        elif char in POWERS:
            power = POWERS[char]
            if power >= last_power:
                raise ValueError(text)  # 十百 is not a numeral
            section += (1 if digit is None else digit) * power
            digit, last_power = None, power
        elif char in SCALES:
            scale = SCALES[char]
            section += digit or 0
            if section == 0 and total == 0:
                section = 1
            if scale == 10**8:
                total = (total + section) * scale
            else:
                total += section * scale
            section, digit, last_power = 0, None, 10**9
        else:
            raise ValueError(text)
    return total + section + (digit or 0)


def _qualifier(*found):
    return max(found, key=STRENGTH.__getitem__, default=EXACT)


def numeral_value(match):
    """The value and qualifier of one NUMERAL match. Raises ValueError if it is not a number."""
    arabic, chinese, scale = match["arabic"], match["chinese"], match["scale"]
    if arabic is not None:
        value = Decimal(arabic.replace(",", "").replace("，", ""))
        if match["power"]:
            value *= POWERS[match["power"]]
    elif chinese is not None:
        # 三千万 and 三亿五千万: the scale belongs to the numeral's own grammar.
        return Number(Decimal(chinese_integer(chinese + (scale or ""))), _vague(match))
    elif scale:
        value = Decimal(1)  # 万余人次: a bare scale is one of it
    else:
        raise ValueError(match.group())
    for char in scale or "":
        value *= SCALES[char]
    return Number(value, _vague(match))


def _vague(match):
    return MORE_THAN if (match["vague1"] or match["vague2"]) else EXACT


def parse_number(text):
    """A whole string read as one number: "1.2万" → 12000, "3千余" → 3000 (more_than).

    Accepts a qualifier word before (约, 近, 超过, 逾, 上 …) or after (以上,
    左右) the numeral. Anything else around it, a negative sign, a date or
    two numbers, is a ValueError.
    """
    written = SEPARATOR.sub("", normalise(str(text)).strip())
    before = EXACT
    for word, qualifier in BEFORE.items():
        if written.startswith(word) and len(written) > len(word):
            written, before = written[len(word):], qualifier
            break
    after = EXACT
    for word in ("以上", "左右", "上下"):
        if written.endswith(word) and len(written) > len(word):
            written, after = written[: -len(word)], AFTER[word]
            break
    match = NUMERAL.fullmatch(written)
    if not written or match is None or not match.group():
        raise ValueError(text)
    try:
        number = numeral_value(match)
    except (ValueError, InvalidOperation):
        raise ValueError(text) from None
    return Number(tidy(number.value), _qualifier(before, number.qualifier, after))


def tidy(value):
    """12000.0 → 12000 and 98.50 → 98.5, without the exponent Decimal.normalize() gives 12000."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


# --- Writing: every page, title and message that shows a stored value goes through these ------------
# Values are stored with four decimal places (models.VALUE_FIELD).


def plain(value):
    """12000.0000 → 12000, 0.5000 → Decimal("0.5"): the value without trailing zeros or an exponent."""
    value = Decimal(value).normalize()
    return int(value) if value == value.to_integral_value() else value


def grouped(value):
    """12000 → "12,000"; 0.5 → "0.5"; None → "—"."""
    if value is None:
        return "—"
    return format(plain(value), ",")


def quantity(value, unit):
    """A value with its unit: "12,000 名", "95%"; "—" without a value."""
    if value is None:
        return "—"
    if not unit:
        return grouped(value)
    return f"{grouped(value)}{'' if unit == '%' else ' '}{unit}"
