"""Bad input, through the API and the admin import: a clear 4xx in Chinese, and nothing written.

Each case is sent by a Tongzhou reporter (or the Nantong reviewer where the
step is a review). "Nothing written" is checked on the bytes: the row counts
and an md5 over every row of every tracking_* table, history included, are the
same before and after.
"""

import hashlib
import io
import json
import re

import pytest
from django.db import connection
from openpyxl import Workbook

from tracking.models import ProgressReport



S = ProgressReport.Status
CHINESE = re.compile(r"[\u4e00-\u9fff]")
HEADER = "地区代码,年度,计划类型,事项序号,指标编号,截至日期,数值,备注\n"
GOOD_ROW = "320612,2024,annual_plan,4,4.1,2024-07-31,100,\n"


def fingerprint():
    """Row counts and an md5 over the ordered rows of every tracking_* table."""
    quote = connection.ops.quote_name
    tables = sorted(t for t in connection.introspection.table_names() if t.startswith("tracking_"))
    counts, digest = {}, hashlib.md5()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {quote(table)} WHERE 1 = 0")
            order = ", ".join(str(i + 1) for i in range(len(cursor.description)))
            cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY {order}")
            rows = cursor.fetchall()
            counts[table] = len(rows)
            digest.update(table.encode())
            for row in rows:
                digest.update(repr(row).encode())
    return counts, digest.hexdigest()


def csv_upload(text, name="reports.csv", encoding="utf-8"):
    file = io.BytesIO(text.encode(encoding) if isinstance(text, str) else text)
    file.name = name
    return file


def xlsx_upload(build):
    book = Workbook()
    build(book.active)
    file = io.BytesIO()
    book.save(file)
    file.seek(0)
    file.name = "reports.xlsx"
    return file


def header_cells(sheet):
    sheet.append(HEADER.strip().split(","))


def with_formula(sheet):
    header_cells(sheet)
    sheet.append(["320612", 2024, "annual_plan", 4, "4.1", "2024-07-31", "=SUM(1,2)", ""])


def with_merged_header(sheet):
    sheet.append(["地区代码", None, "计划类型", "事项序号", "指标编号", "截至日期", "数值", "备注"])
    sheet.merge_cells("A1:B1")
    sheet.append(["320612", 2024, "annual_plan", 4, "4.1", "2024-07-31", 100, ""])


def new_report(reports_in_every_state, **overrides):
    body = {"target": reports_in_every_state["target"].pk, "period_end": "2024-07-31", "value": "100", "note": ""}
    return {**body, **overrides}


def no_body(reports_in_every_state):
    return {}


