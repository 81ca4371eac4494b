"""/api/v1/progress-reports/: entering, reviewing and listing reports over the API.

Every write endpoint is tried by every role from inside and outside the
region; a refused write must leave the database as it was.
"""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tracking.models import ProgressReport, Target

from .conftest import bulk_targets, make_target, report

D = datetime.date
S = ProgressReport.Status
URL = "/api/v1/progress-reports/"

ROLES = ["tongzhou_reporter", "tongzhou_manager", "nantong_reviewer", "jingkou_reporter", "zhenjiang_reviewer", "superuser"]


@pytest.fixture
def people(tongzhou_reporter, tongzhou_manager, nantong_reviewer, jingkou_reporter, zhenjiang_reviewer, superuser):
    return {user.username if user.username != "root" else "superuser": user for user in locals().values()}


def client_as(api, people, who):
    return api(None if who == "anonymous" else people[who])


def state(songqingliang):
    """Everything a refused write must leave alone."""
    rows = ProgressReport.objects.order_by("pk").values_list("pk", "value", "status", "note", "review_note")
    target = Target.objects.get(pk=songqingliang.pk)
    return list(rows), target.cached_progress, target.cached_pending_count


# --- create ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("tongzhou_reporter", 201),
        ("tongzhou_manager", 201),
        ("nantong_reviewer", 403),
        # A target out of one's scope is one that does not exist (issue 14: the
        # field offers, and accepts, visible targets only).
        ("jingkou_reporter", 400),
        ("zhenjiang_reviewer", 400),
        ("superuser", 201),
        ("anonymous", 401),
    ],
)
def test_who_may_create_a_report_for_a_tongzhou_target(api, people, songqingliang, who, expected):
    before = state(songqingliang)

    response = client_as(api, people, who).post(
        URL, {"target": songqingliang.pk, "period_end": "2024-06-30", "value": "6000.5"}
    )

    assert response.status_code == expected, response.content
    if expected == 201:
        report = ProgressReport.objects.get()
        assert (report.value, report.status, report.created_by) == (Decimal("6000.5"), S.DRAFT, people[who])
        assert response.json()["created_by"] == people[who].username
    else:
        assert state(songqingliang) == before


def test_created_report_as_the_client_sees_it(api, songqingliang, tongzhou_reporter):
    response = api(tongzhou_reporter).post(
        URL,
        {"target": songqingliang.pk, "period_end": "2024-06-30", "value": 6000, "qualifier": "at_least", "note": "上半年"},
    )

    body = response.json()
    report = ProgressReport.objects.get()
    assert body.pop("created_at") and body.pop("updated_at")
    assert body == {
        "id": report.pk,
        "target": songqingliang.pk,
        # The target's natural key, as the import reads it.
        "region": "320612",
        "year": 2024,
        "kind": "annual_plan",
        "item_number": 4,
        "target_code": "4.1",
        "period_end": "2024-06-30",
        "value": 6000,
        "qualifier": "at_least",
        "note": "上半年",
        "source_quote": "",
        "status": "draft",
        "created_by": "tongzhou_reporter",
        "reviewed_by": None,
        "reviewed_at": None,
        "review_note": "",
        # What the workflow lets the client do next (tracking.workflow).
        "steps": ["submit"],
    }


def test_status_and_creator_sent_by_the_client_are_ignored(api, songqingliang, tongzhou_reporter, nantong_reviewer):
    api(tongzhou_reporter).post(
        URL,
        {
            "target": songqingliang.pk, "period_end": "2024-06-30", "value": 1,
            "status": "approved", "created_by": nantong_reviewer.pk, "reviewed_by": nantong_reviewer.pk,
        },
    )

    report = ProgressReport.objects.get()
    assert (report.status, report.created_by, report.reviewed_by) == (S.DRAFT, tongzhou_reporter, None)
    assert Target.objects.get(pk=songqingliang.pk).cached_progress is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"target": None, "period_end": "2024-06-30", "value": 1}, "target"),
        ({"target": 999999, "period_end": "2024-06-30", "value": 1}, "target"),
        ({"period_end": "2024-06-31", "value": 1}, "period_end"),
        ({"period_end": "2025-01-01", "value": 1}, "period_end"),
        ({"period_end": "2024-06-30", "value": -1}, "value"),
        ({"period_end": "2024-06-30", "value": "lots"}, "value"),
        ({"period_end": "2024-06-30", "value": 1, "qualifier": "maybe"}, "qualifier"),
    ],
)
def test_invalid_reports_are_400_per_field(api, songqingliang, tongzhou_reporter, data, field):
    response = api(tongzhou_reporter).post(URL, {"target": songqingliang.pk, **data})

    assert response.status_code == 400
    assert field in response.json()
    assert ProgressReport.objects.count() == 0


