"""Each pattern of the extractor on sentences written here, in the style of other unions' reports."""

from decimal import Decimal

import pytest

from tracking.extraction import extract
from tracking.extraction.figures import find_figures


def figures(sentence):
    return [(f.value, f.unit, f.qualifier) for f in find_figures(sentence)]


def one(sentence):
    (figure,) = find_figures(sentence)
    return figure


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("全年走访慰问困难职工家庭2316户。", [(Decimal("2316"), "户", "exact")]),
        ("发放帮扶资金86.5万元。", [(Decimal("865000"), "元", "exact")]),
        ("累计投入普惠资金1.2亿元。", [(Decimal("120000000"), "元", "exact")]),
        ("参与职工超过3万人次。", [(Decimal("30000"), "人次", "more_than")]),
        ("受益职工逾两千人。", [(Decimal("2000"), "人", "more_than")]),
        ("举办各类培训班40余期。", [(Decimal("40"), "期", "more_than")]),
        ("征集合理化建议1500多条。", [(Decimal("1500"), "条", "more_than")]),
        ("惠及职工近8万人次。", [(Decimal("80000"), "人次", "about")]),
        ("投入资金约260万元。", [(Decimal("2600000"), "元", "about")]),
        ("为一线职工送去清凉物资5000份左右。", [(Decimal("5000"), "份", "about")]),
        ("集体合同签订率保持在95%以上。", [(Decimal("95"), "%", "at_least")]),
        ("建会率达到百分之九十八。", [(Decimal("98"), "%", "exact")]),
        ("入会率比上年提高4个百分点。", [(Decimal("4"), "个百分点", "exact")]),
        ("全年开展送法活动上百场。", [(Decimal("100"), "场", "at_least")]),
        ("组织万余名职工参加健步走。", [(Decimal("10000"), "名", "more_than")]),
        ("网上答题吸引十余万人次参与。", [(Decimal("100000"), "人次", "more_than")]),
        ("发放问卷3千余份。", [(Decimal("3000"), "份", "more_than")]),
        ("举办百场职工文体活动。", [(Decimal("100"), "场", "exact")]),
        ("评选表彰一千二百名优秀职工。", [(Decimal("1200"), "名", "exact")]),
        ("新建职工驿站１２个。", [(Decimal("12"), "个", "exact")]),
        ("覆盖职工12,500人。", [(Decimal("12500"), "人", "exact")]),
        ("实施产业工人队伍建设八大行动。", [(Decimal("8"), "个", "exact")]),
        ("共计发放慰问金品约8万余元。", [(Decimal("80000"), "元", "about")]),
        ("为1000名环卫工人免费体检，每人标准300元。", [(Decimal("1000"), "名", "exact"), (Decimal("300"), "元", "exact")]),
        ("摸排隐患18类326处。", [(Decimal("18"), "类", "exact"), (Decimal("326"), "处", "exact")]),
        ("举办招聘会6场，提供岗位不少于3000个。", [(Decimal("6"), "场", "exact"), (Decimal("3000"), "个", "at_least")]),
    ],
)
def test_a_count_amount_rate_or_number_of_people_is_one_figure(sentence, expected):
    assert figures(sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "2024年3月8日，区总工会召开女职工工作会议。",  # a date
        "过去五年，全市工会工作取得新成效。",  # a duration
        "连续三年被评为先进单位，为期2天的比赛圆满结束。",  # durations
        "举办第十五届职工运动会和第3期培训班。",  # ordinals
        "在全省比赛中获得团体第一名和二等奖，位列前三名。",  # ranks and grades
        "深入学习贯彻党的二十大精神和市第十三次党代会精神。",  # congresses
        "区委十三届七次全会对工会工作提出要求。",  # a plenary session
        "牢固树立“四个意识”，坚决做到“两个维护”。",  # slogans in quotes
        "严格执行中央八项规定精神和三重一大决策制度。",  # slogans without quotes
        "修订《职工代表大会三年行动计划》。",  # a book title
        "打造“1+3+N”服务体系和“双百”工程。",  # numbers inside a brand
        "开通12351职工服务热线。",  # a hotline number
        "这是全市工会改革的一个缩影，每两年一次举办技能比武。",  # "one" as an article, a frequency
        "推动百人以上企业建立工资集体协商制度。",  # a size threshold
        "打造“线上”“线下”两个阵地，做好“服务”和“满意”两篇文章。",  # labels of a list just given
        "整合信息管理、网上办公、微信公众号三大平台。",  # a label after an enumeration
        "坚持一岗双责，推行一企一策、一季一主题。",  # repeated-numeral slogans
        "让千家万户感受到工会温暖，千方百计为职工办实事。",  # idioms
    ],
)
def test_no_figure_is_taken_from_dates_durations_ordinals_ranks_names_or_slogans(sentence):
    assert figures(sentence) == []


def test_a_count_given_with_its_list_keeps_the_count_after_deng():
    assert figures("甲公司、乙公司等十家单位被列为示范单位。") == [(Decimal("10"), "家", "exact")]


def test_the_quote_is_the_clause_up_to_the_figure_and_sits_at_its_offset():
    text = "开展帮扶活动。全年走访慰问困难职工家庭2316户，发放慰问金86.5万元。"

    first, second = find_figures(text)

    assert first.quote == "全年走访慰问困难职工家庭2316户"
    assert text[first.offset:first.offset + len(first.quote)] == first.quote
    assert text[first.start:first.end] == first.written == "2316户"
    assert second.quote == "发放慰问金86.5万元"


def test_a_figure_that_opens_its_clause_quotes_the_whole_clause():
    assert one("组织技能竞赛，3.2万名职工参赛，成绩显著。").quote == "3.2万名职工参赛"


