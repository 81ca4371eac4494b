"""/api/v1/summary/: the big screen's figures per region, category or programme."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tracking.models import ProgressReport
from tracking.services import approve_report

from .conftest import bulk_targets, make_plan, make_target, report

D = datetime.date
S = ProgressReport.Status
URL = "/api/v1/summary/"
AS_OF = "2024-07-01"


def groups(response):
    assert response.status_code == 200, response.content
    return groups_of(response.json())


def groups_of(body):
    return {group["key"]: group for group in body["groups"]}


def test_per_province_without_a_region(api, plans_across_jiangsu, superuser):
    response = api(superuser).get(URL, {"as_of": AS_OF})

    body = response.json()
    assert (body["year"], body["as_of"], body["group_by"], body["region"]) == (2024, AS_OF, "region", None)
    jiangsu = groups(response)["320000"]
    assert jiangsu.pop("mean_completion") == pytest.approx((50 + 96 / 95 * 100 + 0 + 0 + 100 + 10) / 6)
    assert jiangsu == {
        "key": "320000", "name": "江苏省", "targets": 7,
        # 培训 and the city's own target have no progress half way through the year: behind.
        "not_started": 0, "on_track": 1, "behind": 3, "overdue": 0, "achieved": 2, "reported": 1,
        "pending_reports": 1,
    }


def test_per_city_under_the_province(api, plans_across_jiangsu, superuser):
    by_city = groups(api(superuser).get(URL, {"as_of": AS_OF, "region": "320000"}))

    assert {key: (g["name"], g["targets"]) for key, g in by_city.items()} == {
        "320500": ("苏州市", 1),
        "320600": ("南通市", 5),
        "321100": ("镇江市", 1),
    }
    assert by_city["320500"]["behind"] == 1
    assert by_city["321100"]["pending_reports"] == 1
    assert by_city["320600"]["mean_completion"] == pytest.approx((50 + 96 / 95 * 100 + 0 + 0) / 4)


def test_per_district_under_a_city_keeps_the_citys_own_programme_apart(api, plans_across_jiangsu, superuser):
    by_district = groups(api(superuser).get(URL, {"as_of": AS_OF, "region": "320600"}))

    assert {key: (g["name"], g["targets"]) for key, g in by_district.items()} == {
        "320600": ("南通市", 1),
        "320612": ("通州区", 4),
    }


def test_per_category(api, plans_across_jiangsu, superuser):
    by_category = groups(api(superuser).get(URL, {"as_of": AS_OF, "group_by": "category"}))

    assert {key: (g["name"], g["targets"]) for key, g in by_category.items()} == {
        "rights": ("权益维护", 1),
        "services": ("服务帮扶", 6),
    }


def test_per_programme(api, plans_across_jiangsu, superuser, tongzhou_plan):
    by_programme = groups(api(superuser).get(URL, {"as_of": AS_OF, "group_by": "programme", "region": "320612"}))

    assert list(by_programme) == [str(tongzhou_plan.pk)]
    assert by_programme[str(tongzhou_plan.pk)]["name"] == "通州区 2024年为职工办实事"
    assert by_programme[str(tongzhou_plan.pk)]["targets"] == 4


def test_year_and_kind_select_the_programmes(api, plans_across_jiangsu, superuser):
    client = api(superuser)

    assert groups(client.get(URL, {"year": 2023}))["320000"]["targets"] == 1
    assert groups(client.get(URL, {"year": 2024, "kind": "review"})) == {}


def test_without_a_year_the_summary_shows_the_dashboards_year(api, plans_across_jiangsu, superuser, logged_in):
    """Plans for 2023 and 2024, none yet for this year: both show 2024, the latest year with plans."""
    body = api(superuser).get(URL).json()

    assert body["year"] == 2024 == logged_in(superuser).get(reverse("admin:tracking_dashboard")).context["year"]
    assert groups_of(body)["320000"]["targets"] == 7


def test_without_a_year_the_summary_shows_this_years_plans_once_there_are_any(api, plans_across_jiangsu, superuser):
    make_target(make_plan("320612", year=timezone.localdate().year), number=1, code="1.1", name="今年的")

    body = api(superuser).get(URL).json()

    assert body["year"] == timezone.localdate().year
    assert groups_of(body)["320000"]["targets"] == 1


def test_without_a_year_as_of_picks_the_latest_year_up_to_its_own(api, plans_across_jiangsu, superuser):
    body = api(superuser).get(URL, {"as_of": "2023-12-31"}).json()

    assert (body["year"], groups_of(body)["320000"]["targets"]) == (2023, 1)


def test_without_a_year_and_without_plans_the_summary_is_this_years_and_empty(api, regions, superuser):
    body = api(superuser).get(URL).json()

    assert (body["year"], body["groups"]) == (timezone.localdate().year, [])


def test_users_count_only_what_they_see(api, plans_across_jiangsu, tongzhou_reporter):
    by_city = groups(api(tongzhou_reporter).get(URL, {"as_of": AS_OF, "region": "320000"}))

    assert {key: g["targets"] for key, g in by_city.items()} == {"320600": 4}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "district"}, "group_by"),
        ({"region": "999999"}, "region"),
        ({"year": "twenty"}, "year"),
        ({"as_of": "2024-02-30"}, "as_of"),
        ({"kind": "plan"}, "kind"),
    ],
)
def test_invalid_parameters_are_400(api, plans_across_jiangsu, superuser, params, field):
    response = api(superuser).get(URL, params)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_answers_304_until_an_approval(api, plans_across_jiangsu, superuser, nantong_reviewer, songqingliang):
    client = api(superuser)
    etag = client.get(URL, {"year": 2024})["ETag"]
    assert client.get(URL, {"year": 2024}, HTTP_IF_NONE_MATCH=etag).status_code == 304

    pending = report(songqingliang, D(2024, 7, 31), 6000, status=S.SUBMITTED)
    approve_report(user=nantong_reviewer, report=pending)

    assert client.get(URL, {"year": 2024}, HTTP_IF_NONE_MATCH=etag).status_code == 200


@pytest.mark.parametrize("count", [1, 200])
@pytest.mark.parametrize("group_by", ["region", "category", "programme"])
def test_one_aggregate_query_whatever_the_data(
    api, tongzhou_plan, jingkou_plan, superuser, count, group_by, django_assert_max_num_queries
):
    bulk_targets(tongzhou_plan, count)
    bulk_targets(jingkou_plan, count)
    client = api(superuser)

    # Token with membership, region check, then for region and programme the
    # programmes without a current tally (none) and the tallies' aggregate;
    # for category the targets' aggregate.
    with django_assert_max_num_queries(4):
        response = client.get(URL, {"year": 2024, "region": "320000", "group_by": group_by})
    assert sum(g["targets"] for g in groups(response).values()) == 2 * count
    assert sum(g["pending_reports"] for g in groups(response).values()) == 2 * count


@pytest.mark.parametrize("count", [1, 200])
def test_without_a_year_one_query_more_finds_it(
    api, tongzhou_plan, jingkou_plan, superuser, count, django_assert_max_num_queries
):
    bulk_targets(tongzhou_plan, count)
    bulk_targets(jingkou_plan, count)
    client = api(superuser)

    with django_assert_max_num_queries(5):
        response = client.get(URL, {"region": "320000"})
    assert response.json()["year"] == 2024
    assert sum(g["targets"] for g in groups(response).values()) == 2 * count


def test_after_the_year_every_unfinished_target_counts_as_overdue(api, plans_across_jiangsu, superuser):
    jiangsu = groups(api(superuser).get(URL, {"as_of": "2025-01-15", "year": 2024}))["320000"]

    assert {status: jiangsu[status] for status in ("not_started", "on_track", "behind", "overdue", "achieved", "reported")} == {
        "not_started": 0, "on_track": 0, "behind": 0, "overdue": 4, "achieved": 2, "reported": 1,
    }


def test_todays_summary_from_the_tallies_counts_overdue_targets(api, plans_across_jiangsu, superuser):
    """Without as_of, from the programme tallies: in 2026 every unfinished 2024 target is overdue."""
    jiangsu = groups(api(superuser).get(URL, {"year": 2024}))["320000"]

    assert (jiangsu["overdue"], jiangsu["achieved"], jiangsu["reported"], jiangsu["targets"]) == (4, 2, 1, 7)
