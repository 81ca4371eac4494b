"""Import and export of progress reports through the admin pages."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from tracking.models import ProgressReport

from .conftest import make_target, report

pytestmark = pytest.mark.usefixtures("media_root")
S = ProgressReport.Status
IMPORT = "admin:tracking_progressreport_import"
CONFIRM = "admin:tracking_progressreport_import_confirm"
HEADER = "地区代码,年度,计划类型,事项序号,指标编号,指标名称,截至日期,数值,限定,备注\n"
GOOD_ROWS = (
    "320612,2024,年度计划,4,4.1,送清凉,2024-06-30,6000,精确,第一批\n"
    "320612,2024,年度计划,4,4.1,送清凉,2024-07-31,2000,以上,第二批\n"
    "320612,2024,年度计划,4,4.2,体检,2024-06-30,150,精确,\n"
)


@pytest.fixture
def tongzhou_targets(songqingliang, tongzhou_plan):
    return [songqingliang, make_target(tongzhou_plan, code="4.2", name="新业态职工送体检", target_value="300")]


def upload(client, text, encoding="utf-8-sig", name="reports.csv"):
    file = SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")
    return client.post(reverse(IMPORT), {"file": file})


def confirm(client, preview):
    return client.post(reverse(CONFIRM), {"token": preview.context["token"]})


def test_dry_run_previews_the_rows_and_writes_nothing(tongzhou_targets, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)

    preview = upload(client, HEADER + GOOD_ROWS)

    assert preview.status_code == 200
    page = preview.content.decode()
    assert "确认导入" in page and "第二批" in page
    assert (preview.context["result"].created, preview.context["result"].updated) == (3, 0)
    assert not ProgressReport.objects.exists()


def test_confirmed_import_writes_every_row_as_a_draft(tongzhou_targets, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)

    response = confirm(client, upload(client, HEADER + GOOD_ROWS))

    assert response.status_code == 302
    rows = ProgressReport.objects.order_by("target__code", "period_end")
    assert [(r.target.code, r.period_end, r.value, r.qualifier, r.note, r.status) for r in rows] == [
        ("4.1", datetime.date(2024, 6, 30), Decimal("6000"), "exact", "第一批", S.DRAFT),
        ("4.1", datetime.date(2024, 7, 31), Decimal("2000"), "at_least", "第二批", S.DRAFT),
        ("4.2", datetime.date(2024, 6, 30), Decimal("150"), "exact", "", S.DRAFT),
    ]
    assert "新增 3 条" in " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_the_same_file_again_writes_nothing(tongzhou_targets, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)
    confirm(client, upload(client, HEADER + GOOD_ROWS))
    before = list(ProgressReport.objects.values_list("pk", "updated_at"))
    versions = ProgressReport.history.count()

    preview = upload(client, HEADER + GOOD_ROWS)
    confirm(client, preview)

    result = preview.context["result"]
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert list(ProgressReport.objects.values_list("pk", "updated_at")) == before
    assert ProgressReport.history.count() == versions


def test_one_bad_row_rejects_the_whole_file_with_messages(tongzhou_targets, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)
    bad = GOOD_ROWS + "320612,2024,年度计划,4,4.1,送清凉,2024-08-31,很多,精确,\n321102,2024,年度计划,1,1.1,培训,2024-06-30,5,精确,\n"

    preview = upload(client, HEADER + bad)

    page = preview.content.decode()
    assert preview.status_code == 400
    assert "确认导入" not in page and preview.context["token"] is None
    assert [(row, column) for row, column, _message in preview.context["errors"]] == [(5, "数值"), (6, "地区代码")]
    assert "“很多”不是有效的数字" in page
    assert not ProgressReport.objects.exists()


def test_a_file_that_cannot_be_read_is_refused_on_the_upload_form(tongzhou_targets, tongzhou_reporter, logged_in):
    preview = upload(logged_in(tongzhou_reporter), "name,value\nfoo,1\n")

    assert preview.status_code == 400
    assert "表头缺少必需的列" in str(preview.context["form"].errors["file"])
    assert not ProgressReport.objects.exists()


def test_gb18030_csv_is_read_correctly(tongzhou_targets, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)

    confirm(client, upload(client, HEADER + "320612,2024,年度计划,4,4.1,送清凉,2024-06-30,6000,约,高温慰问‧第一批\n",
                           encoding="gb18030"))

    imported = ProgressReport.objects.get()
    assert (imported.value, imported.qualifier, imported.note) == (Decimal("6000"), "about", "高温慰问‧第一批")


def test_an_approved_report_cannot_be_changed_by_import(tongzhou_targets, tongzhou_reporter, logged_in):
    report(tongzhou_targets[0], datetime.date(2024, 6, 30), 6000)
    client = logged_in(tongzhou_reporter)

    preview = upload(client, HEADER + "320612,2024,年度计划,4,4.1,送清凉,2024-06-30,9999,精确,\n")

    assert "不能通过导入修改" in preview.content.decode()
    assert ProgressReport.objects.get().value == Decimal("6000")


def test_confirmation_needs_the_token_of_this_session(tongzhou_targets, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)
    upload(client, HEADER + GOOD_ROWS)

    response = client.post(reverse(CONFIRM), {"token": "forged"})

    assert response.status_code == 302
    assert not ProgressReport.objects.exists()


def test_a_confirmed_import_cannot_be_confirmed_twice(tongzhou_targets, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)
    preview = upload(client, HEADER + GOOD_ROWS)
    confirm(client, preview)
    ProgressReport.objects.all().delete()

    confirm(client, preview)

    assert not ProgressReport.objects.exists()


def test_template_imports_back_once_filled_in(tongzhou_targets, tongzhou_manager, logged_in):
    client = logged_in(tongzhou_manager)
    programme = tongzhou_targets[0].programme
    response = client.get(reverse("admin:tracking_programme_template", args=[programme.pk]) + "?format=xlsx")
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    assert header == ["地区代码", "年度", "计划类型", "事项序号", "指标编号", "指标名称", "单位", "截至日期", "数值", "限定", "备注"]
    assert [[c.value for c in row][:7] for row in sheet.iter_rows(min_row=2)] == [
        ["320612", 2024, "年度计划", 4, "4.1", "送清凉", "名"],
        ["320612", 2024, "年度计划", 4, "4.2", "新业态职工送体检", "名"],
    ]
    for row in (2, 3):
        sheet.cell(row, 8, "2024-06-30")
        sheet.cell(row, 9, 100 * row)
    filled = io.BytesIO()
    book.save(filled)

    preview = client.post(reverse(IMPORT), {"file": SimpleUploadedFile("filled.xlsx", filled.getvalue())})
    confirm(client, preview)

    assert sorted(ProgressReport.objects.values_list("target__code", "value")) == [
        ("4.1", Decimal("200")), ("4.2", Decimal("300")),
    ]


def test_csv_template_has_a_bom_and_one_row_per_target(tongzhou_targets, tongzhou_reporter, logged_in):
    programme = tongzhou_targets[0].programme

    response = logged_in(tongzhou_reporter).get(
        reverse("admin:tracking_programme_template", args=[programme.pk]) + "?format=csv"
    )

    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["地区代码", "年度", "计划类型", "事项序号", "指标编号"]
    assert [row[4] for row in rows[1:]] == ["4.1", "4.2"]
    assert all(row[7] == row[8] == "" for row in rows[1:])


def test_export_csv_opens_in_excel_with_chinese_headers(songqingliang, tongzhou_reporter, logged_in):
    report(songqingliang, datetime.date(2024, 6, 30), 6000, note="高温慰问")
    report(songqingliang, datetime.date(2024, 7, 31), 2000, status=S.SUBMITTED)

    response = logged_in(tongzhou_reporter).get(reverse("admin:tracking_progressreport_export") + "?format=csv")

    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["指标编号"], r["截至日期"], r["数值"], r["状态"], r["备注"]) for r in rows] == [
        ("4.1", "2024-06-30", "6000", "已通过", "高温慰问"),
        ("4.1", "2024-07-31", "2000", "待审核", ""),
    ]


def test_export_follows_the_list_filters(songqingliang, tongzhou_reporter, logged_in):
    report(songqingliang, datetime.date(2024, 6, 30), 6000)
    report(songqingliang, datetime.date(2024, 7, 31), 2000, status=S.SUBMITTED)

    response = logged_in(tongzhou_reporter).get(
        reverse("admin:tracking_progressreport_export") + "?format=xlsx&status__exact=submitted"
    )

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("地区代码", "地区", "年度")
    assert [(row[5], row[9]) for row in rows[1:]] == [("4.1", 2000)]


def test_exported_file_imports_back_unchanged(songqingliang, tongzhou_reporter, logged_in):
    report(songqingliang, datetime.date(2024, 6, 30), 6000, status=S.DRAFT, note="第一批")
    client = logged_in(tongzhou_reporter)
    exported = client.get(reverse("admin:tracking_progressreport_export") + "?format=xlsx").content

    preview = client.post(reverse(IMPORT), {"file": SimpleUploadedFile("export.xlsx", exported)})

    result = preview.context["result"]
    assert result.ok and (result.created, result.updated, result.unchanged) == (0, 0, 1)


def test_jingkou_reporter_cannot_import_tongzhou_rows(tongzhou_targets, jingkou_reporter, logged_in):
    preview = upload(logged_in(jingkou_reporter), HEADER + GOOD_ROWS)

    assert "无权填报其他地区" in preview.content.decode()
    assert not ProgressReport.objects.exists()


def test_xlsx_written_by_excel_is_read(tongzhou_targets, tongzhou_reporter, logged_in):
    book = Workbook()
    sheet = book.active
    sheet.append(["地区代码", "年度", "计划类型", "事项序号", "指标编号", "截至日期", "数值"])
    sheet.append([320612, 2024, "annual_plan", 4, "4.1", datetime.datetime(2024, 6, 30), 6000])
    content = io.BytesIO()
    book.save(content)
    client = logged_in(tongzhou_reporter)

    confirm(client, client.post(reverse(IMPORT), {"file": SimpleUploadedFile("excel.xlsx", content.getvalue())}))

    assert ProgressReport.objects.get().value == Decimal("6000")


def test_exported_note_that_looks_like_a_formula_stays_text(songqingliang):
    from tracking.exports import ProgressReportResource

    report(songqingliang, "2024-06-30", 6000, note='=HYPERLINK("http://x","点击")')

    dataset = ProgressReportResource().export(ProgressReport.objects.all())

    assert dataset.dict[0]["备注"] == '\'=HYPERLINK("http://x","点击")'


def test_the_preview_marks_the_bad_row_and_its_bad_cells(tongzhou_targets, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)
    bad = "320612,2024,年度计划,4,4.9,送温暖,2024-07-31,\"1,2x\",精确,\n"

    preview = upload(client, HEADER + GOOD_ROWS + bad)

    assert preview.status_code == 400
    rows = {number: (cells, problems) for number, cells, problems in preview.context["rows"]}
    assert rows[2][1] == [] and rows[5][1] == ["未找到指标：2024 年年度计划 的 4.9", "“1,2x”不是有效的数字"]
    assert [text for text, bad in rows[5][0] if bad] == ["4.9", "1,2x"]
    page = preview.content.decode()
    assert page.count('class="tt-bad-row"') == 1 and page.count('class="tt-bad-cell"') == 2
    assert not ProgressReport.objects.exists()


def test_the_preview_shows_excel_cells_as_the_clerk_typed_them(tongzhou_targets, tongzhou_reporter, logged_in):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append([320612, 2024, "年度计划", 4, "4.1", "送清凉", datetime.datetime(2024, 6, 30), 6000.0, "精确", ""])
    data = io.BytesIO()
    book.save(data)
    file = SimpleUploadedFile("reports.xlsx", data.getvalue())

    preview = logged_in(tongzhou_reporter).post(reverse(IMPORT), {"file": file})

    (_number, cells, _problems), = preview.context["rows"]
    assert [text for text, _bad in cells][:7] == ["320612", "2024", "年度计划", "4", "4.1", "2024-06-30", "6000"]