# (case id, who, method, path, request keywords). Paths and bodies are
# functions of the reports_in_every_state because ids differ between databases.
API_CASES = [
    ("negative value", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": new_report(w, value="-5")}),
    ("NaN", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": new_report(w, value="NaN")}),
    ("Infinity", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": new_report(w, value="Infinity")}),
    ("1e309 as a string", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": new_report(w, value="1e309")}),
    ("1e309 as a JSON number", "reporter", "post", "/api/v1/progress-reports/",
     lambda w: {"data": json.dumps(new_report(w)).replace('"value": "100"', '"value": 1e309'), "content_type": "application/json"}),
    ("NaN as a JSON literal", "reporter", "post", "/api/v1/progress-reports/",
     lambda w: {"data": json.dumps(new_report(w)).replace('"value": "100"', '"value": NaN'), "content_type": "application/json"}),
    ("empty value", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": new_report(w, value="")}),
    ("non-numeric value", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": new_report(w, value="一万二")}),
    ("too many decimals", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": new_report(w, value="1.00001")}),
    ("too large", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": new_report(w, value="1" + "0" * 16)}),
    ("date before the programme", "reporter", "post", "/api/v1/progress-reports/",
     lambda w: {"data": new_report(w, period_end="2023-12-31")}),
    ("date after the programme", "reporter", "post", "/api/v1/progress-reports/",
     lambda w: {"data": new_report(w, period_end="2025-01-01")}),
    ("invalid date", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": new_report(w, period_end="2024-02-30")}),
    ("not a date", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": new_report(w, period_end="六月底")}),
    ("existing date (duplicate)", "reporter", "post", "/api/v1/progress-reports/",
     lambda w: {"data": new_report(w, period_end="2024-06-01")}),
    ("unknown target", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": new_report(w, target=10**9)}),
    ("another district's target", "reporter", "post", "/api/v1/progress-reports/",
     lambda w: {"data": new_report(w, target=w["jingkou_target"].pk)}),
    ("unknown qualifier", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": new_report(w, qualifier="大约")}),
    ("over-long note", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": new_report(w, note="字" * 2001)}),
    ("NUL in the note", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": new_report(w, note="a\x00b")}),
    ("a list instead of an object", "reporter", "post", "/api/v1/progress-reports/", lambda w: {"data": [new_report(w)]}),
    ("deeply nested JSON", "reporter", "post", "/api/v1/progress-reports/",
     lambda w: {"data": "[" * 100_000 + "]" * 100_000, "content_type": "application/json"}),
    ("malformed JSON", "reporter", "post", "/api/v1/progress-reports/",
     lambda w: {"data": '{"target": 1,', "content_type": "application/json"}),
    ("wrong content type", "reporter", "post", "/api/v1/progress-reports/",
     lambda w: {"data": "target=1", "content_type": "text/plain"}),
    ("editing another district's report", "reporter", "patch",
     lambda w: f"/api/v1/progress-reports/{w['reports']['jingkou'].pk}/", lambda w: {"data": {"value": "1"}}),
    ("editing an approved report", "reporter", "patch",
     lambda w: f"/api/v1/progress-reports/{w['reports'][S.APPROVED].pk}/", lambda w: {"data": {"value": "1"}}),
    ("NaN in an edit", "reporter", "patch",
     lambda w: f"/api/v1/progress-reports/{w['reports'][S.DRAFT].pk}/", lambda w: {"data": {"value": "NaN"}}),
    ("moving a date out of the programme", "reporter", "patch",
     lambda w: f"/api/v1/progress-reports/{w['reports'][S.DRAFT].pk}/", lambda w: {"data": {"period_end": "2030-01-01"}}),
    ("approving a draft", "reviewer", "post",
     lambda w: f"/api/v1/progress-reports/{w['reports'][S.DRAFT].pk}/approve/", lambda w: {"data": {}}),
    ("returning without a note", "reviewer", "post",
     lambda w: f"/api/v1/progress-reports/{w['reports'][S.SUBMITTED].pk}/return/", lambda w: {"data": {"review_note": " "}}),
    ("approving another city's report", "reviewer", "post",
     lambda w: f"/api/v1/progress-reports/{w['reports']['jingkou'].pk}/approve/", lambda w: {"data": {}}),
    ("a reporter approving", "reporter", "post",
     lambda w: f"/api/v1/progress-reports/{w['reports'][S.SUBMITTED].pk}/approve/", lambda w: {"data": {}}),
    ("import: an object instead of a list", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": {"rows": []}}),
    ("import: a list of numbers", "reporter", "post", "/api/v1/progress-reports/import/", lambda w: {"data": [1, 2]}),
    ("import: an empty list", "reporter", "post", "/api/v1/progress-reports/import/", lambda w: {"data": []}),
    ("import: duplicate rows", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": [import_row(), import_row()]}),
    ("import: another district", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": [import_row(region="321102", item="1", target="1.1")]}),
    ("import: unknown region", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": [import_row(region="999999")]}),
    ("import: unknown target code", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": [import_row(target="9.9")]}),
    ("import: a good row and a negative one", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": [import_row(), import_row(period_end="2024-08-31", value="-1")]}),
    ("import: changing an approved report", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": [import_row(period_end="2024-06-03", value="1")]}),
    ("import: malformed CSV", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": {"file": csv_upload(HEADER + '320612,2024,"annual_plan,4\n')}, "format": "multipart"}),
    ("import: CSV with duplicate rows", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": {"file": csv_upload(HEADER + GOOD_ROW + GOOD_ROW)}, "format": "multipart"}),
    ("import: CSV with a NUL", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": {"file": csv_upload(HEADER + GOOD_ROW.replace("100", "1\x0000"))}, "format": "multipart"}),
    ("import: xlsx with a formula", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": {"file": xlsx_upload(with_formula)}, "format": "multipart"}),
    ("import: xlsx with merged header cells", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": {"file": xlsx_upload(with_merged_header)}, "format": "multipart"}),
    ("import: a PDF", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": {"file": csv_upload(b"%PDF-1.4\n", name="reports.pdf")}, "format": "multipart"}),
    ("import: a corrupt xlsx", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": {"file": csv_upload(b"PK\x03\x04garbage", name="reports.xlsx")}, "format": "multipart"}),
    ("import: no file", "reporter", "post", "/api/v1/progress-reports/import/",
     lambda w: {"data": {"other": "x"}, "format": "multipart"}),
    ("filter: SQL in the region", "reporter", "get", "/api/v1/targets/?region=320612%27%20OR%20%271%27%3D%271", no_body),
    ("filter: SQL in the year", "reporter", "get", "/api/v1/targets/?year=2024;DROP%20TABLE%20tracking_target", no_body),
    ("filter: SQL in the ordering", "reporter", "get", "/api/v1/targets/?ordering=name;DELETE", no_body),
    ("filter: SQL in a status", "reporter", "get", "/api/v1/progress-reports/?status=approved%27--", no_body),
    ("filter: SQL in a date", "reporter", "get", "/api/v1/progress-reports/?period_end_after=2024-01-01%27%20OR%201=1", no_body),
    ("summary: SQL in the region", "reporter", "get", "/api/v1/summary/?region=1%20UNION%20SELECT%20password", no_body),
    # PostgreSQL refuses NUL in text: these were 500s there.
    ("NUL in a region code in the path", "reporter", "get", "/api/v1/regions/3206%0012/", no_body),
    ("NUL in the summary's region", "reporter", "get", "/api/v1/summary/?region=3206%0012", no_body),
    ("NUL in a search", "reporter", "get", "/api/v1/targets/?search=%E9%80%81%00", no_body),
]


def import_row(**overrides):
    row = {"region": "320612", "year": "2024", "kind": "annual_plan", "item": "4", "target": "4.1",
           "period_end": "2024-07-31", "value": "100", "note": ""}
    return {**row, **overrides}


def message_of(response):
    return response.content.decode("utf-8", "replace")


@pytest.mark.parametrize("case", API_CASES, ids=[case[0] for case in API_CASES])
def test_bad_api_input_is_refused_in_chinese_and_writes_nothing(case, reports_in_every_state, api, tongzhou_reporter, nantong_reviewer):
    _name, who, method, path, request = case
    client = api(tongzhou_reporter if who == "reporter" else nantong_reviewer)
    path = path(reports_in_every_state) if callable(path) else path
    kwargs = request(reports_in_every_state) if callable(request) else {}
    if "format" not in kwargs and "content_type" not in kwargs and method != "get":
        kwargs["format"] = "json"
    before = fingerprint()

    response = getattr(client, method)(path, **kwargs)

    assert 400 <= response.status_code < 500, (response.status_code, message_of(response)[:500])
    assert CHINESE.search(message_of(response)), message_of(response)[:500]
    assert fingerprint() == before


# Files and rows refused by the admin's import page, before the preview.
ADMIN_IMPORT_CASES = [
    ("malformed CSV", lambda: csv_upload(HEADER + '320612,2024,"annual_plan,4\n')),
    ("CSV with duplicate rows", lambda: csv_upload(HEADER + GOOD_ROW + GOOD_ROW)),
    ("CSV with a NUL", lambda: csv_upload(HEADER + GOOD_ROW.replace("100", "1\x0000"))),
    ("CSV in an unknown encoding", lambda: csv_upload(HEADER.encode("utf-16") + GOOD_ROW.encode("utf-16"))),
    ("empty CSV", lambda: csv_upload("")),
    ("header only", lambda: csv_upload(HEADER)),
    ("missing columns", lambda: csv_upload("地区代码,年度\n320612,2024\n")),
    ("more cells than the header", lambda: csv_upload(HEADER + GOOD_ROW.strip() + ",x,y\n")),
    ("negative value", lambda: csv_upload(HEADER + GOOD_ROW.replace(",100,", ",-100,"))),
    ("NaN", lambda: csv_upload(HEADER + GOOD_ROW.replace(",100,", ",NaN,"))),
    ("Infinity", lambda: csv_upload(HEADER + GOOD_ROW.replace(",100,", ",Infinity,"))),
    ("1e309", lambda: csv_upload(HEADER + GOOD_ROW.replace(",100,", ",1e309,"))),
    ("empty value", lambda: csv_upload(HEADER + GOOD_ROW.replace(",100,", ",,"))),
    ("non-numeric value", lambda: csv_upload(HEADER + GOOD_ROW.replace(",100,", ",很多,"))),
    ("formula in a CSV cell", lambda: csv_upload(HEADER + GOOD_ROW.replace(",100,", ",=1+1,"))),
    ("date outside the programme", lambda: csv_upload(HEADER + GOOD_ROW.replace("2024-07-31", "2025-07-31"))),
    ("invalid date", lambda: csv_upload(HEADER + GOOD_ROW.replace("2024-07-31", "2024-13-01"))),
    ("unknown region", lambda: csv_upload(HEADER + GOOD_ROW.replace("320612", "999999"))),
    ("another district", lambda: csv_upload(HEADER + "321102,2024,annual_plan,1,1.1,2024-07-31,5,\n")),
    ("unknown target code", lambda: csv_upload(HEADER + GOOD_ROW.replace(",4.1,", ",4.9,"))),
    ("over-long note", lambda: csv_upload(HEADER + GOOD_ROW.strip() + "字" * 2001 + "\n")),
    ("changing an approved report", lambda: csv_upload(HEADER + GOOD_ROW.replace("2024-07-31", "2024-06-03").replace(",100,", ",1,"))),
    ("xlsx with a formula", lambda: xlsx_upload(with_formula)),
    ("xlsx with merged header cells", lambda: xlsx_upload(with_merged_header)),
    ("corrupt xlsx", lambda: csv_upload(b"PK\x03\x04garbage", name="reports.xlsx")),
    ("a PDF", lambda: csv_upload(b"%PDF-1.4\n", name="reports.pdf")),
    ("an executable", lambda: csv_upload(b"MZ\x90\x00", name="reports.exe")),
]


@pytest.mark.parametrize("upload", [c[1] for c in ADMIN_IMPORT_CASES], ids=[c[0] for c in ADMIN_IMPORT_CASES])
def test_bad_admin_import_is_refused_in_chinese_and_writes_nothing(upload, reports_in_every_state, logged_in, tongzhou_reporter, media_root):
    client = logged_in(tongzhou_reporter)
    before = fingerprint()

    response = client.post("/admin/tracking/progressreport/import/", {"file": upload()})

    assert 400 <= response.status_code < 500, (response.status_code, message_of(response)[-2000:])
    assert CHINESE.search(message_of(response))
    # Nothing the preview could confirm later: no token in the page.
    assert 'name="token"' not in message_of(response)
    assert fingerprint() == before


def test_admin_import_over_the_size_limit_is_refused(reports_in_every_state, logged_in, tongzhou_reporter, media_root, settings):
    settings.TRACKING_IMPORT_MAX_BYTES = 1024
    client = logged_in(tongzhou_reporter)
    before = fingerprint()

    response = client.post("/admin/tracking/progressreport/import/", {"file": csv_upload(HEADER + GOOD_ROW * 40)})

    assert response.status_code == 400
    assert "文件过大" in message_of(response)
    assert fingerprint() == before


def test_api_import_over_the_size_limit_is_refused(reports_in_every_state, api, tongzhou_reporter, settings):
    settings.TRACKING_IMPORT_MAX_BYTES = 1024
    before = fingerprint()

    response = api(tongzhou_reporter).post(
        "/api/v1/progress-reports/import/", {"file": csv_upload(HEADER + GOOD_ROW * 40)}, format="multipart"
    )

    assert response.status_code == 400
    assert "文件过大" in message_of(response)
    assert fingerprint() == before


def test_admin_import_confirmation_with_a_forged_token_writes_nothing(reports_in_every_state, logged_in, tongzhou_reporter, media_root):
    client = logged_in(tongzhou_reporter)
    before = fingerprint()

    response = client.post("/admin/tracking/progressreport/import/confirm/", {"token": "../../etc/passwd"}, follow=True)

    assert "导入已过期或已完成" in message_of(response)
    assert fingerprint() == before


SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_html_in_a_note_comes_out_escaped_in_the_admin(reports_in_every_state, api, logged_in, tongzhou_reporter):
    created = api(tongzhou_reporter).post(
        "/api/v1/progress-reports/", new_report(reports_in_every_state, note=SCRIPT), format="json"
    )
    assert created.status_code == 201, created.content
    client = logged_in(tongzhou_reporter)
    pages = [
        f"/admin/tracking/progressreport/{created.json()['id']}/change/",
        f"/admin/tracking/progressreport/{created.json()['id']}/history/",
        f"/admin/tracking/target/{reports_in_every_state['target'].pk}/change/",
        "/admin/tracking/progressreport/?q=alert",
    ]
    for page in pages:
        html = message_of(client.get(page))
        assert "<script>alert" not in html and "<img src=x" not in html, page
    change_page = message_of(client.get(pages[0]))
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in change_page


def test_html_in_an_imported_note_comes_out_escaped_in_the_preview(reports_in_every_state, logged_in, tongzhou_reporter, media_root):
    client = logged_in(tongzhou_reporter)
    note = SCRIPT.replace('"', "'")

    response = client.post("/admin/tracking/progressreport/import/", {"file": csv_upload(HEADER + GOOD_ROW.strip() + note + "\n")})

    html = message_of(response)
    assert response.status_code == 200 and "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


@pytest.mark.parametrize("written", ["12,000", "１２０００", "12，000", " 12000 ", "12000.0000"])
def test_a_figure_written_as_in_a_spreadsheet_means_the_same_through_the_api_and_the_import(
    written, reports_in_every_state, api, tongzhou_reporter
):
    """Decided: the API reads values by the import's rule (importing.parse_value), so both accept these as 12000."""
    client = api(tongzhou_reporter)

    entered = client.post("/api/v1/progress-reports/", new_report(reports_in_every_state, value=written, period_end="2024-07-30"),
                          format="json")
    imported = client.post("/api/v1/progress-reports/import/", [import_row(value=written)], format="json")

    assert entered.status_code == 201, entered.content
    assert imported.status_code == 200, imported.content
    values = ProgressReport.objects.filter(period_end__in=["2024-07-30", "2024-07-31"]).values_list("value", flat=True)
    assert list(values) == [12000, 12000]


def test_an_edit_from_a_stale_read_is_refused_with_412(reports_in_every_state, api, tongzhou_reporter):
    client = api(tongzhou_reporter)
    url = f"/api/v1/progress-reports/{reports_in_every_state['reports'][S.DRAFT].pk}/"
    read = client.get(url)["ETag"]
    edited = client.patch(url, {"value": "200"}, format="json", HTTP_IF_MATCH=read)
    assert edited.status_code == 200 and edited["ETag"] != read
    # The new ETag is what a GET now answers, so edits can be chained.
    assert client.get(url)["ETag"] == edited["ETag"]
    before = fingerprint()

    stale = client.patch(url, {"value": "300"}, format="json", HTTP_IF_MATCH=read)

    assert stale.status_code == 412
    assert "已被修改" in stale.json()["detail"]
    assert fingerprint() == before
    assert client.patch(url, {"value": "300"}, format="json", HTTP_IF_MATCH=edited["ETag"]).status_code == 200


def test_a_reviewer_approves_only_the_version_they_read(reports_in_every_state, api, tongzhou_reporter, nantong_reviewer):
    """Read, returned by someone else, edited and resubmitted: approving the old read is a 412."""
    reviewer, reporter = api(nantong_reviewer), api(tongzhou_reporter)
    pk = reports_in_every_state["reports"][S.SUBMITTED].pk
    url = f"/api/v1/progress-reports/{pk}/"
    seen = reviewer.get(url)["ETag"]
    assert reviewer.post(url + "return/", {"review_note": "请核对"}, format="json").status_code == 200
    assert reporter.patch(url, {"value": "999"}, format="json").status_code == 200
    assert reporter.post(url + "submit/", {}, format="json").status_code == 200
    before = fingerprint()

    approving = reviewer.post(url + "approve/", {}, format="json", HTTP_IF_MATCH=seen)

    assert approving.status_code == 412
    assert fingerprint() == before
    current = reviewer.get(url)["ETag"]
    assert reviewer.post(url + "approve/", {}, format="json", HTTP_IF_MATCH=current).status_code == 200


def test_a_delete_from_a_stale_read_is_refused(reports_in_every_state, api, tongzhou_reporter):
    client = api(tongzhou_reporter)
    url = f"/api/v1/progress-reports/{reports_in_every_state['reports'][S.DRAFT].pk}/"
    read = client.get(url)["ETag"]
    client.patch(url, {"note": "改过"}, format="json")
    before = fingerprint()

    assert client.delete(url, HTTP_IF_MATCH=read).status_code == 412
    assert fingerprint() == before


@pytest.mark.parametrize("path", [
    "/admin/tracking/target/?q=%E9%80%81%00", "/admin/tracking/progressreport/?q=%00", "/admin/tracking/region/3206%0012/change/",
])
def test_nul_in_an_admin_url_is_a_400(path, reports_in_every_state, logged_in, tongzhou_reporter):
    before = fingerprint()

    response = logged_in(tongzhou_reporter).get(path, HTTP_ACCEPT="text/html")

    assert response.status_code == 400
    assert "非法字符" in message_of(response)
    assert fingerprint() == before
