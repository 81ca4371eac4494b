"""A real browser through the admin: a Tongzhou clerk reports, a Nantong reviewer approves.

Drives Debian's Chromium (/usr/bin/chromium) with Playwright against the live
test server (tracking/tests/browser.py), and saves screenshots of the report
page under review, the target list and the dashboard in artifacts/ for people
to look at. test_screens.py visits every other page a clerk or reviewer uses.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tracking.models import ProgressReport, Target

from .browser import (  # noqa: F401  (fixtures)
    browser, check_screen, live_database, needs_chromium, role_groups, session_as,
)

pytestmark = [needs_chromium, live_database, pytest.mark.usefixtures("role_groups", "media_root")]


def test_clerk_reports_reviewer_approves_and_the_list_shows_fifty_percent(
    session_as, live_server, songqingliang, jingkou_target, tongzhou_reporter, nantong_reviewer, jingkou_reporter
):
    target_list = live_server.url + reverse("admin:tracking_target_changelist")

    # The Tongzhou reporter finds item 4's 送清凉 and adds 6000 from the target page.
    clerk = session_as(tongzhou_reporter)
    clerk.goto(target_list)
    clerk.click("#result_list a:text-is('送清凉')")
    # A page to add reports to, not a target the reporter may change.
    expect(clerk.locator("#content h1")).to_have_text("填报进度")
    clerk.fill("input[name='reports-0-period_end']", "2024-06-30")
    clerk.fill("input[name='reports-0-value']", "6000")
    clerk.click("input[name='_continue']")
    expect(clerk.locator(".tt-reports").get_by_text("草稿")).to_be_visible()
    expect(clerk.locator(".messagelist")).to_contain_text("已新增填报“4.1 送清凉（2024-06-30，6,000 名）”")
    assert "修改" not in clerk.inner_text(".messagelist")
    check_screen(clerk, "clerk-report-added")

    clerk.click(".tt-reports button[value='submit']")
    expect(clerk.locator(".tt-reports").get_by_text("待审核")).to_be_visible()
    assert ProgressReport.objects.get().status == ProgressReport.Status.SUBMITTED

    # The Nantong reviewer approves it from the report's page.
    reviewer = session_as(nantong_reviewer)
    reviewer.goto(live_server.url + reverse("admin:tracking_progressreport_changelist") + "?status__exact=submitted")
    reviewer.click("#result_list tbody tr:first-child th a")
    # Above the form: what the report is against, what is done, and what approving it brings.
    figures = reviewer.locator(".tt-figures")
    expect(figures.locator("dd").nth(1)).to_contain_text("12,000 名")
    expect(reviewer.locator(".tt-so-far")).to_have_text("—")
    expect(reviewer.locator(".tt-this")).to_contain_text("6,000 名")
    expect(reviewer.locator(".tt-after")).to_have_text("6,000 名 · 50%")
    check_screen(reviewer, "report-under-review")
    reviewer.click("button[value='approve']")
    expect(reviewer.locator(".messagelist")).to_have_text("4.1 送清凉（2024-06-30，6,000 名）：已审核通过")
    assert ProgressReport.objects.get().status == ProgressReport.Status.APPROVED
    # Counted now: the page says so instead of offering the buttons again.
    expect(reviewer.locator(".tt-so-far")).to_have_text("6,000 名 · 50%")
    expect(reviewer.locator(".tt-after")).to_have_text("已计入（含在上面的已完成中）")
    expect(reviewer.locator("button[value='approve']")).to_have_count(0)

    # The target list now shows half of 12000 done, on the bar itself.
    reviewer.goto(target_list)
    row = reviewer.locator("#result_list tr", has_text="送清凉")
    expect(row.locator(".tt-pct")).to_have_text("50%")
    assert "width: 50.0%" in row.locator(".tt-fill").get_attribute("style")
    # A 2024 target half done: overdue once 2024 is over.
    status = Target.objects.with_progress().get(pk=songqingliang.pk).status
    assert row.locator(".tt-badge").inner_text() == Target.Status(status).label
    check_screen(reviewer, "target-list-after-approval")

    reviewer.goto(live_server.url + reverse("admin:tracking_dashboard"))
    dashboard_row = reviewer.locator(".tt-programme tr", has=reviewer.get_by_role("link", name="送清凉", exact=True))
    expect(dashboard_row.locator(".tt-pct")).to_have_text("50%")
    check_screen(reviewer, "dashboard-after-approval")
    assert Target.objects.with_progress().get(pk=songqingliang.pk).completion == 50.0

    # A Jingkou reporter neither sees it listed nor reaches it by URL.
    outsider = session_as(jingkou_reporter)
    outsider.goto(target_list)
    assert outsider.locator("#result_list").get_by_text("送清凉").count() == 0
    response = outsider.goto(live_server.url + reverse("admin:tracking_target_change", args=[songqingliang.pk]))
    assert response.status == 404
    assert "12000" not in outsider.content() and "送清凉" not in outsider.content()
