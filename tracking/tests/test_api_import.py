"""/api/v1/progress-reports/import/: a script uploading a month's figures."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tracking.models import ProgressReport

URL = "/api/v1/progress-reports/import/"
S = ProgressReport.Status
HEADER = "地区代码,年度,计划类型,事项序号,指标编号,截至日期,数值,备注\n"
GOOD = HEADER + "320612,2024,annual_plan,4,4.1,2024-06-30,6000,上半年\n320612,2024,年度计划,4,4.1,2024-07-31,\"1,000\",\n"


def upload(text, encoding="utf-8-sig", name="reports.csv"):
    return {"file": SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")}


def reports():
    return list(ProgressReport.objects.order_by("period_end").values_list("period_end", "value", "status", "note"))


def test_csv_upload_creates_drafts(api, songqingliang, tongzhou_reporter):
    response = api(tongzhou_reporter).post(URL, upload(GOOD), format="multipart")

    assert response.status_code == 200, response.content
    assert response.json() == {"dry_run": False, "created": 2, "updated": 0, "unchanged": 0, "errors": []}
    assert [(str(d), v, s) for d, v, s, _note in reports()] == [
        ("2024-06-30", Decimal("6000"), S.DRAFT),
        ("2024-07-31", Decimal("1000"), S.DRAFT),
    ]
    assert set(ProgressReport.objects.values_list("created_by__username", flat=True)) == {"tongzhou_reporter"}


def test_gb18030_csv_from_excel(api, songqingliang, tongzhou_reporter):
    response = api(tongzhou_reporter).post(URL, upload(GOOD, encoding="gb18030"), format="multipart")

    assert response.json()["created"] == 2
    assert reports()[0][3] == "上半年"


def test_xlsx_upload(api, songqingliang, tongzhou_reporter):
    from openpyxl import Workbook

    book = Workbook()
    for line in GOOD.splitlines():
        book.active.append(line.replace('"1,000"', "1000").split(","))
    data = io.BytesIO()
    book.save(data)
    file = SimpleUploadedFile("reports.xlsx", data.getvalue())

    response = api(tongzhou_reporter).post(URL, {"file": file}, format="multipart")

    assert response.json()["created"] == 2


def test_json_list(api, songqingliang, tongzhou_reporter):
    rows = [{"region": "320612", "year": 2024, "kind": "annual_plan", "item": 4, "target": "4.1",
             "period_end": "2024-06-30", "value": 6000.5, "qualifier": "about"}]

    response = api(tongzhou_reporter).post(URL, rows, format="json")

    assert response.json()["created"] == 1
    assert ProgressReport.objects.get().value == Decimal("6000.5")
    assert ProgressReport.objects.get().qualifier == "about"


def test_json_rows_are_numbered_from_one(api, songqingliang, tongzhou_reporter):
    rows = [{"region": "320612", "year": 2024, "kind": "annual_plan", "item": 4, "target": "4.1",
             "period_end": "2024-06-30", "value": -5}]

    response = api(tongzhou_reporter).post(URL, rows, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"row": 1, "field": "value", "message": "数值不能为负数"}]


def test_dry_run_validates_without_writing(api, songqingliang, tongzhou_reporter):
    response = api(tongzhou_reporter).post(f"{URL}?dry_run=true", upload(GOOD), format="multipart")

    assert response.status_code == 200
    assert response.json() == {"dry_run": True, "created": 2, "updated": 0, "unchanged": 0, "errors": []}
    assert reports() == []


def test_uploading_the_same_file_twice_changes_nothing(api, songqingliang, tongzhou_reporter):
    client = api(tongzhou_reporter)
    client.post(URL, upload(GOOD), format="multipart")
    before = list(ProgressReport.objects.values_list("pk", "updated_at"))

    response = client.post(URL, upload(GOOD), format="multipart")

    assert response.json() == {"dry_run": False, "created": 0, "updated": 0, "unchanged": 2, "errors": []}
    assert list(ProgressReport.objects.values_list("pk", "updated_at")) == before


def test_a_corrected_file_updates_drafts(api, songqingliang, tongzhou_reporter):
    client = api(tongzhou_reporter)
    client.post(URL, upload(GOOD), format="multipart")

    response = client.post(URL, upload(GOOD.replace("6000", "6100")), format="multipart")

    assert (response.json()["updated"], response.json()["unchanged"]) == (1, 1)
    assert reports()[0][1] == Decimal("6100")


def test_one_bad_row_rejects_the_whole_file_with_per_row_errors(api, songqingliang, tongzhou_reporter):
    bad = GOOD + "320612,2024,annual_plan,4,4.1,2024-08-31,很多,\n320612,2024,annual_plan,4,9.9,2024-08-31,1,\n"

    response = api(tongzhou_reporter).post(URL, upload(bad), format="multipart")

    assert response.status_code == 400
    body = response.json()
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(4, "value"), (5, "target")]
    assert body["errors"][0]["message"] == "“很多”不是有效的数字"
    assert reports() == []


def test_rows_for_another_region_are_errors_and_nothing_is_written(api, songqingliang, jingkou_target, jingkou_reporter):
    response = api(jingkou_reporter).post(URL, upload(GOOD), format="multipart")

    assert response.status_code == 400
    assert {(e["row"], e["field"]) for e in response.json()["errors"]} == {(2, "region"), (3, "region")}
    assert reports() == []


@pytest.mark.parametrize("who", ["nantong_reviewer", "zhenjiang_reviewer"])
def test_reviewers_may_not_import(api, songqingliang, request, who):
    response = api(request.getfixturevalue(who)).post(URL, upload(GOOD), format="multipart")

    assert response.status_code == 403
    assert response.json() == {"detail": "只有填报员或管理员可以导入填报"}
    assert reports() == []


@pytest.mark.parametrize("who", ["tongzhou_manager", "superuser"])
def test_managers_and_superusers_may_import(api, songqingliang, request, who):
    assert api(request.getfixturevalue(who)).post(URL, upload(GOOD), format="multipart").json()["created"] == 2


def test_anonymous_imports_are_refused_even_with_public_reads(api, songqingliang, settings):
    settings.TRACKING_PUBLIC_READ = True

    assert api().post(URL, upload(GOOD), format="multipart").status_code == 401
    assert reports() == []


@pytest.mark.parametrize(
    ("data", "format"),
    [
        ({}, "multipart"),
        (upload("名称,数值\n通州,1\n"), "multipart"),
        (upload(GOOD, name="reports.pdf"), "multipart"),
        ({"rows": []}, "json"),
    ],
    ids=["no file", "missing columns", "not a spreadsheet", "json object"],
)
def test_a_file_that_cannot_be_read_is_400_on_file(api, songqingliang, tongzhou_reporter, data, format):
    response = api(tongzhou_reporter).post(URL, data, format=format)

    assert response.status_code == 400
    assert list(response.json()) == ["file"]


def test_dry_run_must_be_a_boolean(api, songqingliang, tongzhou_reporter):
    response = api(tongzhou_reporter).post(f"{URL}?dry_run=perhaps", upload(GOOD), format="multipart")

    assert response.status_code == 400
    assert list(response.json()) == ["dry_run"]
    assert reports() == []
