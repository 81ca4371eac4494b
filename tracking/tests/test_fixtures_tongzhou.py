"""Tongzhou district union (通州区总工会, 320612): the 2024 "为职工办实事" plan fixture.

The ten items come from the table at the end of seeds/003_2917c71dea6f4957.txt.
That table was cut into columns and scrambled, so several items are spread over
more than one cell. Each item's text was reassembled by concatenating verbatim
cells in the order that completes the sentence:

    2: "开放通州区职工服务中心(工人文化宫),支持建设石" + "港科技产业园职工之家"
    4: "…为1000名新业态职工送意" + "外伤害险"
    6: "…为1000名职工" + "免费提供法律咨询服务)"
    9: "…职工子女爱心托管班10" + "家,新建户外劳动者爱心驿站" + "10家、女职工康乃馨服务站10家"

The remaining items each sit in a single cell. In every case the leading
"N. " and the trailing ";" or "。" of the cell were dropped. So single-cell
items occur verbatim in the document, and multi-cell items are exactly the
concatenation of fragments that each occur verbatim as (part of) one cell.
"""

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command

from tracking.models import Item, Programme, ProgressReport, Target

SOURCE = settings.BASE_DIR / "seeds" / "003_2917c71dea6f4957.txt"
PLAN_HEADING = "通州区总工会2024年度“为职工办实事”项目"

FRAGMENTS = {
    1: ["组织以“学习二十大·永远跟党走”为主题的“劳模工匠进校园、思政教师进企业”宣讲活动100场次"],
    2: ["开放通州区职工服务中心(工人文化宫),支持建设石", "港科技产业园职工之家"],
    3: ["组织十大行业职工职业技能大赛"],
    4: [
        "为12000名一线职工夏季“送清凉”、冬季“送温暖”,为300名新业态职工送体检,为1000名新业态职工送意",
        "外伤害险",
    ],
    5: ["组织100名劳模和500名优秀一线职工疗休养"],
    6: [
        "开展职工法律服务“十百千”活动(举办公益法律讲座10场,为100家企业进行劳动用工法律体检,为1000名职工",
        "免费提供法律咨询服务)",
    ],
    7: ["组织30场家风家训、心理健康、职业道德等专题讲座"],
    8: ["举办百场职工文体活动"],
    9: ["打造“童心逐梦·益路成长”职工子女爱心托管班10", "家,新建户外劳动者爱心驿站", "10家、女职工康乃馨服务站10家"],
    10: ["开展“通工惠”线上普惠活动,惠及职工10万人次"],
}

EXPECTED_TARGETS = {
    ("1.1", Decimal("100"), "场次", "count"),
    ("2.1", Decimal("1"), "项", "milestone"),
    ("3.1", Decimal("10"), "个", "count"),
    ("4.1", Decimal("12000"), "名", "count"),
    ("4.2", Decimal("300"), "名", "count"),
    ("4.3", Decimal("1000"), "名", "count"),
    ("5.1", Decimal("100"), "名", "count"),
    ("5.2", Decimal("500"), "名", "count"),
    ("6.1", Decimal("10"), "场", "count"),
    ("6.2", Decimal("100"), "家", "count"),
    ("6.3", Decimal("1000"), "名", "count"),
    ("7.1", Decimal("30"), "场", "count"),
    ("8.1", Decimal("100"), "场", "count"),
    ("9.1", Decimal("10"), "家", "count"),
    ("9.2", Decimal("10"), "家", "count"),
    ("9.3", Decimal("10"), "家", "count"),
    ("10.1", Decimal("100000"), "人次", "count"),
}


def plan_part():
    text = SOURCE.read_text(encoding="utf-8")
    return text[text.index(PLAN_HEADING) :]


def table_cells():
    """The table's cells, with the list number and the trailing punctuation removed."""
    cells = []
    for raw in plan_part().split("|"):
        cell = raw.strip()
        if not cell or set(cell) <= {"-"} or cell.startswith(PLAN_HEADING):
            continue
        number, sep, rest = cell.partition(". ")
        if sep and number.isdigit():
            cell = rest
        cells.append(cell.rstrip(";。"))
    return cells


