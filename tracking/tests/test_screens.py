"""Every admin page a clerk or a reviewer uses, in Chromium at 1366×768 (and two at 390×844, a phone).

Each page is checked by browser.check_screen (nothing wider than its view, no
"None", "Deleted" or ".0000") and photographed into artifacts/. The world is
Tongzhou's 2024 plan with reports in every status, entered and reviewed
through the services as the admin does, so that their history is real.
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from playwright.sync_api import expect

from tracking import services
from tracking.models import Programme, ProgressReport

from . import evidence_files
from .browser import (  # noqa: F401  (fixtures)
    PHONE, browser, check_screen, live_database, needs_chromium, role_groups, session_as,
)
from .conftest import make_plan, make_target

pytestmark = [needs_chromium, live_database, pytest.mark.usefixtures("role_groups", "media_root")]

D = datetime.date
S = ProgressReport.Status
EXTRACTION_NOTE = "原表格已被拆分成列并打乱，按原文顺序重新整理"
SOURCE_FILE = "003_2917c71dea6f4957.txt"


@pytest.fixture
def tongzhou_year(songqingliang, tongzhou_plan, jingkou_target, tongzhou_reporter, nantong_reviewer):
    """Tongzhou 2024 as the clerk and the reviewer see it in mid-year.

    4.1 送清凉: 2,000 approved, 6,000 submitted. 4.2: a draft. 1.1 宣讲: returned with a note.
    9.2 and 10.1: long names, nothing reported. Kunshan (Suzhou) has a plan the Nantong reviewer never sees.
    """
    Programme.objects.filter(pk=tongzhou_plan.pk).update(description=EXTRACTION_NOTE, source_document=SOURCE_FILE)
    talks = make_target(tongzhou_plan, number=1, code="1.1", name="宣讲活动", target_value="100", unit="场次")
    checkups = make_target(tongzhou_plan, number=4, code="4.2", name="新业态职工送体检", target_value="300")
    make_target(tongzhou_plan, number=9, code="9.2", name="户外劳动者爱心驿站", target_value="10", unit="家")
    make_target(tongzhou_plan, number=10, code="10.1", name="“通工惠”线上普惠惠及职工", target_value="100000",
                unit="人次")

    def entered(target, period_end, value, **extra):
        return services.create_report(user=tongzhou_reporter, target=target, period_end=period_end, value=value,
                                      **extra)

    approved = entered(songqingliang, D(2024, 3, 31), 2000,
                       evidence=SimpleUploadedFile("三月送清凉.png", evidence_files.png(), content_type="image/png"))
    services.submit_report(user=tongzhou_reporter, report=approved)
    services.approve_report(user=nantong_reviewer, report=approved)
    submitted = entered(songqingliang, D(2024, 6, 30), 6000, note="6月送清凉")
    services.submit_report(user=tongzhou_reporter, report=submitted)
    draft = entered(checkups, D(2024, 4, 30), 120)
    returned = entered(talks, D(2024, 5, 31), 30)
    services.submit_report(user=tongzhou_reporter, report=returned)
    services.return_report(user=nantong_reviewer, report=returned, note="请附上活动照片")
    make_target(make_plan("320583"), number=2, code="2.1", name="帮扶", target_value="1000")
    return {
        "plan": tongzhou_plan, "target": songqingliang,
        "reports": {S.APPROVED: approved, S.SUBMITTED: submitted, S.DRAFT: draft, S.RETURNED: returned},
    }


def url(live_server, name, *args, query=""):
    return live_server.url + reverse(f"admin:{name}", args=args) + query


def columns(page):
    """The headers of a changelist's columns."""
    return [text.strip() for text in page.locator("#result_list thead th div.text").all_inner_texts() if text.strip()]


def lines(cell):
    """How many lines the text of a cell takes on the screen."""
    return cell.evaluate("e => { const r = document.createRange(); r.selectNodeContents(e); "
                         "return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }")


