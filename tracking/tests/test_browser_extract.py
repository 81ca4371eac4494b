"""A Tongzhou manager pastes a report in a real browser, unticks a figure, saves, and finds the drafts in the queue.

Debian's Chromium through Playwright, at 1366×768 (a common office screen):
neither the page nor any scrolling box may scroll sideways. Screenshots go to
artifacts/ for people to look at.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tracking.models import ProgressReport

from .browser import (  # noqa: F401  (fixtures)
    ARTIFACTS, OVERFLOW, browser, live_database, needs_chromium, role_groups, session_as,
)

pytestmark = [needs_chromium, live_database, pytest.mark.usefixtures("role_groups", "media_root")]

REPORT = (
    "通州区总工会2023年工作总结\n\n"
    "一、服务职工\n\n全年走访慰问困难职工1613户，发放慰问金约335万元，为1.2万名一线职工夏季“送清凉”。"
    "开展“通工惠”线上普惠活动，惠及职工12.5万人次，发放各类代金券近80万元。\n\n"
    "二、组织建设\n\n新建基层工会44家，新发展会员3093人，建会覆盖率达98.5%。举办第十二届职工职业技能大赛，3.2万名职工参赛。\n"
)
@pytest.fixture
def small_screen(session_as):  # noqa: F811  (the fixture by that name)
    def login(user):
        page = session_as(user)
        page.set_viewport_size({"width": 1366, "height": 768})
        return page

    return login


def test_manager_pastes_unticks_one_figure_saves_and_sees_the_drafts_in_the_review_queue(
    small_screen, live_server, tongzhou_manager
):
    ARTIFACTS.mkdir(exist_ok=True)
    page = small_screen(tongzhou_manager)

    page.goto(live_server.url + reverse("admin:tracking_programme_changelist"))
    page.click("text=从报告提取")
    page.select_option("#id_region", "320612")
    page.select_option("#id_kind", "annual_report")
    page.fill("#id_year", "2023")
    page.fill("#id_text", REPORT)
    assert page.evaluate(OVERFLOW) == []
    page.screenshot(path=str(ARTIFACTS / "extract-paste.png"), full_page=True)
    page.click("input[name=_extract]")

    marks = page.locator("#tt-text mark")
    expect(marks).to_have_count(9)
    expect(marks.first).to_have_text("1613户")
    assert "第十二" not in marks.all_inner_texts()
    page.uncheck("#fig-1 input[type=checkbox]")  # 335万元
    expect(page.locator("#mark-1")).to_have_class(re.compile("tt-off"))
    expect(page.locator("#tt-kept")).to_have_text("8")
    assert page.evaluate(OVERFLOW) == []
    page.screenshot(path=str(ARTIFACTS / "extract-review.png"), full_page=True)

    page.click("input[name=_save]")

    expect(page.locator(".messagelist")).to_contain_text("8 条草稿填报")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(8)
    expect(page.locator("#result_list")).to_contain_text("草稿")
    # The queue is the report list this page does not own: its ten columns
    # scroll inside their own box at this width, but the page must not.
    assert [box for box in page.evaluate(OVERFLOW) if not box.startswith("results ")] == []
    page.screenshot(path=str(ARTIFACTS / "extract-drafts.png"), full_page=True)
    reports = ProgressReport.objects.all()
    assert reports.count() == 8 and {r.status for r in reports} == {ProgressReport.Status.DRAFT}
    assert not reports.filter(value=3350000).exists()
