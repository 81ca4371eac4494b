"""The import core shared by the admin and the API."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tracking.importing import ImportFileError, import_reports, parse_value, read_table
from tracking.models import ProgressReport

S = ProgressReport.Status


def row(**overrides):
    base = {
        "region": "320612", "year": "2024", "kind": "annual_plan", "item": "4", "target": "4.1",
        "period_end": "2024-06-30", "value": "6000", "note": "",
    }
    return {**base, **overrides}


def csv_file(text, encoding="utf-8-sig", name="reports.csv"):
    file = io.BytesIO(text.encode(encoding))
    file.name = name
    return file


HEADER = "地区代码,年度,计划类型,事项序号,指标编号,指标名称,截至日期,数值,限定,备注\n"


def test_good_rows_create_drafts_owned_by_the_importer(songqingliang, tongzhou_reporter):
    result = import_reports(
        user=tongzhou_reporter, rows=[row(), row(period_end="2024-07-31", value="1000")], dry_run=False
    )

    assert result.ok and (result.created, result.updated, result.unchanged) == (2, 0, 0)
    reports = ProgressReport.objects.order_by("period_end")
    assert [(r.value, r.status, r.created_by) for r in reports] == [
        (Decimal("6000"), S.DRAFT, tongzhou_reporter),
        (Decimal("1000"), S.DRAFT, tongzhou_reporter),
    ]
    assert reports[0].history.count() == 1


def test_dry_run_writes_nothing(songqingliang, tongzhou_reporter):
    result = import_reports(user=tongzhou_reporter, rows=[row()], dry_run=True)

    assert result.ok and result.created == 1
    assert ProgressReport.objects.count() == 0


def test_same_rows_twice_change_nothing_the_second_time(songqingliang, tongzhou_reporter):
    import_reports(user=tongzhou_reporter, rows=[row()], dry_run=False)
    again = import_reports(user=tongzhou_reporter, rows=[row()], dry_run=False)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert ProgressReport.objects.count() == 1


def test_changed_value_updates_a_draft(songqingliang, tongzhou_reporter):
    import_reports(user=tongzhou_reporter, rows=[row()], dry_run=False)
    result = import_reports(user=tongzhou_reporter, rows=[row(value="6500")], dry_run=False)

    assert result.updated == 1
    assert ProgressReport.objects.get().value == Decimal("6500")


def test_one_bad_row_rejects_the_whole_file(songqingliang, tongzhou_reporter):
    result = import_reports(
        user=tongzhou_reporter, rows=[row(), row(period_end="2024-07-31", value="-5")], dry_run=False
    )

    assert [(e.row, e.field) for e in result.errors] == [(3, "value")]
    assert "负数" in result.errors[0].message
    assert ProgressReport.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"target": "4.9"}, "target", "未找到指标"),
        ({"region": "321102"}, "region", "无权"),
        ({"region": "999999"}, "region", "未知的地区代码"),
        ({"value": "abc"}, "value", "不是有效的数字"),
        ({"value": "NaN"}, "value", "不是有效的数字"),
        ({"value": "1e309"}, "value", "过大"),
        ({"value": ""}, "value", "不能为空"),
        ({"period_end": "2025-01-31"}, "period_end", "不在计划期间"),
        ({"period_end": "2024-02-30"}, "period_end", "不是有效的日期"),
        ({"item": "5"}, "item", "属于事项 4"),
        ({"kind": "weekly"}, "kind", "未知的计划类型"),
        ({"note": "x" * 2001}, "note", "不能超过"),
        ({"note": "a\x00b"}, "note", "非法字符"),
        ({"value": "=SUM(A1:A2)"}, "value", "公式"),
    ],
)
def test_bad_row_is_rejected_with_a_chinese_message(songqingliang, jingkou_target, tongzhou_reporter, overrides, field, words):
    result = import_reports(user=tongzhou_reporter, rows=[row(**overrides)], dry_run=False)

    assert [e.field for e in result.errors] == [field]
    assert words in result.errors[0].message
    assert ProgressReport.objects.count() == 0


def test_duplicate_rows_in_one_file_are_rejected(songqingliang, tongzhou_reporter):
    result = import_reports(user=tongzhou_reporter, rows=[row(), row(value="7000")], dry_run=False)

    assert [(e.row, e.message) for e in result.errors] == [(3, "与第 2 行重复")]
    assert ProgressReport.objects.count() == 0


def test_approved_report_cannot_be_changed_by_import(songqingliang, tongzhou_reporter):
    ProgressReport.objects.create(
        target=songqingliang, period_end=datetime.date(2024, 6, 30), value=Decimal("6000"), status=S.APPROVED
    )

    result = import_reports(user=tongzhou_reporter, rows=[row(value="9000")], dry_run=False)

    assert "已通过" in result.errors[0].message
    assert ProgressReport.objects.get().value == Decimal("6000")


def test_reviewer_cannot_import(songqingliang, nantong_reviewer):
    with pytest.raises(PermissionDenied):
        import_reports(user=nantong_reviewer, rows=[row()], dry_run=False)


@pytest.mark.parametrize("text", ["12,000", "１２０００", " 12000 ", "12000.0000"])
def test_thousands_separators_and_full_width_digits_are_accepted(text):
    assert parse_value(text) == Decimal("12000")


def test_gb18030_csv_is_read(songqingliang, tongzhou_reporter):
    file = csv_file(HEADER + "320612,2024,年度计划,4,4.1,送清凉,2024/6/30,\"6,000\",以上,高温慰问\n", "gb18030")

    rows = read_table(file)
    result = import_reports(user=tongzhou_reporter, rows=rows, dry_run=False)

    assert result.ok, result.errors
    report = ProgressReport.objects.get()
    assert (report.value, report.qualifier, report.note) == (Decimal("6000"), "at_least", "高温慰问")


def test_utf8_csv_without_bom_is_read():
    rows = read_table(csv_file(HEADER + "320612,2024,annual_plan,4,4.1,,2024-06-30,6000,,\n", "utf-8"))

    assert rows[0]["region"] == "320612" and rows[0]["value"] == "6000"


@pytest.mark.parametrize(
    ("content", "name", "words"),
    [
        ("", "empty.csv", "文件为空"),
        ("地区代码,数值\n320612,1\n", "short.csv", "表头缺少"),
        ("%PDF-1.4", "report.pdf", "仅支持"),
        (HEADER + '320612,"2024\n', "broken.csv", "CSV 格式错误"),
    ],
)
def test_unreadable_files_are_refused_whole(content, name, words):
    with pytest.raises(ImportFileError, match=words):
        read_table(csv_file(content, "utf-8", name))


def test_xlsx_round_trip(songqingliang, tongzhou_reporter):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(HEADER.strip().split(","))
    book.active.append(["320612", 2024, "annual_plan", 4, "4.1", "送清凉", datetime.datetime(2024, 6, 30), 6000, "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    buffer.name = "reports.xlsx"

    result = import_reports(user=tongzhou_reporter, rows=read_table(buffer), dry_run=False)

    assert result.ok, result.errors
    assert ProgressReport.objects.get().value == Decimal("6000")


def test_every_error_of_a_row_is_reported_at_once(songqingliang, tongzhou_reporter):
    # An unknown target, a mistyped value and a date not yet reached: all three, not one per upload.
    result = import_reports(
        user=tongzhou_reporter, rows=[row(target="4.9", value="1,2x", period_end="2099-06-30")], dry_run=True
    )

    assert [(e.row, e.field) for e in result.errors] == [(2, "target"), (2, "period_end"), (2, "value")]
    assert ProgressReport.objects.count() == 0


def test_a_bad_item_and_date_beside_an_unreadable_value_are_reported_too(songqingliang, tongzhou_reporter):
    result = import_reports(
        user=tongzhou_reporter, rows=[row(item="5", period_end="2023-06-30", value="很多")], dry_run=True
    )

    assert [e.field for e in result.errors] == ["item", "period_end", "value"]


def test_a_value_error_quotes_the_cell_as_it_was_typed():
    with pytest.raises(ValueError) as error:
        parse_value("1,2x")

    assert str(error.value) == "“1,2x”不是有效的数字"