def test_second_report_for_the_same_date_is_400(api, songqingliang, tongzhou_reporter):
    report(songqingliang, D(2024, 6, 30), 5, status=S.DRAFT)

    response = api(tongzhou_reporter).post(URL, {"target": songqingliang.pk, "period_end": "2024-06-30", "value": 1})

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


def test_domain_errors_follow_the_requested_language(api, songqingliang, tongzhou_reporter):
    client = api(tongzhou_reporter)

    chinese = client.post(URL, {"period_end": "2024-06-30", "value": 1})
    english = client.post(URL, {"period_end": "2024-06-30", "value": 1}, HTTP_ACCEPT_LANGUAGE="en")

    assert chinese.json() == {"target": ["该字段是必填项。"]}
    assert english.json() == {"target": ["This field is required."]}


# --- edit and delete --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("tongzhou_reporter", 200),
        ("tongzhou_manager", 200),
        ("nantong_reviewer", 403),
        ("jingkou_reporter", 404),
        ("zhenjiang_reviewer", 404),
        ("superuser", 200),
        ("anonymous", 401),
    ],
)
def test_who_may_edit_a_draft(api, people, songqingliang, who, expected):
    draft = report(songqingliang, D(2024, 6, 30), 5, status=S.DRAFT)
    before = state(songqingliang)

    response = client_as(api, people, who).patch(f"{URL}{draft.pk}/", {"value": 7, "note": "更正"})

    assert response.status_code == expected, response.content
    if expected == 200:
        draft.refresh_from_db()
        assert (draft.value, draft.note, draft.status) == (Decimal("7"), "更正", S.DRAFT)
        assert response.json()["value"] == 7
    else:
        assert state(songqingliang) == before


def test_put_replaces_the_editable_fields(api, songqingliang, tongzhou_reporter):
    returned = report(songqingliang, D(2024, 6, 30), 5, status=S.RETURNED, note="旧")

    response = api(tongzhou_reporter).put(
        f"{URL}{returned.pk}/", {"target": songqingliang.pk, "period_end": "2024-07-31", "value": 9}
    )

    assert response.status_code == 200, response.content
    returned.refresh_from_db()
    assert (returned.period_end, returned.value, returned.qualifier) == (D(2024, 7, 31), Decimal("9"), "exact")


def test_a_reports_target_cannot_be_moved(api, songqingliang, jingkou_target, tongzhou_reporter, tongzhou_plan):
    other = make_target(tongzhou_plan, number=5, code="5.1", name="其他")
    draft = report(songqingliang, D(2024, 6, 30), 5, status=S.DRAFT)

    for target in (other, jingkou_target):
        api(tongzhou_reporter).patch(f"{URL}{draft.pk}/", {"target": target.pk})

    draft.refresh_from_db()
    assert draft.target == songqingliang


@pytest.mark.parametrize("status", [S.SUBMITTED, S.APPROVED])
def test_submitted_and_approved_reports_cannot_be_edited_or_deleted(api, songqingliang, tongzhou_reporter, status):
    locked = report(songqingliang, D(2024, 6, 30), 5, status=status)
    before = state(songqingliang)
    client = api(tongzhou_reporter)

    assert client.patch(f"{URL}{locked.pk}/", {"value": 1}).status_code == 409
    response = client.delete(f"{URL}{locked.pk}/")

    assert response.status_code == 409
    assert response.json() == {"detail": "只有草稿或已退回的填报可以删除"}
    assert state(songqingliang) == before


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("tongzhou_reporter", 204),
        ("tongzhou_manager", 204),
        ("nantong_reviewer", 403),
        ("jingkou_reporter", 404),
        ("zhenjiang_reviewer", 404),
        ("superuser", 204),
        ("anonymous", 401),
    ],
)
def test_who_may_delete_a_draft(api, people, songqingliang, who, expected):
    draft = report(songqingliang, D(2024, 6, 30), 5, status=S.DRAFT)
    before = state(songqingliang)

    response = client_as(api, people, who).delete(f"{URL}{draft.pk}/")

    assert response.status_code == expected
    assert ProgressReport.objects.filter(pk=draft.pk).exists() == (expected != 204)
    if expected != 204:
        assert state(songqingliang) == before


# --- workflow actions -------------------------------------------------------------------

ACTION_CASES = {
    # action: (status it starts from, body, the roles that may, the status it ends in)
    "submit": (S.DRAFT, {}, {"tongzhou_reporter", "tongzhou_manager", "superuser"}, S.SUBMITTED),
    "approve": (S.SUBMITTED, {"review_note": "同意"}, {"nantong_reviewer", "superuser"}, S.APPROVED),
    "return": (S.SUBMITTED, {"review_note": "请补充佐证"}, {"nantong_reviewer", "superuser"}, S.RETURNED),
}
OUT_OF_REGION = {"jingkou_reporter", "zhenjiang_reviewer"}


