"""/api/v1/regions/: the region lookup, keyed by administrative-division code."""

import pytest

from tracking.models import Region

URL = "/api/v1/regions/"


def codes(response):
    assert response.status_code == 200, response.content
    return [row["code"] for row in response.json()["results"]]


def test_a_region_by_its_code(api, tongzhou_reporter):
    response = api(tongzhou_reporter).get(f"{URL}320612/")

    assert response.json() == {
        "code": "320612", "name": "通州区", "union_name": "通州区总工会", "level": "district", "parent": "320600",
    }


def test_users_see_their_region_and_below(api, nantong_reviewer, tongzhou_reporter, superuser):
    assert codes(api(nantong_reviewer).get(URL)) == ["320600", "320612"]
    assert codes(api(tongzhou_reporter).get(URL)) == ["320612"]
    assert len(codes(api(superuser).get(URL))) == Region.objects.count()
    assert api(tongzhou_reporter).get(f"{URL}321102/").status_code == 404
    assert api(tongzhou_reporter).get(f"{URL}nonsense/").status_code == 404


def test_level_and_parent_filters(api, superuser):
    client = api(superuser)

    assert codes(client.get(URL, {"level": "city"})) == ["320500", "320600", "321100"]
    assert codes(client.get(URL, {"parent": "320500"})) == ["320582", "320583"]
    assert client.get(URL, {"level": "village"}).status_code == 400


def test_regions_answer_304_while_unchanged(api, superuser):
    client = api(superuser)
    etag = client.get(URL)["ETag"]

    assert client.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 304
    Region.objects.filter(code="320612").update(union_name="南通市通州区总工会")
    assert client.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 200


@pytest.mark.parametrize("count", [1, 200])
def test_list_and_detail_run_a_constant_number_of_queries(api, superuser, count, django_assert_max_num_queries):
    parent = Region.objects.get(code="320600")
    Region.objects.bulk_create(
        Region(code=f"33{n:04d}", name=f"区{n}", union_name=f"区{n}总工会", level="district", parent=parent)
        for n in range(count)
    )
    client = api(superuser)
    total = Region.objects.count()

    # Token with membership, count, page.
    with django_assert_max_num_queries(3):
        assert len(codes(client.get(URL, {"page_size": 1000}))) == total
    with django_assert_max_num_queries(2):
        assert client.get(f"{URL}330000/").status_code == 200