@pytest.fixture
def plan(db):
    call_command("loaddata", "regions", "tongzhou_2024", verbosity=0)
    return Programme.objects.get(region="320612", year=2024, kind="annual_plan")


def targets_of(plan, number):
    return list(Target.objects.filter(programme=plan, item__number=number).order_by("code"))


@pytest.mark.django_db
def test_the_2024_plan_is_an_annual_plan_for_the_calendar_year(plan):
    assert plan.period_start.isoformat() == "2024-01-01"
    assert plan.period_end.isoformat() == "2024-12-31"
    assert plan.source_document == "003_2917c71dea6f4957.txt"


@pytest.mark.django_db
def test_the_2024_plan_has_exactly_ten_items_numbered_one_to_ten(plan):
    numbers = list(Item.objects.filter(programme=plan).order_by("number").values_list("number", flat=True))
    assert numbers == list(range(1, 11))


@pytest.mark.django_db
def test_the_2024_plan_has_exactly_the_expected_targets(plan):
    actual = {
        (t.code, t.target_value, t.unit, t.measure) for t in Target.objects.filter(programme=plan)
    }
    assert actual == EXPECTED_TARGETS
    assert Target.objects.filter(programme=plan).count() == len(EXPECTED_TARGETS)


@pytest.mark.django_db
def test_every_target_code_starts_with_its_item_number_and_is_due_at_the_end_of_2024(plan):
    for t in Target.objects.filter(programme=plan).select_related("item"):
        assert t.code.split(".")[0] == str(t.item.number)
        assert t.item.programme_id == plan.pk
        assert t.due_date == plan.period_end


@pytest.mark.django_db
def test_item_two_is_a_single_milestone_of_opening_the_workers_service_centre(plan):
    (target,) = targets_of(plan, 2)
    assert target.measure == "milestone"
    assert target.unit == "项"
    assert target.target_value == Decimal("1")
    assert target.aggregation == "latest"


@pytest.mark.django_db
def test_item_three_counts_the_ten_major_industries(plan):
    (target,) = targets_of(plan, 3)
    assert target.target_value == Decimal("10")


@pytest.mark.django_db
def test_item_eight_reads_bai_chang_as_one_hundred(plan):
    (target,) = targets_of(plan, 8)
    assert target.target_value == Decimal("100")
    assert target.unit == "场"


@pytest.mark.django_db
def test_items_four_six_and_nine_each_carry_three_targets(plan):
    for number in (4, 6, 9):
        assert len(targets_of(plan, number)) == 3, number
    four = [t.target_value for t in targets_of(plan, 4)]
    assert four == [Decimal("12000"), Decimal("300"), Decimal("1000")]


@pytest.mark.django_db
def test_the_other_items_carry_one_target_per_stated_number(plan):
    expected = {1: 1, 2: 1, 3: 1, 5: 2, 7: 1, 8: 1, 10: 1}
    for number, count in expected.items():
        assert len(targets_of(plan, number)) == count, number


@pytest.mark.django_db
def test_a_plan_has_no_progress_reports(plan):
    assert not ProgressReport.objects.filter(target__programme=plan).exists()


@pytest.mark.django_db
def test_single_cell_items_occur_verbatim_in_the_2024_part_of_the_document(plan):
    part = plan_part()
    for item in Item.objects.filter(programme=plan):
        if len(FRAGMENTS[item.number]) == 1:
            assert item.text in part, item.number


@pytest.mark.django_db
def test_reassembled_items_are_made_only_of_verbatim_table_cells_in_order(plan):
    part = plan_part()
    cells = table_cells()
    for item in Item.objects.filter(programme=plan):
        fragments = FRAGMENTS[item.number]
        assert item.text == "".join(fragments), item.number
        for fragment in fragments:
            assert fragment in part, (item.number, fragment)
            assert fragment in cells, (item.number, fragment)


def test_the_reassembly_uses_every_table_cell_exactly_once():
    used = sorted(fragment for fragments in FRAGMENTS.values() for fragment in fragments)
    assert used == sorted(table_cells())
