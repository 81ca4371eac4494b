"""/api/v1/programmes/: a region's plans, and one plan's items and targets with their progress."""

import datetime

import pytest

from tracking.models import ProgressReport
from tracking.services import approve_report

from .conftest import bulk_targets, make_plan, make_target, report

D = datetime.date
URL = "/api/v1/programmes/"


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def plans(tongzhou_plan, jingkou_plan):
    return {"tongzhou": tongzhou_plan, "tongzhou_2023": make_plan("320612", year=2023), "jingkou": jingkou_plan}


def test_a_programme_in_the_list(api, plans, tongzhou_reporter):
    rows = api(tongzhou_reporter).get(URL, {"year": 2024}).json()["results"]

    assert len(rows) == 1
    row = rows[0]
    assert row.pop("updated_at")
    assert row == {
        "id": plans["tongzhou"].pk,
        "region": "320612",
        "kind": "annual_plan",
        "title": "2024年为职工办实事",
        "description": "",
        "year": 2024,
        "period_start": "2024-01-01",
        "period_end": "2024-12-31",
        "source_document": "",
        "reporting_frequency": "",
        "due_days": None,
    }


def test_region_filter_includes_every_district_below(api, plans, superuser):
    client = api(superuser)
    tongzhou = {plans["tongzhou"].pk, plans["tongzhou_2023"].pk}

    assert ids(client.get(URL, {"region": "320600"})) == tongzhou
    assert ids(client.get(URL, {"region": "320000"})) == tongzhou | {plans["jingkou"].pk}
    assert ids(client.get(URL, {"region": "321100", "year": 2024})) == {plans["jingkou"].pk}


def test_year_and_kind_filters(api, plans, tongzhou_reporter):
    client = api(tongzhou_reporter)

    assert ids(client.get(URL, {"year": 2023})) == {plans["tongzhou_2023"].pk}
    assert ids(client.get(URL, {"kind": "annual_plan"})) == {plans["tongzhou"].pk, plans["tongzhou_2023"].pk}
    assert ids(client.get(URL, {"kind": "review"})) == set()


@pytest.mark.parametrize(("params", "field"), [({"year": "x"}, "year"), ({"kind": "plan"}, "kind"), ({"region": "1"}, "region")])
def test_invalid_filters_are_400(api, plans, tongzhou_reporter, params, field):
    response = api(tongzhou_reporter).get(URL, params)

    assert response.status_code == 400
    assert field in response.json()


def test_other_regions_programmes_are_invisible(api, plans, jingkou_reporter):
    assert ids(api(jingkou_reporter).get(URL)) == {plans["jingkou"].pk}
    assert api(jingkou_reporter).get(f"{URL}{plans['tongzhou'].pk}/").status_code == 404


def test_detail_nests_items_and_targets_with_progress(api, songqingliang, tongzhou_plan, tongzhou_reporter):
    rate = make_target(
        tongzhou_plan, number=6, code="6.1", name="建会率", target_value="95", unit="%",
        measure="percentage", aggregation="latest",
    )
    report(songqingliang, D(2024, 3, 31), 3000)
    report(rate, D(2024, 6, 30), 96)

    body = api(tongzhou_reporter).get(f"{URL}{tongzhou_plan.pk}/", {"as_of": "2024-05-31"}).json()

    assert [(item["number"], item["title"], item["category"]) for item in body["items"]] == [
        (4, "送清凉", "services"),
        (6, "建会率", "services"),
    ]
    songqingliang_json = body["items"][0]["targets"][0]
    assert songqingliang_json["id"] == songqingliang.pk
    assert (songqingliang_json["progress"], songqingliang_json["completion"]) == (3000, 25.0)
    assert songqingliang_json["status"] == "behind"
    # Its report is dated after as_of: nothing done with 42 % of the year gone.
    assert (body["items"][1]["targets"][0]["progress"], body["items"][1]["targets"][0]["status"]) == (None, "behind")


def test_detail_etag_changes_after_an_approval(api, songqingliang, tongzhou_plan, tongzhou_reporter, nantong_reviewer):
    client = api(tongzhou_reporter)
    url = f"{URL}{tongzhou_plan.pk}/"
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    pending = report(songqingliang, D(2024, 6, 30), 6000, status=ProgressReport.Status.SUBMITTED)
    approve_report(user=nantong_reviewer, report=pending)

    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["items"][0]["targets"][0]["progress"] == 6000


def test_list_etag(api, plans, tongzhou_reporter):
    client = api(tongzhou_reporter)
    etag = client.get(URL)["ETag"]

    assert client.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 304
    make_plan("320612", year=2022)
    assert client.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 200


@pytest.mark.parametrize("count", [1, 200])
def test_list_and_detail_run_a_constant_number_of_queries(
    api, tongzhou_plan, tongzhou_reporter, count, django_assert_max_num_queries
):
    bulk_targets(tongzhou_plan, count)
    for year in range(2024 - count, 2024):
        make_plan("320612", year=year)
    client = api(tongzhou_reporter)

    # Token with membership, region check, ETag aggregate, count, page.
    with django_assert_max_num_queries(5):
        assert client.get(URL, {"page_size": 1000, "region": "320612"}).json()["count"] == count + 1
    # Token with membership, ETag aggregate, programme, items, targets.
    with django_assert_max_num_queries(5):
        body = client.get(f"{URL}{tongzhou_plan.pk}/", {"as_of": "2024-12-31"}).json()
    assert sum(len(item["targets"]) for item in body["items"]) == count
