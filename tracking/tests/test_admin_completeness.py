"""报送情况: the reviewer's completeness grid in the admin, its links, its scope and its query count."""

import re

from django.urls import reverse

from tracking.models import Programme, Region

from .conftest import D, S, report
from .test_followup_completeness import nantong_2024  # noqa: F401  (fixture: the hand-computed grid)

URL = reverse("admin:tracking_completeness")


def test_the_city_reviewer_sees_districts_by_month_coloured_by_state(nantong_2024, nantong_reviewer, logged_in):  # noqa: F811
    response = logged_in(nantong_reviewer).get(URL, {"year": 2024, "as_of": "2024-04-20"})
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r"报送率 <strong>37.5%</strong>", page) and "及时率 <strong>25.0%</strong>" in page
    tongzhou = page[page.index("通州区"):]
    tongzhou = tongzhou[:tongzhou.index("</tr>")]
    assert re.findall(r'class="tt-cell tt-state-(\w+)"', tongzhou)[:4] == ["on_time", "late", "draft_only", "not_due"]
    assert "66.7" in tongzhou and "33.3" in tongzhou


def test_a_cell_leads_to_its_reports(nantong_2024, nantong_reviewer, logged_in, songqingliang):  # noqa: F811
    client = logged_in(nantong_reviewer)
    page = client.get(URL, {"year": 2024, "as_of": "2024-04-20"}).content.decode()
    link = re.search(r'href="([^"]*region=320612[^"]*period_end__gte=2024-02-01[^"]*)"', page).group(1)
    reports = client.get(link.replace("&amp;", "&"))
    assert reports.status_code == 200
    listed = reports.context["cl"].queryset
    assert [r.period_end for r in listed] == [D(2024, 2, 29)]


def test_another_citys_reviewer_cannot_open_nantongs_grid(nantong_2024, zhenjiang_reviewer, logged_in):  # noqa: F811
    client = logged_in(zhenjiang_reviewer)
    assert client.get(URL, {"region": "320600", "year": 2024}).status_code == 403
    own = client.get(URL, {"year": 2024}).content.decode()
    assert "通州区" not in own


def test_the_grid_page_takes_the_same_queries_for_more_districts(
    nantong_2024, nantong_reviewer, logged_in, django_assert_max_num_queries  # noqa: F811
):
    client = logged_in(nantong_reviewer)
    client.get(URL, {"year": 2024})
    with django_assert_max_num_queries(12) as before:
        client.get(URL, {"year": 2024})
    for code in ("320601", "320602", "320603"):
        Region.objects.create(code=code, name=code, union_name=code, level="district", parent_id="320600")
        plan = Programme.objects.create(region_id=code, kind="annual_plan", title="x", year=2024,
                                        period_start="2024-01-01", period_end="2024-12-31")
        from .conftest import make_target
        report(make_target(plan, code="1.1", number=1), D(2024, 1, 31), 1, status=S.SUBMITTED)
    with django_assert_max_num_queries(len(before.captured_queries)):
        client.get(URL, {"year": 2024})


def test_the_index_links_to_the_grid_and_the_programme_form_has_the_calendar(
    tongzhou_plan, tongzhou_manager, logged_in
):
    client = logged_in(tongzhou_manager)
    assert URL in client.get(reverse("admin:index")).content.decode()
    form = client.get(reverse("admin:tracking_programme_change", args=[tongzhou_plan.pk])).content.decode()
    assert 'name="reporting_frequency"' in form and 'name="due_days"' in form
