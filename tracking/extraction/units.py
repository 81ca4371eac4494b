"""Measure words: what may follow a number for it to be a figure, and what each one measures.

A number is a figure only when a measure word follows it, so the lists below
are what separates "1228人次" from "2022年" and "第十二届". Time words (年, 月,
日, 天, 周, 小时, 届, 岁) are deliberately absent: a duration, a date or an
ordinal is never a figure.
"""

PEOPLE = ("人次", "人", "名", "位", "户次", "户", "对")
MONEY = ("元",)
PERCENT = ("%", "％", "个百分点")
THINGS = (
    "场次", "场", "次", "期", "家次", "家", "个", "项次", "项", "支", "条", "件次", "件", "份", "张", "册", "本",
    "篇", "所", "座", "处", "类", "轮", "门", "堂", "节", "台", "辆", "套", "间", "部", "幅", "批次", "起",
    "组", "课时", "学时", "平方米", "平米", "亩", "公里", "吨", "盒", "箱", "笔", "宗", "例", "首", "种", "块",
)

# Longest first, so that 人次 wins over 人 and 个百分点 over 个.
UNITS = sorted({*PEOPLE, *MONEY, *PERCENT, *THINGS}, key=len, reverse=True)
UNIT_FIRST_CHARS = {unit[0] for unit in UNITS}

COUNT, AMOUNT, PERCENTAGE, MILESTONE = "count", "amount", "percentage", "milestone"


def unit_at(text, position):
    """The measure word starting at position, or ""."""
    if position >= len(text) or text[position] not in UNIT_FIRST_CHARS:
        return ""
    for unit in UNITS:
        if text.startswith(unit, position):
            return unit
    return ""


def measure_of(unit):
    if unit in PERCENT:
        return PERCENTAGE
    if unit in MONEY:
        return AMOUNT
    return COUNT


def stored_unit(unit):
    """The unit as a target stores it: the full-width ％ as %."""
    return "%" if unit == "％" else unit
