"""公示: the public pages under /gongshi/ and the public API under /api/v1/public/, as an anonymous client."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tracking.models import ProgressReport
from tracking.services import approve_report

from .conftest import bulk_targets, make_plan, make_target, make_user, report

D = datetime.date
S = ProgressReport.Status
PAGES = ["/gongshi/", "/gongshi/320000/", "/gongshi/320600/", "/gongshi/320612/", "/gongshi/321102/"]
ANSWERS = ["/api/v1/public/regions/", "/api/v1/public/regions/320000/", "/api/v1/public/regions/320600/",
           "/api/v1/public/regions/320612/", "/api/v1/public/regions/321102/"]
MARKERS = ("MARKER-DRAFT-NOTE", "MARKER-REVIEW-NOTE", "marker_clerk", "marker-evidence", "77777", "77,777")


@pytest.fixture
def published(settings):
    settings.TRACKING_PUBLIC_READ = True
    settings.TRACKING_PUBLIC_MAX_AGE = 120


@pytest.fixture(autouse=True)
def no_kept_bodies():
    """Bodies are kept per ETag, whose data version starts again with every test's rolled-back database."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def secrets_in_every_corner(plans_across_jiangsu, songqingliang, jingkou_target, media_root):
    """A draft whose note, a returned report whose review note, and a clerk whose username carry markers;
    a pending value of 77777; an approved report with evidence whose file name is a marker."""
    clerk = make_user("marker_clerk", "320612", "reporter")
    report(songqingliang, D(2024, 7, 31), 1, status=S.DRAFT, note="MARKER-DRAFT-NOTE", created_by=clerk)
    report(songqingliang, D(2024, 8, 31), 2, status=S.RETURNED, review_note="MARKER-REVIEW-NOTE", created_by=clerk)
    report(songqingliang, D(2024, 9, 30), 77777, status=S.SUBMITTED, created_by=clerk)
    evidence = SimpleUploadedFile("marker-evidence.png", b"\x89PNG", content_type="image/png")
    report(jingkou_target, D(2024, 9, 30), 10, status=S.APPROVED, created_by=clerk, reviewed_by=clerk,
           evidence=evidence, note="MARKER-DRAFT-NOTE")


def test_no_draft_pending_value_note_username_or_evidence_reaches_any_public_page_or_answer(
    client, api, published, secrets_in_every_corner
):
    for url in PAGES + ANSWERS:
        response = client.get(url) if url in PAGES else api().get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert [marker for marker in MARKERS if marker in body] == [], url


def test_a_districts_page_shows_its_targets_approved_progress_status_and_chart(client, published, plans_across_jiangsu):
    page = client.get("/gongshi/320612/").content.decode()

    assert "通州区总工会" in page and "2024年为职工办实事项目进展公示" in page
    assert "完成 6,000 / 12,000 名" in page
    # Today is long after 2024: a target short of 100 % is overdue.
    assert '<span class="st overdue">逾期</span>' in page
    assert page.count('<svg class="tt-chart"') == 4
    assert "数据截至 2024-06-30" in page


def test_a_citys_page_lists_its_districts_with_their_figures(client, published, plans_across_jiangsu):
    page = client.get("/gongshi/320600/").content.decode()

    assert '<a class="name" href="/gongshi/320612/">通州区</a>' in page
    assert "4 项指标" in page
    # Its own programme's target, and a link up to the province.
    assert "1.1 市级指标" in page and 'href="/gongshi/320000/">江苏省</a>' in page


def test_the_public_answer_has_the_pages_content(api, published, plans_across_jiangsu, songqingliang):
    body = api().get("/api/v1/public/regions/320612/").json()

    assert body["region"] == {"code": "320612", "name": "通州区", "union_name": "通州区总工会"}
    assert body["parent"]["code"] == "320600"
    assert (body["year"], body["last_reported_on"]) == (2024, "2024-06-30")
    target = body["programmes"][0]["items"][0]["targets"][0]
    assert (target["code"], target["progress"], target["completion"], target["status"]) == ("4.1", 6000, 50.0, "overdue")
    assert target["series"] == [{"period_end": "2024-06-30", "progress": 6000, "completion": 50.0}]
    assert set(target) == {
        "code", "name", "unit", "target_value", "measure", "aggregation", "due_date", "progress", "completion",
        "expected", "status", "last_reported_on", "series", "evidence",
    }


def test_a_sum_targets_series_is_its_running_total(api, published, tongzhou_and_jingkou_targets):
    targets = api().get("/api/v1/public/regions/320612/").json()["programmes"][0]["items"]
    series = {t["code"]: t["series"] for item in targets for t in item["targets"]}

    assert [p["progress"] for p in series["4.1"]] == [4000, 6000]
    assert [p["progress"] for p in series["6.1"]] == [96]


