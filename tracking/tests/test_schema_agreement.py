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
