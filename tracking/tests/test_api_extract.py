"""POST /api/v1/extract/: a report's text in, the proposal out as JSON, nothing written."""

from django.core.files.uploadedfile import SimpleUploadedFile

from tracking.models import Item, Programme, ProgressReport, Target

URL = "/api/v1/extract/"
REPORT = (
    "一、服务职工\n\n全年走访慰问困难职工1613户，发放慰问金约335万元。\n\n"
    "二、组织建设\n\n新建基层工会44家，新发展会员3093人，建会率达98.5%。\n"
)


def counts():
    return [model.objects.count() for model in (Programme, Item, Target, ProgressReport)]


def test_a_manager_gets_the_items_and_figures_of_a_pasted_report_and_nothing_is_written(api, tongzhou_manager):
    before = counts()

    response = api(tongzhou_manager).post(URL, {"text": REPORT, "kind": "annual_report"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["title"] for item in body["items"]] == ["服务职工", "组织建设"]
    figures = [(f["value"], f["unit"], f["qualifier"], f["item"]) for f in body["figures"]]
    assert figures == [
        (1613, "户", "exact", 0), (3350000, "元", "about", 0),
        (44, "家", "exact", 1), (3093, "人", "exact", 1), (98.5, "%", "exact", 1),
    ]
    first = body["figures"][0]
    assert REPORT[first["offset"]:first["offset"] + len(first["quote"])] == first["quote"] == "全年走访慰问困难职工1613户"
    assert REPORT[first["start"]:first["end"]] == first["written"] == "1613户"
    assert counts() == before


def test_a_text_file_can_be_uploaded_instead_of_pasted(api, tongzhou_reporter):
    upload = SimpleUploadedFile("report.txt", REPORT.encode("gb18030"), content_type="text/plain")

    response = api(tongzhou_reporter).post(URL, {"file": upload, "kind": "review"}, format="multipart")

    assert response.status_code == 200, response.content
    assert response.json()["kind"] == "review"
    assert len(response.json()["figures"]) == 5


def test_a_plan_proposes_targets_and_a_milestone_for_a_promised_act(api, tongzhou_manager):
    plan = "1. 为12000名一线职工送清凉；\n2. 建成区职工服务中心并投入使用；\n3. 举办百场职工文体活动。\n"

    response = api(tongzhou_manager).post(URL, {"text": plan, "kind": "annual_plan"}, format="json")

    items = response.json()["items"]
    assert [(i["title"], i["milestone"]) for i in items] == [
        ("为12000名一线职工送清凉", False), ("建成区职工服务中心并投入使用", True), ("举办百场职工文体活动", False)
    ]
    assert [(f["value"], f["unit"]) for f in response.json()["figures"]] == [(12000, "名"), (100, "场")]


def test_an_anonymous_client_is_refused(api):
    response = api().post(URL, {"text": REPORT}, format="json")

    assert response.status_code == 401


def test_empty_text_is_refused_in_chinese_and_nothing_is_written(api, tongzhou_manager):
    before = counts()

    response = api(tongzhou_manager).post(URL, {"text": "  \n "}, format="json")

    assert response.status_code == 400
    assert response.json() == {"text": ["文本为空，请粘贴或上传报告全文"]}
    assert counts() == before


def test_a_binary_file_is_refused_in_chinese(api, tongzhou_manager):
    upload = SimpleUploadedFile("report.docx", b"PK\x03\x04\x00\x00binary\x00\x01", content_type="application/octet-stream")

    response = api(tongzhou_manager).post(URL, {"file": upload}, format="multipart")

    assert response.status_code == 400
    assert "不是文本" in response.json()["file"][0]


def test_a_megabyte_of_text_is_refused_in_chinese_and_nothing_is_written(api, tongzhou_manager):
    before = counts()

    text = "职工" * (1024 * 1024 // 6)  # 1 MB in UTF-8

    response = api(tongzhou_manager).post(URL, {"text": text}, format="json")

    assert response.status_code == 400
    assert "文本过长" in response.json()["text"][0]
    assert counts() == before


def test_an_unknown_kind_is_refused(api, tongzhou_manager):
    response = api(tongzhou_manager).post(URL, {"text": REPORT, "kind": "wish_list"}, format="json")

    assert response.status_code == 400
    assert "kind" in response.json()
