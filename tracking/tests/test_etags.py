"""Issue 14, defects 9 and 10: If-Match takes the ETag of any GET of the report; If-None-Match: * only for what exists."""

import pytest

from tracking.models import ProgressReport

from .conftest import D, report

S = ProgressReport.Status
MISSING = 10**9


@pytest.mark.parametrize("query", ["", "?format=json", "?format=json&x=1"])
def test_an_etag_read_with_any_query_string_passes_if_match(api, songqingliang, tongzhou_reporter, query):
    draft = report(songqingliang, D(2024, 6, 30), 10, status=S.DRAFT)
    client = api(tongzhou_reporter)
    etag = client.get(f"/api/v1/progress-reports/{draft.pk}/{query}")["ETag"]

    response = client.post(f"/api/v1/progress-reports/{draft.pk}/submit/", {}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert draft.status == S.SUBMITTED


def test_a_stale_etag_still_fails_if_match(api, songqingliang, tongzhou_reporter):
    draft = report(songqingliang, D(2024, 6, 30), 10, status=S.DRAFT)
    client = api(tongzhou_reporter)
    etag = client.get(f"/api/v1/progress-reports/{draft.pk}/?format=json")["ETag"]
    client.patch(f"/api/v1/progress-reports/{draft.pk}/", {"value": "11"}, format="json")

    response = client.post(f"/api/v1/progress-reports/{draft.pk}/submit/", {}, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 412
    draft.refresh_from_db()
    assert draft.status == S.DRAFT


def paths(world):
    jingkou = world["jingkou"]
    return {
        "a missing target": f"/api/v1/targets/{MISSING}/",
        "another district's target": f"/api/v1/targets/{jingkou['target'].pk}/",
        "a missing target's history": f"/api/v1/targets/{MISSING}/history/",
        "another district's target's history": f"/api/v1/targets/{jingkou['target'].pk}/history/",
        "a missing programme": f"/api/v1/programmes/{MISSING}/",
        "another district's programme": f"/api/v1/programmes/{jingkou['programme'].pk}/",
        "a missing report": f"/api/v1/progress-reports/{MISSING}/",
        "another district's report": f"/api/v1/progress-reports/{jingkou['progressreport'].pk}/",
        "a malformed id": "/api/v1/targets/abc/",
        "a missing region": "/api/v1/regions/999999/",
    }


OUT_OF_REACH = [
    "a missing target", "another district's target", "a missing target's history", "another district's target's history",
    "a missing programme", "another district's programme", "a missing report", "another district's report",
    "a malformed id", "a missing region",
]


@pytest.mark.parametrize("name", OUT_OF_REACH)
def test_if_none_match_star_on_what_the_user_cannot_see_is_answered_as_without_it(
    api, a_draft_in_each_district, tongzhou_reporter, name
):
    client = api(tongzhou_reporter)
    path = paths(a_draft_in_each_district)[name]

    with_star = client.get(path, HTTP_IF_NONE_MATCH="*")
    without = client.get(path)

    assert (with_star.status_code, without.status_code) == (404, 404)
    assert with_star.json() == without.json()
    assert ProgressReport.objects.count() == 2


@pytest.mark.parametrize("kind", ["target", "programme", "progressreport"])
def test_if_none_match_star_on_an_own_object_is_still_a_304(api, a_draft_in_each_district, tongzhou_reporter, kind):
    obj = a_draft_in_each_district["tongzhou"][kind]
    resource = {"target": "targets", "programme": "programmes", "progressreport": "progress-reports"}[kind]

    response = api(tongzhou_reporter).get(f"/api/v1/{resource}/{obj.pk}/", HTTP_IF_NONE_MATCH="*")

    assert response.status_code == 304


# --- The ETag epoch: a restore sets the data version back --------------------------------


def set_data_version(version):
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval('tracking_data_version_seq', %s)", [version])
        else:
            cursor.execute("UPDATE tracking_data_version SET version = %s", [version])


def test_an_etag_from_before_a_restore_does_not_match_when_its_version_comes_round_again(
    api, songqingliang, tongzhou_reporter
):
    from django.core.management import call_command

    from tracking.db import data_version
    from tracking.models import Target

    client = api(tongzhou_reporter)
    url = f"/api/v1/targets/{songqingliang.pk}/"
    etag = client.get(url)["ETag"]
    version = data_version()
    Target.objects.filter(pk=songqingliang.pk).update(name="送温暖")
    # The restore: the data version goes back, and the procedure starts a new epoch.
    set_data_version(version)
    call_command("new_etag_epoch", verbosity=0)

    response = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["name"] == "送温暖"
    assert response["ETag"] != etag


def test_without_a_change_the_etag_still_answers_304(api, songqingliang, tongzhou_reporter):
    client = api(tongzhou_reporter)
    url = f"/api/v1/targets/{songqingliang.pk}/"

    assert client.get(url, HTTP_IF_NONE_MATCH=client.get(url)["ETag"]).status_code == 304