def test_the_clerks_pages_fit_and_read_as_a_person_writes(session_as, live_server, tongzhou_year, tongzhou_reporter):
    clerk = session_as(tongzhou_reporter)
    reports = tongzhou_year["reports"]

    clerk.goto(url(live_server, "index"))
    check_screen(clerk, "clerk-index")
    assert clerk.locator(".app-tracking tbody th").all_inner_texts() == [
        "进度填报", "指标", "计划", "事项", "提醒消息", "关闭的期间", "地区",
    ]

    clerk.goto(url(live_server, "tracking_dashboard"))
    check_screen(clerk, "clerk-dashboard")

    # The target list: a district's clerk needs no 地区 column; 编号 and 最近填报 are there, badges whole.
    clerk.goto(url(live_server, "tracking_target_changelist"))
    check_screen(clerk, "clerk-target-list")
    assert columns(clerk) == ["计划", "编号", "指标名称", "目标", "已完成", "完成率", "状态", "最近填报"]
    row = clerk.locator("#result_list tr", has_text="送清凉")
    expect(row.locator("td.field-last_reported")).to_have_text("2024-03-31")
    expect(row.locator("td.field-target")).to_have_text("12,000 名")
    # Names are not squeezed into a column of four characters.
    assert lines(clerk.locator("#result_list td.field-name", has_text="通工惠")) == 1

    # Once the filters fix the plan, the 计划 column goes too.
    clerk.goto(url(live_server, "tracking_target_changelist", query="?year=2024&kind=annual_plan"))
    check_screen(clerk, "clerk-target-list-one-plan")
    assert "计划" not in columns(clerk)

    # The target page: what to do (add a report) comes before the target's definition.
    clerk.goto(url(live_server, "tracking_target_change", tongzhou_year["target"].pk))
    text = check_screen(clerk, "clerk-target-page")
    expect(clerk.locator("#content h1")).to_have_text("填报进度")
    assert "12,000 名，2024-12-31 前完成" in text
    expect(clerk.locator(".inline-group")).to_be_visible()

    clerk.goto(url(live_server, "tracking_progressreport_changelist"))
    check_screen(clerk, "clerk-report-list")

    # The programme: provenance notes are folded away, the items fit.
    clerk.goto(url(live_server, "tracking_programme_changelist"))
    text = check_screen(clerk, "clerk-programme-list")
    period = clerk.locator("#result_list td.field-period").first
    assert period.inner_text() == "2024-01-01～2024-12-31"
    assert lines(period) == 1
    clerk.goto(url(live_server, "tracking_programme_change", tongzhou_year["plan"].pk))
    text = check_screen(clerk, "clerk-programme-page")
    assert EXTRACTION_NOTE not in text and SOURCE_FILE not in text
    expect(clerk.get_by_text("来源与整理说明")).to_be_visible()

    # A draft, and a returned report whose note comes first.
    clerk.goto(url(live_server, "tracking_progressreport_change", reports[S.DRAFT].pk))
    text = check_screen(clerk, "clerk-report-draft")
    assert "120 名" in text and "120.0000" not in clerk.content()
    expect(clerk.locator("#id_value")).to_have_value("120")
    clerk.goto(url(live_server, "tracking_progressreport_change", reports[S.RETURNED].pk))
    check_screen(clerk, "clerk-report-returned")
    note = clerk.locator(".tt-returned")
    expect(note).to_contain_text("请附上活动照片")
    assert note.bounding_box()["y"] < clerk.locator("#progressreport_form").bounding_box()["y"]

    # History: the target's shows what happened to its reports; the report's reads as Chinese.
    clerk.goto(url(live_server, "tracking_target_history", tongzhou_year["target"].pk))
    text = check_screen(clerk, "clerk-target-history")
    for event in ("新增进度填报", "提交审核", "审核通过"):
        assert event in text
    assert "该记录对象没有修改的记录" not in text
    clerk.goto(url(live_server, "tracking_progressreport_history", reports[S.RETURNED].pk))
    text = check_screen(clerk, "clerk-report-history")
    assert "状态：待审核 → 已退回" in text and "审核意见：— → 请附上活动照片" in text
    assert "CHANGES" not in text.upper() and "returned" not in text and "修改原因" not in text
    assert clerk.locator(".tt-history tbody td").first.inner_text().count(":") == 1, "hh:mm, no seconds"
    # One earlier version, read-only, named in the tracker's words.
    clerk.locator(".tt-history tbody td a").last.click()
    text = check_screen(clerk, "clerk-report-version")
    assert "Historical" not in text and "过去的版本" in text


