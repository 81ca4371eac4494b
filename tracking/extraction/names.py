"""Where a number is part of a name, a slogan or a rank rather than a count.

Reports quote programme names ("四个意识", "三重一大", "十四五"), book titles
(《集体协商工作三年规划》), ranks (第一名, 前三名, 一等奖) and congresses
(党的二十大, 十三届七次全会). None of these is a figure. The rules here are
general: text in quotation marks or book-title marks, ordinals, and a short
list of national slogans every union report repeats.
"""

import re

OPENERS = {"“": "”", "‘": "’", "「": "」", "『": "』", "《": "》", "〈": "〉", '"': '"'}
# A quotation longer than this, or one crossing a line, was never closed: its
# opening mark is left alone rather than hiding the rest of the paragraph.
LONGEST_QUOTE = 60

# Slogans and fixed phrases that look like counts (a numeral before a measure
# word) in every union's report. Not figures wherever they stand, quoted or not.
SLOGANS = (
    "八项规定", "四套班子", "三重一大", "四个意识", "四个自信", "四个全面", "四个服从", "两个维护", "两个确立",
    "两个责任", "两个务必", "两个结合", "五位一体", "四位一体", "三严三实", "两学一做", "三会一课", "一岗双责",
    "一张网", "一张图", "一盘棋", "一条龙", "一站式", "一揽子", "一把手", "一件事", "一次性", "一系列",
    "一家亲", "一家人", "千家万户", "千方百计", "万家灯火", "三个代表", "五个一", "六个一", "一带一路",
    "一县一品", "一企一策", "一人一档", "一户一策", "一对一", "点对点", "十四五", "十三五", "十二五", "十五五",
)
SLOGAN_PATTERN = re.compile("|".join(sorted(SLOGANS, key=len, reverse=True)))

# 十三届七次全会, 第十七次代表大会: a session, not a count of them.
SESSION = re.compile(r"次(?:全会|全体会议|会议|代表大会|党代会|常委会|团代会|职代会)")
# 十件实事, 十项民生实事: how many entries a plan's list has, not a target of its own.
LIST_COUNT = re.compile(r"(?:民生|为民|惠民)?实事")
# 一等奖, 二等功, 三级: grades, not counts.
RANKS = ("等奖", "等功", "等")
# 一个缩影, 两年一次: "one" as an article or a frequency.
ARTICLE_UNITS = ("个", "次", "种", "批", "起", "块")


def quoted_spans(text):
    """Sorted (start, end) spans inside quotation or book-title marks, marks included."""
    spans, position = [], 0
    while True:
        match = re.compile("[" + "".join(OPENERS) + "]").search(text, position)
        if match is None:
            return spans
        start = match.start()
        closer = OPENERS[match.group()]
        end = text.find(closer, start + 1)
        newline = text.find("\n", start + 1)
        if end == -1 or end - start > LONGEST_QUOTE or (newline != -1 and newline < end):
            position = start + 1
            continue
        spans.append((start, end + 1))
        position = end + 1


def slogan_spans(text):
    """Where the slogans stand: 千家万户 hides its 万户 as well as its 千家."""
    return [(m.start(), m.end()) for m in SLOGAN_PATTERN.finditer(text)]


def repeated_numeral_pattern(text, position, end):
    """一岗双责, 三亮三比, 一季一主题: numeral, one character, numeral again."""
    return end + 1 < len(text) and text[end + 1] in "一二两三四五六七八九十双" and text[end] not in "，,、。；;"