@pytest.mark.parametrize("who", [*ROLES, "anonymous"])
@pytest.mark.parametrize("step", list(ACTION_CASES))
def test_who_may_take_each_workflow_step(api, people, songqingliang, step, who):
    start, body, allowed, end = ACTION_CASES[step]
    subject = report(songqingliang, D(2024, 6, 30), 6000, status=start)
    before = state(songqingliang)

    response = client_as(api, people, who).post(f"{URL}{subject.pk}/{step}/", body)

    if who == "anonymous":
        expected = 401
    elif who in allowed:
        expected = 200
    elif who in OUT_OF_REGION:
        expected = 404
    else:
        expected = 403
    assert response.status_code == expected, response.content
    subject.refresh_from_db()
    if expected == 200:
        assert subject.status == end
        assert response.json()["status"] == end
    else:
        assert state(songqingliang) == before


def test_approval_counts_as_progress_and_records_the_reviewer(api, songqingliang, nantong_reviewer):
    submitted = report(songqingliang, D(2024, 6, 30), 6000, status=S.SUBMITTED)

    body = api(nantong_reviewer).post(f"{URL}{submitted.pk}/approve/", {"review_note": "同意"}).json()

    assert (body["status"], body["reviewed_by"], body["review_note"]) == ("approved", "nantong_reviewer", "同意")
    assert Target.objects.with_progress().get(pk=songqingliang.pk).progress == Decimal("6000")


def test_a_reporter_calling_approve_is_403(api, songqingliang, tongzhou_reporter):
    submitted = report(songqingliang, D(2024, 6, 30), 6000, status=S.SUBMITTED)

    response = api(tongzhou_reporter).post(f"{URL}{submitted.pk}/approve/")

    assert response.status_code == 403
    assert response.json() == {"detail": "只有审核员可以审核通过"}
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED


def test_returning_needs_a_review_note(api, songqingliang, nantong_reviewer):
    submitted = report(songqingliang, D(2024, 6, 30), 6000, status=S.SUBMITTED)

    response = api(nantong_reviewer).post(f"{URL}{submitted.pk}/return/", {"review_note": "  "})

    assert response.status_code == 400
    assert response.json() == {"review_note": ["退回时必须填写审核意见"]}
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED


@pytest.mark.parametrize(("start", "step"), [(S.DRAFT, "approve"), (S.APPROVED, "approve"), (S.DRAFT, "return")])
def test_steps_out_of_order_are_409(api, songqingliang, nantong_reviewer, start, step):
    subject = report(songqingliang, D(2024, 6, 30), 6000, status=start)

    response = api(nantong_reviewer).post(f"{URL}{subject.pk}/{step}/", {"review_note": "x"})

    assert response.status_code == 409
    subject.refresh_from_db()
    assert subject.status == start


def test_reopening_an_approved_report_takes_it_out_of_progress(api, songqingliang, nantong_reviewer):
    approved = report(songqingliang, D(2024, 6, 30), 6000)

    response = api(nantong_reviewer).post(f"{URL}{approved.pk}/return/", {"review_note": "数据有误"})

    assert response.status_code == 200
    assert Target.objects.with_progress().get(pk=songqingliang.pk).progress is None


# --- listing ------------------------------------------------------------------------------


@pytest.fixture
def reports(songqingliang, jingkou_target):
    return {
        "march": report(songqingliang, D(2024, 3, 31), 4000),
        "june": report(songqingliang, D(2024, 6, 30), 2000, status=S.SUBMITTED),
        "july": report(songqingliang, D(2024, 7, 31), 100, status=S.DRAFT, note="=HYPERLINK(1)"),
        "jingkou": report(jingkou_target, D(2024, 5, 31), 50),
    }


def listed(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_list_is_newest_first_and_scoped(api, reports, tongzhou_reporter, zhenjiang_reviewer):
    tongzhou = [reports[k].pk for k in ("july", "june", "march")]

    assert listed(api(tongzhou_reporter).get(URL)) == tongzhou
    assert listed(api(zhenjiang_reviewer).get(URL)) == [reports["jingkou"].pk]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "submitted"}, ["june"]),
        ({"region": "320600"}, ["july", "june", "march"]),
        ({"region": "321102"}, ["jingkou"]),
        ({"period_end_after": "2024-05-31"}, ["july", "june", "jingkou"]),
        ({"period_end_before": "2024-05-31"}, ["jingkou", "march"]),
        ({"period_end_after": "2024-04-01", "period_end_before": "2024-06-30"}, ["june", "jingkou"]),
    ],
)
def test_each_filter(api, reports, superuser, params, expected):
    assert listed(api(superuser).get(URL, params)) == sorted((reports[k].pk for k in expected), reverse=True)


