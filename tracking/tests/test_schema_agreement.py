"""Issue 14, defect 15: the schema says what the API refuses, and the API refuses what the schema forbids."""

import pytest

from tracking.models import ProgressReport

from .conftest import D, report
from .test_fuzz import served_schema_document

S = ProgressReport.Status
URL = "/api/v1/progress-reports/"


@pytest.fixture
def document():
    return served_schema_document()


def parameters(document, path, method="get"):
    return {p["name"]: p["schema"] for p in document["paths"][path][method].get("parameters", []) if p["in"] == "query"}


def test_the_schema_says_empty_parameters_and_page_sizes_below_one_are_refused(document):
    targets = parameters(document, "/api/v1/targets/")
    assert targets["region"]["minLength"] == 1
    assert targets["page_size"]["minimum"] == 1 and targets["page"]["minimum"] == 1
    assert parameters(document, "/api/v1/progress-reports/")["cursor"]["minLength"] == 1


def test_the_schema_says_a_return_needs_a_note(document):
    body = document["paths"]["/api/v1/progress-reports/{id}/return/"]["post"]["requestBody"]["content"]["application/json"]
    schema = document["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[1]]
    assert schema["required"] == ["review_note"]
    assert schema["properties"]["review_note"]["pattern"] == "\\S"


def test_a_created_reports_id_links_to_its_detail_and_workflow(document):
    links = document["paths"]["/api/v1/progress-reports/"]["post"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in links.values()} == {
        "progress_reports_retrieve", "progress_reports_partial_update", "progress_reports_submit_create",
        "progress_reports_approve_create", "progress_reports_return_create", "progress_reports_destroy",
    }
    assert all(link["parameters"] == {"id": "$response.body#/id"} for link in links.values())


@pytest.mark.parametrize("query", ["format=", "page=0.33", "page=0", "page_size=0"])
def test_a_malformed_paging_or_format_parameter_is_refused(api, songqingliang, tongzhou_reporter, query):
    response = api(tongzhou_reporter).get(f"/api/v1/targets/?{query}")

    assert response.status_code in (400, 404), response.status_code
    assert response["Content-Type"].startswith("application/json")


def test_a_number_as_a_note_is_refused(api, songqingliang, tongzhou_reporter):
    response = api(tongzhou_reporter).post(
        URL, {"target": songqingliang.pk, "period_end": "2024-06-30", "value": "1", "note": 0}, format="json"
    )

    assert response.status_code == 400 and "note" in response.json()
    assert not ProgressReport.objects.exists()


@pytest.mark.parametrize("step", ["approve", "return"])
def test_a_number_as_a_review_note_is_refused(api, songqingliang, nantong_reviewer, step):
    submitted = report(songqingliang, D(2024, 6, 30), 10, status=S.SUBMITTED)

    response = api(nantong_reviewer).post(f"{URL}{submitted.pk}/{step}/", {"review_note": 5}, format="json")

    assert response.status_code == 400 and "review_note" in response.json()
    submitted.refresh_from_db()
    assert (submitted.status, submitted.review_note) == (S.SUBMITTED, "")


def test_a_return_without_a_note_is_refused_as_the_schema_says(api, songqingliang, nantong_reviewer):
    submitted = report(songqingliang, D(2024, 6, 30), 10, status=S.SUBMITTED)

    response = api(nantong_reviewer).post(f"{URL}{submitted.pk}/return/", {}, format="json")

    assert response.status_code == 400 and "review_note" in response.json()
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED


def test_a_malformed_body_is_a_400_before_a_stale_if_match_is_a_412(api, songqingliang, tongzhou_reporter):
    draft = report(songqingliang, D(2024, 6, 30), 10, status=S.DRAFT)

    response = api(tongzhou_reporter).patch(
        f"{URL}{draft.pk}/", {"value": "abc"}, format="json", HTTP_IF_MATCH='W/"stale"'
    )

    assert response.status_code == 400 and "value" in response.json()
    draft.refresh_from_db()
    assert draft.value == 10


def test_a_good_body_with_a_stale_if_match_is_still_a_412(api, songqingliang, tongzhou_reporter):
    draft = report(songqingliang, D(2024, 6, 30), 10, status=S.DRAFT)

    response = api(tongzhou_reporter).patch(f"{URL}{draft.pk}/", {"value": "11"}, format="json", HTTP_IF_MATCH='W/"stale"')

    assert response.status_code == 412
    draft.refresh_from_db()
    assert draft.value == 10


# --- Every check on (the last of defect 15): what the schema can say, it says -------------------


def test_the_schema_says_what_a_region_code_an_ordering_and_a_number_filter_look_like(document):
    targets = parameters(document, "/api/v1/targets/")
    assert targets["region"]["pattern"] == r"^\d{6}$"
    assert targets["ordering"]["pattern"].startswith(r"^\s*-?(?:completion|name|last_reported_on|item_number)")
    assert (targets["year"]["minimum"], targets["year"]["maximum"]) == (-(2**63), 2**63 - 1)
    assert targets["completion_min"]["maximum"] == 1e50
    path = document["paths"]["/api/v1/regions/{code}/"]["get"]["parameters"]
    assert [p["schema"]["pattern"] for p in path if p["name"] == "code"] == [r"^\d{6}$"]


def test_the_schema_says_free_texts_take_no_nul(document):
    schemas = document["components"]["schemas"]
    assert schemas["ProgressReportRequest"]["properties"]["note"]["pattern"] == "^[^\\u0000]*$"
    assert schemas["CredentialsRequest"]["properties"]["password"]["pattern"] == "^[^\\u0000]*$"
    # Beside the pattern it had: more than spaces.
    assert schemas["ReturnRequest"]["properties"]["review_note"]["allOf"] == [{"pattern": "^[^\\u0000]*$"}]
    assert parameters(document, "/api/v1/targets/")["search"]["pattern"] == "^[^\\u0000]*$"


def test_the_schema_names_the_fields_whose_well_formed_values_the_data_decides(document):
    def refusals(path, method):
        return set(document["paths"][path][method]["responses"]["400"].get("x-data-refusals", {}))

    assert refusals("/api/v1/targets/", "get") == {"region"}
    assert {"target", "period_end"} <= refusals("/api/v1/progress-reports/", "post")
    assert refusals("/api/v1/token/", "post") == {"non_field_errors"}
    assert refusals("/api/v1/extract/", "post") == {"text", "file"}
    assert refusals("/api/v1/progress-reports/{id}/submit/", "post") == set()
    assert "地区代码不存在" in document["paths"]["/api/v1/targets/"]["get"]["responses"]["400"]["description"]


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ("targets/?region=999999", "region"),
        ("programmes/?region=999999", "region"),
        ("progress-reports/?region=999999", "region"),
        ("summary/?region=999999", "region"),
    ],
)
def test_an_unknown_region_code_is_the_documented_400_naming_the_region(api, songqingliang, tongzhou_reporter, path, refused):
    response = api(tongzhou_reporter).get(f"/api/v1/{path}")

    assert response.status_code == 400
    assert list(response.json()) == [refused]


