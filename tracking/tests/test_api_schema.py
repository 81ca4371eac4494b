"""/api/v1/schema/ and /api/v1/docs/: the OpenAPI document clients generate code from."""

import pytest
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

ENDPOINTS = {
    "/api/v1/regions/": {"get"},
    "/api/v1/regions/{code}/": {"get"},
    "/api/v1/programmes/": {"get"},
    "/api/v1/programmes/{id}/": {"get"},
    "/api/v1/targets/": {"get"},
    "/api/v1/targets/{id}/": {"get"},
    "/api/v1/targets/{id}/history/": {"get"},
    "/api/v1/progress-reports/": {"get", "post"},
    "/api/v1/progress-reports/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/progress-reports/{id}/submit/": {"post"},
    "/api/v1/progress-reports/{id}/approve/": {"post"},
    "/api/v1/progress-reports/{id}/return/": {"post"},
    "/api/v1/progress-reports/import/": {"post"},
    "/api/v1/summary/": {"get"},
    "/api/v1/completeness/": {"get"},
    "/api/v1/bulletin/": {"get"},
    "/api/v1/public/regions/": {"get"},
    "/api/v1/public/regions/{code}/": {"get"},
    "/api/v1/token/": {"post"},
    "/api/v1/extract/": {"post"},
}


@pytest.fixture
def schema(api):
    response = api().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi_3(schema):
    validate_schema(schema)  # raises on any violation of the OpenAPI 3.0 JSON schema
    assert schema["openapi"].startswith("3.0")


def test_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns every unresolved field, enum clash or missing hint into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_every_endpoint_and_method_appears(schema):
    documented = {path: set(operations) & {"get", "post", "put", "patch", "delete"} for path, operations in schema["paths"].items()}

    assert documented == ENDPOINTS


def test_every_field_and_parameter_is_described(schema):
    undescribed = [
        f"{name}.{field}"
        for name, component in schema["components"]["schemas"].items()
        for field, spec in component.get("properties", {}).items()
        if not spec.get("description")
    ]
    undescribed += [
        f"{method.upper()} {path} ?{parameter['name']}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if not parameter.get("description")
    ]

    assert undescribed == []


def test_filters_are_documented_with_their_types(schema):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/targets/"]["get"]["parameters"]}

    assert {"region", "year", "programme", "item", "category", "status", "measure", "completion_min",
            "completion_max", "updated_since", "ordering", "search", "as_of", "page", "page_size", "format"} <= set(parameters)
    assert parameters["year"]["type"] == "integer"
    assert parameters["updated_since"]["format"] == "date-time"
    assert set(parameters["status"]["enum"]) == {"not_started", "on_track", "behind", "overdue", "achieved", "reported"}


def test_figures_are_documented_as_numbers(schema):
    target = schema["components"]["schemas"]["Target"]["properties"]

    assert target["target_value"]["type"] == target["progress"]["type"] == "number"


def test_read_only_fields_are_not_inputs(schema):
    request_fields = set(schema["components"]["schemas"]["ProgressReportRequest"]["properties"])

    assert request_fields == {"target", "period_end", "value", "qualifier", "note"}


def test_docs_page_is_served(api):
    response = api().get("/api/v1/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_docs_page_loads_its_scripts_from_our_own_static_files(api, client):
    page = api().get("/api/v1/docs/").content.decode()

    assert "cdn.jsdelivr.net" not in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200