def test_two_rates_sharing_one_percentage_are_two_figures():
    found = find_figures("全区集体协商建制率、集体合同签订率均保持在90%以上。")

    assert [(f.value, f.name) for f in found] == [(Decimal("90"), "集体协商建制率"), (Decimal("90"), "集体合同签订率")]


def test_a_count_restated_as_n_big_in_the_same_sentence_is_kept_once():
    assert figures("甲、乙等五家企业入选全市五大产改示范企业。") == [(Decimal("5"), "家", "exact")]


def test_a_units_guess_at_the_name_of_what_is_counted():
    assert one("全年新建户外劳动者服务站点35个。").name == "新建户外劳动者服务站点"
    assert one("为500名新业态劳动者送体检。").name == "新业态劳动者送体检"


def test_a_photo_caption_is_proposed_unticked():
    prose = "全年举办职工技能培训班12期，内容涵盖安全生产、数字技能、职业素养等方面，参训职工普遍反映收获很大，技能等级晋升人数明显增加，企业满意度持续提高。"
    text = prose + "\n\n\n\n图为200名职工参加技能比武\n\n\n\n此外，新建职工书屋5家，配备图书和电子阅读设备，进一步丰富了职工的精神文化生活，受到广大职工的普遍欢迎和好评，借阅人次比上年明显增加。\n"

    proposal = extract(text, "annual_report")

    assert [(f.written, f.selected, f.flags) for f in proposal.figures] == [
        ("12期", True, []), ("200名", False, ["caption"]), ("5家", True, []),
    ]


def test_a_short_paragraph_beside_a_picture_looks_like_a_caption_and_waits_for_a_person():
    """A known limit of the caption rule: the person sees it unticked and ticks it."""
    text = "全年举办培训班12期。\n\n\n\n图为职工参加技能比武\n\n\n\n"

    (figure,) = extract(text, "annual_report").figures

    assert (figure.written, figure.selected, figure.flags) == ("12期", False, ["caption"])


def test_a_figure_split_by_a_page_break_is_joined_and_flagged():
    text = "开设职工课堂，培训学员近3\n\n\n\n图为职工课堂现场\n\n\n\n万人次，受到好评。\n"

    proposal = extract(text, "annual_report")

    (figure,) = [f for f in proposal.figures if f.selected]
    assert (figure.value, figure.unit, figure.qualifier, figure.flags) == (Decimal("30000"), "人次", "about", ["split"])
    assert figure.quote == "培训学员近3"
    assert [flag.kind for flag in proposal.flags] == ["split_figure"]


def test_a_closing_paragraph_that_restates_an_opening_one_is_proposed_unticked():
    text = (
        "五年来，市总工会获得省级以上荣誉12项，区县工会获得市级以上荣誉30项。\n\n"
        "一、组织建设\n\n新建工会组织210家。\n\n"
        "五年来，市总工会获得12项省级以上荣誉，区县工会获得30项市级以上荣誉。\n"
    )

    proposal = extract(text, "review")

    assert [(f.written, f.selected) for f in proposal.figures] == [
        ("12项", True), ("30项", True), ("210家", True), ("12项", False), ("30项", False),
    ]


def test_the_items_are_the_outermost_numbered_sections():
    text = (
        "某区总工会工作报告\n\n一、思想引领\n\n（一）宣讲。开展宣讲40场。\n\n（二）读书。举办读书会12场。\n\n"
        "二、权益维护\n\n签订集体合同320份。\n"
    )

    proposal = extract(text, "annual_report")

    assert [(i.title, i.category) for i in proposal.items] == [("思想引领", "political"), ("权益维护", "rights")]
    assert [f.item for f in proposal.figures] == [0, 0, 1]


def test_untitled_short_headings_and_a_heading_broken_over_two_lines_become_items():
    text = (
        "某市总工会年度工作综述\n\n政治引领 凝聚共识\n\n全年开展宣讲60场。\n\n"
        "坚持需求导向\n\n保障关怀惠民\n\n慰问职工3000人次。\n"
    )

    proposal = extract(text, "annual_report")

    assert [i.title for i in proposal.items] == ["政治引领 凝聚共识", "坚持需求导向 保障关怀惠民"]


def test_a_plan_item_that_promises_an_act_is_a_milestone():
    plan = "2025年为职工办好以下十件实事：\n\n1. 为3000名环卫工人送清凉。\n2. 建成市职工服务中心并投入使用。\n"

    proposal = extract(plan, "annual_plan")

    assert [(i.title, i.milestone) for i in proposal.items] == [
        ("为3000名环卫工人送清凉", False), ("建成市职工服务中心并投入使用", True),
    ]
    assert [(f.value, f.unit) for f in proposal.figures] == [(Decimal("3000"), "名")]  # not 十件


def test_a_list_cut_into_table_columns_is_flagged_and_reassembled_in_a_plan():
    text = (
        "2025年实事项目\n\n"
        "| 1. 为800名快递员送体检; | 职工之家; | 站20个。 |\n"
        "|---|---|---|\n"
        "| 2. 建成区级 | 3. 新建户外劳动者服务 | |\n"
    )

    report = extract(text, "annual_report")
    plan = extract(text, "annual_plan")

    assert [flag.kind for flag in report.flags] == ["scrambled_table"]
    assert all(not f.selected for f in report.figures)
    assert [entry["text"] for entry in report.flags[0].detail] == [
        "为800名快递员送体检", "建成区级职工之家", "新建户外劳动者服务站20个",
    ]
    assert [(i.title, i.milestone) for i in plan.items] == [
        ("为800名快递员送体检", False), ("建成区级职工之家", True), ("新建户外劳动者服务站20个", False),
    ]
    assert [(f.value, f.unit, f.item) for f in plan.figures] == [(Decimal("800"), "名", 0), (Decimal("20"), "个", 2)]