def test_an_unknown_target_is_the_documented_400_naming_the_target(api, songqingliang, tongzhou_reporter):
    response = api(tongzhou_reporter).post(URL, {"target": 999999, "period_end": "2024-06-30", "value": "1"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["target"]
    assert not ProgressReport.objects.exists()


def test_wrong_credentials_stay_the_400_drf_answers(api, tongzhou_reporter):
    # DRF's obtain_auth_token answers 400, and scripts written for it read that: documented, not changed.
    response = api().post("/api/v1/token/", {"username": "tongzhou_reporter", "password": "wrong"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


@pytest.mark.parametrize(
    "path",
    [
        "completeness/?format=",
        "bulletin/?format=",
        "progress-reports/?cursor=",
        "targets/?search=",
        "targets/?ordering=",
        "targets/?ordering=name,",
        "targets/?page=",
        "targets/?page=last",
        "targets/?completion_min=1e51",
    ],
)
def test_a_parameter_the_schema_forbids_is_refused(api, songqingliang, tongzhou_reporter, path):
    response = api(tongzhou_reporter).get(f"/api/v1/{path}")

    assert response.status_code in (400, 404), (response.status_code, response.content[:200])
    assert response["Content-Type"].startswith("application/json")


def test_an_empty_choice_in_a_form_is_refused_as_in_json(api, songqingliang, tongzhou_reporter):
    client = api(tongzhou_reporter)

    extract = client.post("/api/v1/extract/", {"text": "全年开展宣讲100场。", "kind": ""}, format="multipart")
    create = client.post(
        URL, {"target": songqingliang.pk, "period_end": "2024-06-30", "value": "1", "qualifier": ""}, format="multipart"
    )

    assert (extract.status_code, list(extract.json())) == (400, ["kind"])
    assert (create.status_code, list(create.json())) == (400, ["qualifier"])
    assert not ProgressReport.objects.exists()


def test_the_schema_says_a_value_sent_has_at_most_four_decimals(document, api, songqingliang, tongzhou_reporter):
    schemas = document["components"]["schemas"]
    assert schemas["ProgressReportRequest"]["properties"]["value"]["multipleOf"] == 0.0001
    assert "multipleOf" not in schemas["ProgressReport"]["properties"]["value"]  # answers are floats

    response = api(tongzhou_reporter).post(
        URL, {"target": songqingliang.pk, "period_end": "2024-06-30", "value": 1.00001}, format="json"
    )

    assert (response.status_code, list(response.json())) == (400, ["value"])