def test_the_add_report_form_searches_only_the_clerks_targets(
    session_as, live_server, tongzhou_year, jingkou_reporter, tongzhou_reporter
):
    clerk = session_as(tongzhou_reporter)
    clerk.goto(url(live_server, "tracking_progressreport_add"))
    clerk.click(".field-target .select2-selection")
    clerk.fill(".select2-search__field", "送")
    options = clerk.locator(".select2-results__option")
    expect(options.first).to_contain_text("通州区 2024 年度计划 · 4.1 送清凉")
    check_screen(clerk, "clerk-add-report-search")
    assert "职工培训" not in " ".join(options.all_inner_texts())

    outsider = session_as(jingkou_reporter)
    outsider.goto(url(live_server, "tracking_progressreport_add"))
    outsider.click(".field-target .select2-selection")
    outsider.fill(".select2-search__field", "送")
    expect(outsider.locator(".select2-results__option")).to_have_text(["未找到结果"])


def test_the_reviewers_pages_show_the_figures_and_the_buttons_first(
    session_as, live_server, tongzhou_year, nantong_reviewer
):
    reviewer = session_as(nantong_reviewer)
    reports = tongzhou_year["reports"]

    reviewer.goto(url(live_server, "tracking_target_changelist"))
    check_screen(reviewer, "reviewer-target-list")
    # The city's reviewer sees several districts' rows: the 地区 column stays until a district is chosen.
    assert "地区" in columns(reviewer)
    reviewer.goto(url(live_server, "tracking_target_changelist", query="?region=320612"))
    assert "地区" not in columns(reviewer)

    reviewer.goto(url(live_server, "tracking_progressreport_change", reports[S.SUBMITTED].pk))
    text = check_screen(reviewer, "reviewer-report-submitted")
    expect(reviewer.locator("#content h1")).to_have_text("审核填报")
    expect(reviewer.locator(".tt-after")).to_have_text("8,000 名 · 67%")
    assert "12,000 名" in text and "2,000 名 · 17%" in text
    approve, close = reviewer.locator("button[value='approve']"), reviewer.locator(".submit-row .closelink")
    # Large, and above the form's own 关闭.
    assert approve.bounding_box()["height"] >= 36 and approve.bounding_box()["width"] >= 120
    assert approve.bounding_box()["y"] < close.bounding_box()["y"]
    assert reviewer.locator("button[value='return']").bounding_box()["height"] >= 36
    # No empty heading bars: every blue bar carries a title.
    assert reviewer.locator("#content h2:visible").evaluate_all(
        "hs => hs.filter(h => !h.textContent.trim() || h.getBoundingClientRect().height > 60).length"
    ) == 0

    reviewer.goto(url(live_server, "tracking_progressreport_change", reports[S.APPROVED].pk))
    check_screen(reviewer, "reviewer-report-approved")
    expect(reviewer.locator(".tt-after")).to_have_text("已计入（含在上面的已完成中）")
    expect(reviewer.locator("button[value='return']")).to_have_text("重新打开（退回）")
    expect(reviewer.locator("button[value='publish']")).to_have_text("在公示页面公开佐证材料")

    reviewer.goto(url(live_server, "tracking_progressreport_change", reports[S.DRAFT].pk))
    check_screen(reviewer, "reviewer-report-draft")
    expect(reviewer.locator("button[value='approve']")).to_have_count(0)

    reviewer.goto(url(live_server, "tracking_progressreport_change", reports[S.RETURNED].pk))
    check_screen(reviewer, "reviewer-report-returned")
    expect(reviewer.locator(".tt-returned")).to_contain_text("请附上活动照片")

    reviewer.goto(url(live_server, "tracking_progressreport_changelist", query="?status__exact=submitted"))
    check_screen(reviewer, "reviewer-report-queue")

    reviewer.goto(url(live_server, "tracking_programme_changelist"))
    check_screen(reviewer, "reviewer-programme-list")


