"""/api/v1/: the entry a newcomer opens first lists every list, the summary, the token, the docs and the schema."""

import pytest

URL = "/api/v1/"


@pytest.mark.django_db
def test_the_root_lists_the_lists_the_docs_the_schema_the_token_and_the_summary(api):
    response = api().get(URL)

    assert response.status_code == 200
    assert response.json() == {
        name: f"http://testserver/api/v1/{path}"
        for name, path in [
            ("regions", "regions/"), ("programmes", "programmes/"), ("targets", "targets/"),
            ("progress-reports", "progress-reports/"), ("summary", "summary/"),
            ("completeness", "completeness/"), ("bulletin", "bulletin/"), ("token", "token/"),
            ("docs", "docs/"), ("schema", "schema/"),
        ]
    }


@pytest.mark.django_db
def test_every_link_of_the_root_answers(api, tongzhou_reporter):
    client = api(tongzhou_reporter)

    for name, url in client.get(URL).json().items():
        response = client.post(url, {"username": "x", "password": "y"}) if name == "token" else client.get(url)
        # The token endpoint refuses wrong credentials with a 400 in Chinese; everything else is there.
        assert response.status_code == (400 if name == "token" else 200), (name, response.status_code)


@pytest.mark.django_db
def test_the_browsable_root_names_the_service_in_chinese(client):
    page = client.get(URL, HTTP_ACCEPT="text/html").content.decode()

    assert "职工实事跟踪 API" in page and "交互式文档" in page and "Api Root" not in page
