"""/api/v1/targets/ as a dashboard or a statistics clerk uses it."""

import csv
import datetime
import io

import pytest
from django.utils import timezone

from tracking.models import ProgressReport, Target
from tracking.services import approve_report

from .conftest import bulk_targets, make_plan, make_target, report

D = datetime.date
S = ProgressReport.Status
URL = "/api/v1/targets/"


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_a_target_as_the_client_sees_it(api, tongzhou_and_jingkou_targets, tongzhou_reporter):
    response = api(tongzhou_reporter).get(f"{URL}{tongzhou_and_jingkou_targets['songqingliang'].pk}/", {"as_of": "2024-07-01"})

    assert response.status_code == 200
    body = response.json()
    assert body.pop("updated_at")
    assert body.pop("expected") == pytest.approx(183 * 100 / 366)
    assert body == {
        "id": tongzhou_and_jingkou_targets["songqingliang"].pk,
        "programme": tongzhou_and_jingkou_targets["songqingliang"].programme_id,
        "region": "320612",
        "item_number": 4,
        "item_title": "送清凉",
        "category": "services",
        "code": "4.1",
        "name": "送清凉",
        "unit": "名",
        "measure": "count",
        "aggregation": "sum",
        "target_value": 12000,
        "due_date": "2024-12-31",
        "progress": 6000,
        "completion": 50.0,
        "status": "on_track",
        "last_reported_on": "2024-06-30",
        "pending_value": 0,
        "pending_count": 0,
    }


@pytest.mark.parametrize("params", [{}, {"as_of": "2024-07-01"}, {"format": "csv"}])
def test_a_list_row_is_exactly_the_targets_detail(api, tongzhou_and_jingkou_targets, tongzhou_reporter, params):
    # Lists serialize values() rows (RowsSerializer), a detail a model instance
    # through DRF's own fields: the two must agree to the last digit and key.
    report(tongzhou_and_jingkou_targets["songqingliang"], D(2024, 7, 31), 500, status=ProgressReport.Status.SUBMITTED)
    make_target(tongzhou_and_jingkou_targets["songqingliang"].programme, number=9, code="9.1", name="只填报", target_value=None)
    client = api(tongzhou_reporter)

    listed = client.get(URL, params)

    assert listed.status_code == 200
    if params.get("format") == "csv":
        rows = list(csv.DictReader(io.StringIO(listed.content.decode("utf-8-sig"))))
        singles = [client.get(f"{URL}{tongzhou_and_jingkou_targets[k].pk}/", {"format": "csv"}).content.decode("utf-8-sig") for k in ("songqingliang", "rate")]
        details = [next(csv.DictReader(io.StringIO(text))) for text in singles]
        assert [r for r in rows if r["指标名称"] in ("送清凉", "建会率")] == details
        return
    rows = listed.json()["results"]
    assert len(rows) == 3
    for row in rows:
        assert client.get(f"{URL}{row['id']}/", params).json() == row


def test_figures_are_json_numbers_not_strings(api, tongzhou_and_jingkou_targets, tongzhou_reporter):
    body = api(tongzhou_reporter).get(f"{URL}{tongzhou_and_jingkou_targets['songqingliang'].pk}/").content.decode()

    assert '"target_value":12000.0' in body
    assert '"progress":6000.0' in body


def test_as_of_evaluates_progress_at_a_past_date(api, tongzhou_and_jingkou_targets, tongzhou_reporter):
    client = api(tongzhou_reporter)
    url = f"{URL}{tongzhou_and_jingkou_targets['songqingliang'].pk}/"

    assert client.get(url, {"as_of": "2024-04-30"}).json()["progress"] == 4000
    assert client.get(url, {"as_of": "2024-01-31"}).json()["status"] == "not_started"
    assert client.get(url).json()["progress"] == 6000


def test_users_see_only_their_regions_targets(api, tongzhou_and_jingkou_targets, tongzhou_reporter, jingkou_reporter, nantong_reviewer):
    assert ids(api(tongzhou_reporter).get(URL)) == {tongzhou_and_jingkou_targets["songqingliang"].pk, tongzhou_and_jingkou_targets["rate"].pk}
    assert ids(api(nantong_reviewer).get(URL)) == {tongzhou_and_jingkou_targets["songqingliang"].pk, tongzhou_and_jingkou_targets["rate"].pk}
    assert ids(api(jingkou_reporter).get(URL)) == {tongzhou_and_jingkou_targets["jingkou"].pk}
    assert api(jingkou_reporter).get(f"{URL}{tongzhou_and_jingkou_targets['songqingliang'].pk}/").status_code == 404


