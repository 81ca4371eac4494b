"""/api/v1/bulletin/: the 进展情况通报 as .docx, its figures the summary's, laid out as a 公文."""

import datetime
import io

import docx
import pytest
from docx.shared import Pt

from tracking.bulletin import document
from tracking.api.bulletin import DOCX
from tracking.bulletin.figures import bulletin_figures, mark
from tracking.followup.selectors import reporting_rates
from tracking.models import Region

URL = "/api/v1/bulletin/"
SUMMARY = "/api/v1/summary/"
AS_OF = "2024-07-01"


def opened(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == DOCX
    return docx.Document(io.BytesIO(response.content))


def text_of(doc):
    return "\n".join(p.text for p in doc.paragraphs)


def ranking_rows(doc):
    table = doc.tables[0]
    return [[cell.text for cell in row.cells] for row in table.rows]


def summary_groups(api, user, **query):
    response = api(user).get(SUMMARY, {"as_of": AS_OF, **query})
    assert response.status_code == 200
    return response.json()["groups"]


@pytest.mark.parametrize(("region", "parent"), [("320000", None), ("320600", "320000")])
def test_the_bulletins_figures_are_the_summarys(api, plans_across_jiangsu, superuser, region, parent):
    doc = opened(api(superuser).get(URL, {"region": region, "as_of": AS_OF}))
    text = text_of(doc)

    whole = [g for g in summary_groups(api, superuser, **({"region": parent} if parent else {})) if g["key"] == region][0]
    assert (
        f"共有指标{whole['targets']}项，其中已完成{whole['achieved']}项、进行中{whole['on_track']}项、"
        f"未开始{whole['not_started']}项、滞后{whole['behind']}项、逾期{whole['overdue']}项"
    ) in text
    assert f"平均完成率为{whole['mean_completion']:.1f}%" in text
    by_child = summary_groups(api, superuser, region=region)
    ranked = sorted(by_child, key=lambda g: (g["mean_completion"] is None, -(g["mean_completion"] or 0), g["key"]))
    # The reporting rates are the completeness figures' (issue 16), for the same region and day.
    rates = reporting_rates(region=Region.objects.get(code=region), as_of=datetime.date.fromisoformat(AS_OF))
    percent = lambda value: "—" if value is None else f"{value:.1f}%"  # noqa: E731
    rows = ranking_rows(doc)
    assert rows[0][:3] == ["名次", "地区", "指标数"]
    assert [row[2:10] for row in rows[1:]] == [
        [str(g[f]) for f in ("targets", "achieved", "on_track", "not_started", "behind", "overdue")]
        + [percent(g["mean_completion"]), percent((rates.get(g["key"]) or {}).get("reporting_rate"))]
        for g in ranked
    ]
    overall = rates[None]
    assert f"报送率{percent(overall['reporting_rate'])}，按时报送率{percent(overall['on_time_rate'])}" in text


def test_a_citys_bulletin_ranks_its_districts_and_lists_their_lagging_targets(api, plans_across_jiangsu, nantong_reviewer):
    doc = opened(api(nantong_reviewer).get(URL, {"region": "320600", "as_of": AS_OF}))
    text = text_of(doc)

    assert doc.paragraphs[0].text == "关于2024年为职工办实事项目进展情况的通报"
    assert "截至2024年7月1日，南通市2024年为职工办实事项目共有指标5项" in text
    # Tongzhou (送清凉 50 %, 建会率 101 %, 培训 0 %: (50 + 101 + 0) / 3) before the city's own target at 0 %.
    assert [row[1] for row in ranking_rows(doc)[1:]] == ["通州区", "南通市（本级）"]
    assert "（一）通州区" in text and "（二）南通市（本级）" in text
    assert "7.1 培训（7. 培训）：完成0.0%，按时间应完成50.0%，滞后。" in text
    assert "●黄 1. 1.1 市级指标" in text
    # Behind with nothing overdue, and under a third of its targets: amber; the city's one target behind: red.
    assert [row[-1] for row in ranking_rows(doc)[1:]] == ["●黄", "●红"]
    # The completeness figures (issue 16): monthly periods due by 1 July, none of them reported on time.
    rates = reporting_rates(region=Region.objects.get(code="320600"), as_of=datetime.date(2024, 7, 1))
    assert rates[None]["expected"] > 0
    assert f"应报送{rates[None]['expected']}期次，已报送{rates[None]['reported']}期次" in text
    assert text.rstrip().endswith("南通市总工会\n2024年7月1日")


def test_the_layout_is_a_gbt_9704_document(api, plans_across_jiangsu, nantong_reviewer):
    doc = opened(api(nantong_reviewer).get(URL, {"region": "320600", "as_of": AS_OF}))
    section = doc.sections[0]

    # Stored in twentieths of a point, so compared to a tenth of a millimetre.
    mm = lambda *lengths: [round(length.mm, 1) for length in lengths]  # noqa: E731
    assert mm(section.page_width, section.page_height) == [210, 297]
    assert mm(section.top_margin, section.bottom_margin, section.left_margin, section.right_margin) == [37, 35, 28, 26]
    east_asian = lambda run: run._element.rPr.rFonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia")  # noqa: E731
    assert east_asian(doc.paragraphs[0].runs[0]) == "方正小标宋简体"
    assert doc.paragraphs[0].runs[0].font.size == Pt(22)
    headings = [p for p in doc.paragraphs if p.text in ("一、总体情况", "二、各地进展排名", "三、滞后事项")]
    assert len(headings) == 3 and all(east_asian(p.runs[0]) == "黑体" for p in headings)
    body = next(p for p in doc.paragraphs if p.text.startswith("截至"))
    assert east_asian(body.runs[0]) == "仿宋_GB2312" and body.runs[0].font.size == Pt(16)
    # Page numbers: a PAGE field on odd (right) and even (left) pages.
    assert doc.settings.odd_and_even_pages_header_footer
    for footer in (section.footer, section.even_page_footer):
        assert "PAGE" in footer._element.xml and footer.paragraphs[0].text.startswith("— ")
    # The fallbacks are named in the font table.
    font_table = next(p for p in doc.part.package.iter_parts() if str(p.partname) == "/word/fontTable.xml").blob.decode()
    assert 'w:name="仿宋_GB2312"><w:altName w:val="仿宋"/>' in font_table


def test_the_bulletin_is_a_download_named_for_its_region_and_date(api, plans_across_jiangsu, nantong_reviewer):
    response = api(nantong_reviewer).get(URL, {"region": "320600", "as_of": AS_OF})

    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"


def test_a_district_gets_its_own_bulletin_by_default(api, plans_across_jiangsu, tongzhou_reporter):
    doc = opened(api(tongzhou_reporter).get(URL, {"as_of": AS_OF}))

    assert "通州区2024年为职工办实事项目共有指标4项" in text_of(doc)


def test_a_region_outside_the_users_scope_is_not_found(api, plans_across_jiangsu, tongzhou_reporter):
    response = api(tongzhou_reporter).get(URL, {"region": "321100", "as_of": AS_OF})

    assert response.status_code == 404
    assert "不在您的权限范围内" in response.json()["detail"]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"as_of": "2024-13-01"}, "as_of"), ({"region": ""}, "region")],
    ids=["bad date", "empty region"],
)
def test_bad_parameters_are_400(api, plans_across_jiangsu, nantong_reviewer, query, field):
    response = api(nantong_reviewer).get(URL, {"region": "320600", **query})

    assert response.status_code == 400
    assert field in response.json()