def test_the_import_preview_marks_the_bad_row_with_all_its_errors(session_as, live_server, tongzhou_year,
                                                                  tongzhou_reporter):
    clerk = session_as(tongzhou_reporter)
    clerk.goto(url(live_server, "tracking_progressreport_import"))
    check_screen(clerk, "clerk-import")
    header = "地区代码,年度,计划类型,事项序号,指标编号,指标名称,截至日期,数值,限定,备注\n"
    good = "320612,2024,年度计划,4,4.1,送清凉,2024-07-31,1000,精确,\n"
    # An unknown target and a mistyped value on one row.
    bad = "320612,2024,年度计划,4,4.9,送温暖,2024-07-31,\"1,2x\",精确,\n"
    clerk.set_input_files("#id_file", files=[
        {"name": "7月.csv", "mimeType": "text/csv", "buffer": (header + good + bad).encode("utf-8-sig")},
    ])
    clerk.click("input[type=submit]")

    text = check_screen(clerk, "clerk-import-preview-bad-row")
    assert "“1,2x”不是有效的数字" in text and "未找到指标：2024 年年度计划 的 4.9" in text
    bad_row = clerk.locator("tr.tt-bad-row")
    expect(bad_row).to_have_count(1)
    expect(bad_row.locator("td").first).to_have_text("3")
    expect(bad_row.locator("td.tt-bad-cell")).to_have_text(["4.9", "1,2x"])
    assert ProgressReport.objects.count() == 4


def test_the_lockout_page_is_the_admins_and_says_how_long_to_wait(live_server, browser, tongzhou_reporter, settings):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768}).new_page()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto(url(live_server, "login"))
        page.fill("#id_username", tongzhou_reporter.username)
        page.fill("#id_password", "guess")
        page.click("input[type=submit]")

    text = check_screen(page, "lockout")
    assert "登录失败次数过多" in text and "请 15 分钟后再试" in text
    expect(page.locator("#header")).to_contain_text("职工实事跟踪")
    expect(page.locator("link[href$='login.css']")).to_have_count(1)


def test_the_superuser_finds_the_tracker_first_and_the_login_records_in_chinese(session_as, live_server, superuser):
    root = session_as(superuser)
    text = check_screen(root, "superuser-index")
    captions = root.locator("#content-main .module caption").all_inner_texts()
    assert captions[0].strip() == "职工实事跟踪" and "登录安全" in [c.strip() for c in captions]
    assert "登录失败记录" in text and "Access attempts" not in text
    assert root.locator(".app-tracking tbody th").all_inner_texts()[:5] == ["进度填报", "指标", "计划", "事项", "提醒消息"]


def test_the_dashboard_and_the_add_report_form_fit_a_phone(session_as, live_server, tongzhou_year, tongzhou_reporter):
    phone = session_as(tongzhou_reporter, viewport=PHONE)

    phone.goto(url(live_server, "tracking_dashboard"))
    check_screen(phone, "phone-dashboard")

    phone.goto(url(live_server, "tracking_progressreport_add"))
    check_screen(phone, "phone-add-report")
    phone.click(".field-target .select2-selection")
    phone.fill(".select2-search__field", "4.1")
    phone.locator(".select2-results__option", has_text="送清凉").click()
    phone.fill("#id_period_end", "2024-07-31")
    phone.fill("#id_value", "1500")
    check_screen(phone, "phone-add-report-filled")
    phone.click("input[name='_save']")

    expect(phone.locator(".messagelist")).to_contain_text("4.1 送清凉（2024-07-31，1,500 名）")
    assert ProgressReport.objects.filter(period_end=D(2024, 7, 31), value=1500, status=S.DRAFT).exists()