def test_region_filter_includes_descendants(api, tongzhou_and_jingkou_targets, superuser):
    client = api(superuser)
    tongzhou = {tongzhou_and_jingkou_targets["songqingliang"].pk, tongzhou_and_jingkou_targets["rate"].pk}

    assert ids(client.get(URL, {"region": "320600"})) == tongzhou
    assert ids(client.get(URL, {"region": "320612"})) == tongzhou
    assert ids(client.get(URL, {"region": "320000"})) == tongzhou | {tongzhou_and_jingkou_targets["jingkou"].pk}
    assert ids(client.get(URL, {"region": "321100"})) == {tongzhou_and_jingkou_targets["jingkou"].pk}
    assert ids(client.get(URL, {"region": "320500"})) == set()


def test_a_region_outside_the_users_scope_narrows_nothing_open(api, tongzhou_and_jingkou_targets, tongzhou_reporter):
    assert ids(api(tongzhou_reporter).get(URL, {"region": "321102"})) == set()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"year": "2024"}, {"songqingliang", "rate"}),
        ({"year": "2023"}, set()),
        ({"category": "services"}, {"songqingliang", "rate"}),
        ({"category": "culture"}, set()),
        ({"measure": "percentage"}, {"rate"}),
        ({"status": "achieved", "as_of": "2024-07-01"}, {"rate"}),
        ({"status": "on_track", "as_of": "2024-07-01"}, {"songqingliang"}),
        ({"status": "not_started", "as_of": "2024-01-31"}, {"songqingliang", "rate"}),
        ({"completion_min": "60"}, {"rate"}),
        ({"completion_max": "50"}, {"songqingliang"}),
        ({"completion_min": "50", "completion_max": "50"}, {"songqingliang"}),
        ({"search": "清凉"}, {"songqingliang"}),
    ],
)
def test_each_filter(api, tongzhou_and_jingkou_targets, tongzhou_reporter, params, expected):
    assert ids(api(tongzhou_reporter).get(URL, params)) == {tongzhou_and_jingkou_targets[name].pk for name in expected}


def test_programme_and_item_filters(api, tongzhou_and_jingkou_targets, tongzhou_reporter, tongzhou_plan):
    other = make_target(make_plan("320612", year=2023), code="9.1", number=9, name="旧指标")
    client = api(tongzhou_reporter)

    assert ids(client.get(URL, {"programme": tongzhou_plan.pk})) == {tongzhou_and_jingkou_targets["songqingliang"].pk, tongzhou_and_jingkou_targets["rate"].pk}
    assert ids(client.get(URL, {"programme": other.programme_id})) == {other.pk}
    assert ids(client.get(URL, {"item": tongzhou_and_jingkou_targets["rate"].item_id})) == {tongzhou_and_jingkou_targets["rate"].pk}


def test_updated_since_returns_targets_whose_progress_changed(api, tongzhou_and_jingkou_targets, tongzhou_reporter):
    cutoff = timezone.now()
    report(tongzhou_and_jingkou_targets["rate"], D(2024, 9, 30), 97)

    response = api(tongzhou_reporter).get(URL, {"updated_since": cutoff.isoformat()})

    assert ids(response) == {tongzhou_and_jingkou_targets["rate"].pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year": "abc"}, "year"),
        ({"year": "2024.5"}, "year"),
        ({"region": "999999"}, "region"),
        ({"region": "abc"}, "region"),
        ({"programme": "x"}, "programme"),
        ({"category": "sports"}, "category"),
        ({"status": "done"}, "status"),
        ({"measure": "weight"}, "measure"),
        ({"completion_min": "half"}, "completion_min"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"as_of": "2024-13-01"}, "as_of"),
        ({"ordering": "code"}, "ordering"),
    ],
)
def test_invalid_filter_values_are_400_with_the_field(api, tongzhou_and_jingkou_targets, tongzhou_reporter, params, field):
    response = api(tongzhou_reporter).get(URL, params)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_error_messages_are_chinese_by_default_and_english_on_request(api, tongzhou_and_jingkou_targets, tongzhou_reporter):
    client = api(tongzhou_reporter)

    assert client.get(URL, {"year": "abc"}).json() == {"year": ["输入整数。"]}
    assert client.get(URL, {"year": "abc"}, HTTP_ACCEPT_LANGUAGE="en").json() == {"year": ["Enter a whole number."]}