def test_a_superuser_names_the_region(api, plans_across_jiangsu, superuser):
    response = api(superuser).get(URL)

    assert response.status_code == 400
    assert response.json()["region"] == ["请指定地区代码（region）"]


def test_anonymous_clients_get_no_bulletin_even_with_public_reads(api, plans_across_jiangsu, settings):
    settings.TRACKING_PUBLIC_READ = True

    assert api().get(URL, {"region": "320600"}).status_code == 401


def test_a_bulletin_takes_the_same_number_of_queries_however_many_districts(
    api, plans_across_jiangsu, superuser, django_assert_max_num_queries
):
    client = api(superuser)
    client.get(URL, {"region": "320000", "as_of": AS_OF})
    # Token and user (1), region (1), year (1), two summaries (2), the completeness grid behind the
    # reporting rates (at most 2), lagging targets (1).
    with django_assert_max_num_queries(9):
        assert client.get(URL, {"region": "320000", "as_of": AS_OF}).status_code == 200


def test_marks_are_red_amber_and_green_by_the_share_lagging():
    group = dict(targets=6, behind=0, overdue=0)
    assert mark(group) == "green"
    assert mark({**group, "behind": 1}) == "amber"
    assert mark({**group, "behind": 2}) == "red"
    assert mark({**group, "overdue": 1}) == "red"
    assert mark({**group, "targets": 0}) is None


def test_a_region_without_targets_says_so(regions):
    bulletin = bulletin_figures(region=regions["320500"], as_of=datetime.date(2024, 7, 1))
    doc = docx.Document(io.BytesIO(document.build(bulletin)))

    assert "苏州市" in doc.paragraphs[3].text or "尚无指标" in text_of(doc)
    assert "各地均无滞后、逾期指标。" in text_of(doc)


# --- The admin's 生成通报 ------------------------------------------------------------

ADMIN_BULLETIN = "/admin/tracking/target/bulletin/"


def test_the_dashboard_offers_the_bulletin(plans_across_jiangsu, nantong_reviewer, logged_in):
    page = logged_in(nantong_reviewer).get("/admin/tracking/target/dashboard/").content.decode()

    assert f'href="{ADMIN_BULLETIN}">生成通报</a>' in page


def test_the_admin_form_offers_the_users_regions_above_districts_and_its_own(plans_across_jiangsu, nantong_reviewer, tongzhou_reporter, logged_in):
    offered = lambda user: [r.code for r in logged_in(user).get(ADMIN_BULLETIN).context["form"].fields["region"].queryset]  # noqa: E731

    assert offered(nantong_reviewer) == ["320600"]
    assert offered(tongzhou_reporter) == ["320612"]


def test_the_admin_form_answers_the_same_document_as_the_api(api, plans_across_jiangsu, nantong_reviewer, logged_in):
    response = logged_in(nantong_reviewer).get(ADMIN_BULLETIN, {"region": "320600", "as_of": AS_OF})

    assert response["Content-Type"] == DOCX
    from_admin = docx.Document(io.BytesIO(response.content))
    from_api = opened(api(nantong_reviewer).get(URL, {"region": "320600", "as_of": AS_OF}))
    assert text_of(from_admin) == text_of(from_api)
    assert ranking_rows(from_admin) == ranking_rows(from_api)


@pytest.mark.parametrize("query", [{"region": "321100", "as_of": AS_OF}, {"region": "320600", "as_of": "7月1日"}])
def test_the_admin_form_refuses_a_region_outside_scope_or_a_bad_date_on_the_form(plans_across_jiangsu, nantong_reviewer, logged_in, query):
    response = logged_in(nantong_reviewer).get(ADMIN_BULLETIN, query)

    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert response.context["form"].errors
