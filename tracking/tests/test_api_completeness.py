"""/api/v1/completeness/: the same figures as the grid, for a region or a programme, as JSON, CSV or xlsx."""

import io

from openpyxl import load_workbook

from tracking.models import Programme

from .test_followup_completeness import nantong_2024  # noqa: F401  (fixture: the hand-computed grid)

URL = "/api/v1/completeness/"


def test_a_city_reviewer_gets_the_hand_computed_figures(api, nantong_2024, nantong_reviewer):  # noqa: F811
    response = api(nantong_reviewer).get(URL, {"region": "320600", "year": 2024, "as_of": "2024-04-20"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert [(r["region"], r["own"], r["expected"], r["reported"], r["on_time"]) for r in data["rows"]] == [
        ("320600", True, 3, 1, 1), ("320611", False, 1, 0, 0), ("320612", False, 3, 2, 1), ("320699", False, 1, 0, 0),
    ]
    assert data["total"] == {
        "expected": 8, "reported": 3, "on_time": 2, "reporting_rate": 37.5, "on_time_rate": 25.0,
    }
    tongzhou = data["rows"][2]
    assert [(c["period"], c["state"]) for c in tongzhou["cells"]][:4] == [
        ("2024-01", "on_time"), ("2024-02", "late"), ("2024-03", "draft_only"), ("2024-04", "not_due"),
    ]
    assert data["periods"][0] == {"key": "2024-01", "label": "1月", "start": "2024-01-01", "end": "2024-01-31",
                                  "due": "2024-02-05"}


def test_without_a_region_a_reviewer_gets_their_own(api, nantong_2024, nantong_reviewer):  # noqa: F811
    data = api(nantong_reviewer).get(URL, {"year": 2024, "as_of": "2024-04-20"}).json()
    assert data["region"] == "320600" and data["total"]["expected"] == 8


def test_a_programme_gives_its_own_row(api, nantong_2024, tongzhou_plan, tongzhou_reporter):  # noqa: F811
    data = api(tongzhou_reporter).get(URL, {"programme": tongzhou_plan.pk, "as_of": "2024-04-20"}).json()
    [row] = data["rows"]
    assert (row["region"], row["own"], row["reporting_rate"], row["on_time_rate"]) == ("320612", True, 66.7, 33.3)


def test_a_reviewer_sees_nothing_outside_their_subtree(api, nantong_2024, zhenjiang_reviewer, tongzhou_plan):  # noqa: F811
    client = api(zhenjiang_reviewer)
    assert client.get(URL, {"region": "320600", "year": 2024}).status_code == 404
    assert client.get(URL, {"programme": tongzhou_plan.pk}).status_code == 404
    # Their own grid has no Nantong row.
    assert client.get(URL, {"year": 2024}).json()["rows"] == []


def test_bad_input_is_refused_in_chinese(api, nantong_reviewer):
    client = api(nantong_reviewer)
    for query in ({"year": "二〇二四"}, {"region": ""}, {"as_of": "2024-13-01"}, {"programme": 1, "region": "320600"}):
        response = client.get(URL, query)
        assert response.status_code == 400, query
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(response.json())), query


def test_csv_and_xlsx_downloads_carry_the_same_figures(api, nantong_2024, nantong_reviewer):  # noqa: F811
    client = api(nantong_reviewer)
    query = {"region": "320600", "year": 2024, "as_of": "2024-04-20"}
    csv = client.get(URL, {**query, "format": "csv"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("地区代码,地区,1月,2月,3月,4月")
    assert lines[3].startswith("320612,通州区,按时报送,逾期报送,仅有草稿,未到期")
    assert lines[3].endswith(",3,2,1,66.7,33.3")
    assert lines[-1].endswith("合计,,,,,,,,,,,,,8,3,2,37.5,25.0")
    xlsx = client.get(URL, {**query, "format": "xlsx"})
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:5] == ("320600", "南通市（本级）", "按时报送", "未报送", "未报送")


def test_the_query_count_does_not_grow_with_regions(api, nantong_2024, nantong_reviewer, django_assert_max_num_queries):  # noqa: F811
    client = api(nantong_reviewer)
    with django_assert_max_num_queries(8):
        client.get(URL, {"region": "320600", "year": 2024})
    for code in ("320601", "320602", "320603"):
        from tracking.models import Region
        Region.objects.create(code=code, name=code, union_name=code, level="district", parent_id="320600")
        Programme.objects.create(region_id=code, kind="annual_plan", title="x", year=2024,
                                 period_start="2024-01-01", period_end="2024-12-31")
    with django_assert_max_num_queries(8):
        assert len(client.get(URL, {"region": "320600", "year": 2024}).json()["rows"]) == 7


def test_the_programme_detail_shows_its_periods(api, tongzhou_plan, tongzhou_reporter):
    Programme.objects.filter(pk=tongzhou_plan.pk).update(reporting_frequency="quarterly", due_days=10)
    data = api(tongzhou_reporter).get(f"/api/v1/programmes/{tongzhou_plan.pk}/").json()
    assert (data["reporting_frequency"], data["due_days"]) == ("quarterly", 10)
    assert [(p["key"], p["label"], p["due"]) for p in data["periods"]] == [
        ("2024Q1", "第1季度", "2024-04-10"), ("2024Q2", "第2季度", "2024-07-10"),
        ("2024Q3", "第3季度", "2024-10-10"), ("2024Q4", "第4季度", "2025-01-10"),
    ]


def test_a_refused_download_says_why_in_json(api, nantong_reviewer):
    response = api(nantong_reviewer).get(URL, {"format": "xlsx", "year": "abc"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "year" in response.json()