def test_ordering_by_completion_puts_targets_without_completion_last(api, tongzhou_and_jingkou_targets, tongzhou_reporter, tongzhou_plan):
    blank = make_target(tongzhou_plan, number=7, code="7.1", name="新指标")
    client = api(tongzhou_reporter)

    ascending = [row["id"] for row in client.get(URL, {"ordering": "completion"}).json()["results"]]
    descending = [row["id"] for row in client.get(URL, {"ordering": "-completion"}).json()["results"]]

    assert ascending == [tongzhou_and_jingkou_targets["songqingliang"].pk, tongzhou_and_jingkou_targets["rate"].pk, blank.pk]
    assert descending == [tongzhou_and_jingkou_targets["rate"].pk, tongzhou_and_jingkou_targets["songqingliang"].pk, blank.pk]


def test_ordering_by_last_report_and_name(api, tongzhou_and_jingkou_targets, tongzhou_reporter):
    report(tongzhou_and_jingkou_targets["songqingliang"], D(2024, 8, 31), 100)
    client = api(tongzhou_reporter)

    by_report = [row["code"] for row in client.get(URL, {"ordering": "-last_reported_on"}).json()["results"]]
    by_name = [row["name"] for row in client.get(URL, {"ordering": "name"}).json()["results"]]

    assert by_report == ["4.1", "6.1"]
    assert by_name == sorted(by_name)


def test_page_size_is_capped_at_1000(api, tongzhou_and_jingkou_targets, tongzhou_reporter):
    response = api(tongzhou_reporter).get(URL, {"page_size": 5000})

    assert response.status_code == 200
    assert response.json()["count"] == 2


# --- history ------------------------------------------------------------------------


def test_history_of_a_sum_target_is_a_running_total(api, tongzhou_and_jingkou_targets, tongzhou_reporter):
    report(tongzhou_and_jingkou_targets["songqingliang"], D(2024, 5, 31), 500, status=S.SUBMITTED)  # not approved: left out

    response = api(tongzhou_reporter).get(f"{URL}{tongzhou_and_jingkou_targets['songqingliang'].pk}/history/")

    assert response.status_code == 200
    assert response.json() == [
        {"date": "2024-03-31", "value": 4000, "progress": 4000, "completion": pytest.approx(100 / 3)},
        {"date": "2024-06-30", "value": 2000, "progress": 6000, "completion": 50.0},
    ]


def test_history_of_a_latest_target_is_each_value(api, tongzhou_and_jingkou_targets, tongzhou_reporter):
    report(tongzhou_and_jingkou_targets["rate"], D(2024, 3, 31), 90)

    points = api(tongzhou_reporter).get(f"{URL}{tongzhou_and_jingkou_targets['rate'].pk}/history/").json()

    assert [(p["date"], p["progress"]) for p in points] == [("2024-03-31", 90), ("2024-06-30", 96)]


def test_history_agrees_with_with_progress_at_each_date(api, tongzhou_and_jingkou_targets, tongzhou_reporter):
    for target in (tongzhou_and_jingkou_targets["songqingliang"], tongzhou_and_jingkou_targets["rate"]):
        for point in api(tongzhou_reporter).get(f"{URL}{target.pk}/history/").json():
            as_of = D.fromisoformat(point["date"])
            figures = Target.objects.with_progress(as_of=as_of).get(pk=target.pk)
            assert point["progress"] == float(figures.progress)
            assert point["completion"] == pytest.approx(figures.completion)


def test_history_of_a_foreign_target_is_404(api, tongzhou_and_jingkou_targets, jingkou_reporter):
    assert api(jingkou_reporter).get(f"{URL}{tongzhou_and_jingkou_targets['songqingliang'].pk}/history/").status_code == 404
    assert api(jingkou_reporter).get(f"{URL}abc/history/").status_code == 404


# --- CSV ------------------------------------------------------------------------------


def test_csv_export_has_a_bom_chinese_headers_and_every_row(api, tongzhou_and_jingkou_targets, tongzhou_reporter):
    response = api(tongzhou_reporter).get(URL, {"format": "csv", "page_size": 1})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="target.csv"'
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = rows[0]
    assert {"指标名称", "目标值", "完成率", "状态", "地区代码"} <= set(header)
    by_code = {row[header.index("编号")]: row for row in rows[1:]}
    assert set(by_code) == {"4.1", "6.1"}  # both, although page_size=1
    assert by_code["4.1"][header.index("进度")] == "6000"
    assert by_code["4.1"][header.index("目标值")] == "12000"


