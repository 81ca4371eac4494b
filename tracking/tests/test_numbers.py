"""Numbers as a clerk writes them, read by tracking.numbers and, through it, by the import and the API."""

from decimal import Decimal

import pytest

from tracking.importing import parse_value
from tracking.numbers import parse_number


@pytest.mark.parametrize(
    ("written", "value", "qualifier"),
    [
        ("一千二百", "1200", "exact"),
        ("两万", "20000", "exact"),
        ("1.2万", "12000", "exact"),
        ("3千余", "3000", "more_than"),
        ("十余万", "100000", "more_than"),
        ("百", "100", "exact"),
        ("上百", "100", "at_least"),
        ("万余", "10000", "more_than"),
        ("５万余", "50000", "more_than"),
        ("20余万", "200000", "more_than"),
        ("1300多万", "13000000", "more_than"),
        ("１２０００", "12000", "exact"),
        ("12,000", "12000", "exact"),
        ("１２，０００", "12000", "exact"),
        ("1,234,567", "1234567", "exact"),
        ("1486.94万", "14869400", "exact"),
        ("3亿", "300000000", "exact"),
        ("1.5亿", "150000000", "exact"),
        ("三亿五千万", "350000000", "exact"),
        ("一万二千", "12000", "exact"),
        ("一百零五", "105", "exact"),
        ("二十五", "25", "exact"),
        ("十二", "12", "exact"),
        ("98.5", "98.5", "exact"),
        ("约400万", "4000000", "about"),
        ("近10万", "100000", "about"),
        ("超过68万", "680000", "more_than"),
        ("逾85万", "850000", "more_than"),
        ("突破23万", "230000", "more_than"),
        ("90以上", "90", "at_least"),
        ("200左右", "200", "about"),
        # 约 is the weaker claim and wins over 余: "about 80,000-odd" is about 80,000.
        ("约8万余", "80000", "about"),
    ],
)
def test_a_written_number_has_its_value_in_base_units_and_its_qualifier(written, value, qualifier):
    number = parse_number(written)

    assert (number.value, number.qualifier) == (Decimal(value), qualifier)
    assert str(number.value) == value  # no 12000.0 or 1.2E+4 on the way


@pytest.mark.parametrize(
    "written",
    ["二〇二四", "三四", "十百", "-1", "abc", "很多", "百分", "", "12.5.1", "1,2345", "2024年", "第十二", "10万人次", "一万二", "三千五"],
)
def test_what_is_not_one_number_is_refused(written):
    with pytest.raises(ValueError):
        parse_number(written)


@pytest.mark.parametrize(("written", "value"), [("1.2万", "12000"), ("两万", "20000"), ("一千二百", "1200")])
def test_the_import_reads_a_clerks_number(written, value):
    assert parse_value(written) == Decimal(value)


@pytest.mark.parametrize("written", ["3千余", "约400", "90以上"])
def test_the_import_refuses_a_qualifier_written_into_the_value_and_says_where_it_belongs(written):
    with pytest.raises(ValueError) as refused:
        parse_value(written)

    assert "限定" in str(refused.value)


@pytest.mark.parametrize(("written", "message"), [("-1万", "数值不能为负数"), ("很多", "“很多”不是有效的数字")])
def test_the_import_keeps_its_messages_for_negative_and_unreadable_values(written, message):
    with pytest.raises(ValueError) as refused:
        parse_value(written)

    assert str(refused.value) == message


def test_the_api_takes_a_value_written_with_wan(api, tongzhou_reporter, songqingliang):
    from tracking.models import ProgressReport

    response = api(tongzhou_reporter).post(
        "/api/v1/progress-reports/", {"target": songqingliang.pk, "period_end": "2024-06-30", "value": "1.2万"}
    )

    assert response.status_code == 201, response.content
    assert response.json()["value"] == 12000
    assert ProgressReport.objects.get().value == Decimal("12000")