def test_the_city_figures_are_the_summarys(api, published, plans_across_jiangsu, superuser):
    children = {c["code"]: c for c in api().get("/api/v1/public/regions/320600/").json()["children"]}
    summary = {g["key"]: g for g in api(superuser).get("/api/v1/summary/", {"region": "320600", "year": 2024}).json()["groups"]}

    tongzhou = summary["320612"]
    assert children["320612"] == {
        "code": "320612", "name": "通州区",
        **{k: tongzhou[k] for k in ("targets", "not_started", "on_track", "behind", "overdue", "achieved",
                                    "reported", "mean_completion")},
    }


@pytest.mark.parametrize("url", ["/gongshi/320612/", "/api/v1/public/regions/320612/"])
def test_answers_are_public_with_a_max_age_and_revalidate_to_304(client, published, plans_across_jiangsu, url):
    first = client.get(url)

    assert "public" in first["Cache-Control"] and "max-age=120" in first["Cache-Control"]
    assert "Set-Cookie" not in first.headers and "Cookie" not in first.get("Vary", "")
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again["ETag"] == first["ETag"]
    assert "max-age=120" in again["Cache-Control"]


def test_an_approval_changes_the_etag_and_the_page(client, published, plans_across_jiangsu, songqingliang, nantong_reviewer):
    first = client.get("/gongshi/320612/")
    pending = report(songqingliang, D(2024, 9, 30), 3000, status=S.SUBMITTED)
    # A pending value moves the data version too, but the page shows the same figures.
    assert "9,000" not in client.get("/gongshi/320612/").content.decode()

    approve_report(user=nantong_reviewer, report=pending)

    again = client.get("/gongshi/320612/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again["ETag"] != first["ETag"]
    assert "完成 9,000 / 12,000 名" in again.content.decode()


def test_a_tokens_user_gets_the_same_public_answer(api, published, plans_across_jiangsu, tongzhou_reporter):
    anonymous = api().get("/api/v1/public/regions/320000/")
    logged_in = api(tongzhou_reporter).get("/api/v1/public/regions/320000/")

    assert logged_in.content == anonymous.content and logged_in["ETag"] == anonymous["ETag"]


@pytest.mark.parametrize("url", PAGES + ANSWERS)
def test_nothing_is_published_unless_the_tracker_publishes(client, plans_across_jiangsu, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", ["/gongshi/999999/", "/api/v1/public/regions/999999/", "/gongshi/abc/"])
def test_an_unknown_region_is_not_found(client, published, regions, url):
    assert client.get(url).status_code == 404


def test_writes_are_not_allowed(client, published, regions):
    assert client.post("/gongshi/320612/").status_code == 405
    assert client.post("/api/v1/public/regions/320612/").status_code == 405


@pytest.mark.parametrize("url", ["/api/v1/public/regions/", "/api/v1/public/regions/320612/"])
def test_a_method_the_public_api_lacks_is_a_405_even_while_nothing_is_published(client, regions, url):
    # The schema lists GET only; any other method is 405 first, as on every other endpoint.
    assert client.generic("TRACE", url).status_code == 405
    assert client.put(url).status_code == 405
    assert client.get(url).status_code == 404


def test_a_page_stays_under_50_kb_with_forty_targets_and_their_charts(client, published, regions):
    bulk_targets(make_plan("320612"), 40)

    page = client.get("/gongshi/320612/").content

    assert page.count(b'<svg class="tt-chart"') == 40
    assert len(page) < 50 * 1024, len(page)
    # No stylesheet or script to fetch: the page is the whole download.
    assert not re.search(rb"<script|<link[^>]+stylesheet", page)


@pytest.mark.parametrize("count", [5, 60])
def test_a_page_takes_the_same_queries_however_many_targets(client, published, regions, count, django_assert_max_num_queries):
    bulk_targets(make_plan("320612"), count)
    make_target(make_plan("320600"), number=1, code="1.1", name="市级指标", target_value="10")

    # Data version, region, year, programmes, items, targets, series, published evidence, children,
    # summary (2), last report.
    for url in ("/gongshi/320612/", "/gongshi/320600/", "/gongshi/320000/"):
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200
        # Revalidation reads the data version only.
        etag = client.get(url)["ETag"]
        with django_assert_max_num_queries(1):
            assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_page_follows_the_language_asked_for_with_its_own_etag(client, published, plans_across_jiangsu):
    chinese = client.get("/gongshi/320612/")
    english = client.get("/gongshi/320612/", HTTP_ACCEPT_LANGUAGE="en")

    assert "进展公示" in chinese.content.decode()
    assert "Progress of the 2024 projects for workers" in english.content.decode()
    assert english["ETag"] != chinese["ETag"] and "Accept-Language" in english["Vary"]


@pytest.mark.parametrize(("value", "message"), [("-5", "must be 0 or more"), ("a minute", "must be an integer")])
def test_a_max_age_that_makes_no_sense_stops_the_start_with_its_name(value, message):
    from .test_deploy import manage

    result = manage("check", env={"TRACKING_PUBLIC_MAX_AGE": value})

    assert result.returncode != 0
    assert f"TRACKING_PUBLIC_MAX_AGE {message}" in result.stderr