def test_target_filter(api, reports, superuser, jingkou_target):
    assert listed(api(superuser).get(URL, {"target": jingkou_target.pk})) == [reports["jingkou"].pk]


@pytest.mark.parametrize(
    "params",
    [{"status": "done"}, {"region": "12"}, {"target": "x"}, {"period_end_after": "2024-02-30"}, {"cursor": "garbage"}],
)
def test_invalid_filters_are_rejected(api, reports, superuser, params):
    assert api(superuser).get(URL, params).status_code in (400, 404 if "cursor" in params else 400)


def test_cursor_pages_walk_every_report_once(api, reports, superuser):
    client = api(superuser)
    seen, url = [], f"{URL}?page_size=1"
    while url:
        body = client.get(url).json()
        assert "count" not in body  # cursor pagination never counts the table
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert seen == sorted((r.pk for r in reports.values()), reverse=True)


def test_csv_export_is_excel_safe(api, reports, tongzhou_reporter):
    response = api(tongzhou_reporter).get(URL, {"format": "csv"})

    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["截至日期"] for row in rows] == ["2024-07-31", "2024-06-30", "2024-03-31"]
    assert rows[0]["备注"] == "'=HYPERLINK(1)"
    assert rows[0]["数值"] == "100"
    assert rows[0]["状态"] == "草稿"


def test_csv_carries_labels_and_the_targets_natural_key_while_json_keeps_codes(api, reports, tongzhou_reporter):
    client = api(tongzhou_reporter)

    rows = list(csv.DictReader(io.StringIO(client.get(URL, {"format": "csv"}).content.decode("utf-8-sig"))))
    [june] = [row for row in rows if row["截至日期"] == "2024-06-30"]
    assert {key: june[key] for key in ("地区代码", "年度", "计划类型", "事项序号", "指标编号", "限定", "状态")} == {
        "地区代码": "320612", "年度": "2024", "计划类型": "年度计划", "事项序号": "4", "指标编号": "4.1",
        "限定": "精确", "状态": "待审核",
    }
    [june_json] = [row for row in client.get(URL).json()["results"] if row["period_end"] == "2024-06-30"]
    assert {key: june_json[key] for key in ("year", "kind", "item_number", "target_code", "qualifier", "status")} == {
        "year": 2024, "kind": "annual_plan", "item_number": 4, "target_code": "4.1", "qualifier": "exact",
        "status": "submitted",
    }


def test_a_downloaded_csv_imports_back_unchanged(api, reports_in_every_state, tongzhou_reporter):
    client = api(tongzhou_reporter)
    ProgressReport.objects.filter(pk=reports_in_every_state["reports"]["approved"].pk).update(qualifier="at_least")
    before = list(ProgressReport.objects.order_by("pk").values())
    downloaded = client.get(URL, {"format": "csv"}).content

    response = client.post(
        f"{URL}import/", {"file": SimpleUploadedFile("reports.csv", downloaded, content_type="text/csv")},
        format="multipart",
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {"dry_run": False, "created": 0, "updated": 0, "unchanged": 4, "errors": []}
    assert list(ProgressReport.objects.order_by("pk").values()) == before


def test_list_etag_changes_when_a_report_is_submitted(api, reports, tongzhou_reporter):
    client = api(tongzhou_reporter)
    etag = client.get(URL)["ETag"]
    assert client.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 304

    assert client.post(f"{URL}{reports['july'].pk}/submit/").status_code == 200

    assert client.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_detail_etag(api, reports, tongzhou_reporter, nantong_reviewer):
    client = api(tongzhou_reporter)
    url = f"{URL}{reports['june'].pk}/"
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    api(nantong_reviewer).post(f"{url}approve/")

    assert client.get(url, HTTP_IF_NONE_MATCH=etag).json()["status"] == "approved"


@pytest.fixture(params=[1, 200], ids=["1 row", "200 rows"])
def many_reports(request, tongzhou_plan):
    bulk_targets(tongzhou_plan, request.param)
    return ProgressReport.objects.count()


def test_list_and_detail_run_a_constant_number_of_queries(
    api, many_reports, tongzhou_reporter, django_assert_max_num_queries
):
    client = api(tongzhou_reporter)

    # Token with membership, region check, page.
    with django_assert_max_num_queries(3):
        body = client.get(URL, {"page_size": 1000, "region": "320612"}).json()
    assert len(body["results"]) == many_reports
    # Token with membership, ETag aggregate, export.
    with django_assert_max_num_queries(3):
        assert client.get(URL, {"format": "csv"}).status_code == 200
    last = ProgressReport.objects.order_by("pk").last()
    # Token with membership, ETag aggregate, row.
    with django_assert_max_num_queries(3):
        assert client.get(f"{URL}{last.pk}/").status_code == 200