def test_csv_choices_are_chinese_labels_and_json_keeps_the_codes(api, tongzhou_and_jingkou_targets, tongzhou_reporter):
    client = api(tongzhou_reporter)

    rows = list(csv.DictReader(io.StringIO(client.get(URL, {"format": "csv", "as_of": "2024-07-01"}).content.decode("utf-8-sig"))))
    by_code = {row["编号"]: row for row in rows}
    assert {key: by_code["6.1"][key] for key in ("类别", "计量方式", "汇总方式", "状态")} == {
        "类别": "服务帮扶", "计量方式": "比例", "汇总方式": "取最新（每次填报为累计值或比率）", "状态": "已完成",
    }
    assert by_code["4.1"]["状态"] == "进行中"
    json_rows = {row["code"]: row for row in client.get(URL, {"as_of": "2024-07-01"}).json()["results"]}
    assert (json_rows["6.1"]["category"], json_rows["6.1"]["status"], json_rows["4.1"]["status"]) == (
        "services", "achieved", "on_track",
    )


def test_csv_errors_are_still_json(api, tongzhou_and_jingkou_targets, tongzhou_reporter):
    response = api(tongzhou_reporter).get(URL, {"format": "csv", "year": "abc"})

    assert response.status_code == 400
    assert response.json() == {"year": ["输入整数。"]}


# --- conditional GET ----------------------------------------------------------------


def test_list_and_detail_answer_304_until_an_approval_changes_them(api, tongzhou_and_jingkou_targets, tongzhou_reporter, nantong_reviewer):
    client = api(tongzhou_reporter)
    detail = f"{URL}{tongzhou_and_jingkou_targets['songqingliang'].pk}/"
    first_list, first_detail = client.get(URL), client.get(detail)
    assert first_list.status_code == first_detail.status_code == 200

    again = client.get(URL, HTTP_IF_NONE_MATCH=first_list["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(detail, HTTP_IF_NONE_MATCH=first_detail["ETag"]).status_code == 304

    pending = report(tongzhou_and_jingkou_targets["songqingliang"], D(2024, 7, 31), 1000, status=S.SUBMITTED)
    approve_report(user=nantong_reviewer, report=pending)

    after_list = client.get(URL, HTTP_IF_NONE_MATCH=first_list["ETag"])
    after_detail = client.get(detail, HTTP_IF_NONE_MATCH=first_detail["ETag"])
    assert after_list.status_code == after_detail.status_code == 200
    assert after_list["ETag"] != first_list["ETag"]
    assert after_detail.json()["progress"] == 7000


def test_etag_depends_on_the_query_and_the_user(api, tongzhou_and_jingkou_targets, tongzhou_reporter, nantong_reviewer):
    etag = api(tongzhou_reporter).get(URL)["ETag"]

    assert api(tongzhou_reporter).get(URL, {"as_of": "2024-05-01"}, HTTP_IF_NONE_MATCH=etag).status_code == 200
    assert api(nantong_reviewer).get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_304_does_not_run_the_list_query(api, tongzhou_and_jingkou_targets, tongzhou_reporter, django_assert_max_num_queries):
    client = api(tongzhou_reporter)
    etag = client.get(URL)["ETag"]

    # Token with membership, the data version: no count, no page.
    with django_assert_max_num_queries(2):
        assert client.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 304


# --- query counts ---------------------------------------------------------------------


@pytest.fixture(params=[1, 200], ids=["1 row", "200 rows"])
def many_targets(request, tongzhou_plan):
    return bulk_targets(tongzhou_plan, request.param)


def test_list_runs_a_constant_number_of_queries(api, many_targets, tongzhou_reporter, django_assert_max_num_queries):
    client = api(tongzhou_reporter)

    # Token with membership, region check, ETag aggregate, count, page.
    with django_assert_max_num_queries(5):
        response = client.get(URL, {"page_size": 1000, "region": "320600", "as_of": "2024-12-31"})
    assert response.json()["count"] == len(many_targets)
    with django_assert_max_num_queries(4):
        assert client.get(URL, {"format": "csv"}).status_code == 200


def test_detail_and_history_run_a_constant_number_of_queries(
    api, many_targets, tongzhou_reporter, django_assert_max_num_queries
):
    client = api(tongzhou_reporter)
    target = many_targets[-1]

    with django_assert_max_num_queries(3):
        assert client.get(f"{URL}{target.pk}/").status_code == 200
    with django_assert_max_num_queries(4):
        assert len(client.get(f"{URL}{target.pk}/history/").json()) == 1
