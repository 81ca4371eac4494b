"""A real browser through the admin: a Tongzhou clerk reports, a Nantong reviewer approves.

Drives Debian's Chromium (/usr/bin/chromium) with Playwright against the live
test server, and saves screenshots of the target list and the dashboard in
artifacts/ for people to look at.
"""

import os
import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tracking.models import ProgressReport, Target

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]

pytestmark = [
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser test",
    ),
    # serialized_rollback puts back the role groups of migration 0002 after the flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("media_root"),
]


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM
    # calls made by the test itself are still synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def session_as(browser, live_server):
    """session_as(user) → a page logged in to the admin through the login form, in Chinese."""

    def login(user):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server.url + reverse("admin:login"))
        page.fill("#id_username", user.username)
        page.fill("#id_password", "pw-" + user.username)
        page.click("input[type=submit]")
        page.wait_for_url(re.compile(r"/admin/$"))
        return page

    return login


def test_clerk_reports_reviewer_approves_and_the_list_shows_fifty_percent(
    session_as, live_server, songqingliang, jingkou_target, tongzhou_reporter, nantong_reviewer, jingkou_reporter
):
    ARTIFACTS.mkdir(exist_ok=True)
    target_list = live_server.url + reverse("admin:tracking_target_changelist")

    # The Tongzhou reporter finds item 4's 送清凉 and adds 6000 from the target page.
    clerk = session_as(tongzhou_reporter)
    clerk.goto(target_list)
    clerk.click("#result_list a:text-is('送清凉')")
    clerk.fill("input[name='reports-0-period_end']", "2024-06-30")
    clerk.fill("input[name='reports-0-value']", "6000")
    clerk.click("input[name='_continue']")
    expect(clerk.locator(".tt-reports").get_by_text("草稿")).to_be_visible()

    clerk.click(".tt-reports button[value='submit']")
    expect(clerk.locator(".tt-reports").get_by_text("待审核")).to_be_visible()
    assert ProgressReport.objects.get().status == ProgressReport.Status.SUBMITTED

    # The Nantong reviewer approves it from the report's page.
    reviewer = session_as(nantong_reviewer)
    reviewer.goto(live_server.url + reverse("admin:tracking_progressreport_changelist") + "?status__exact=submitted")
    reviewer.click("#result_list tbody tr:first-child th a")
    reviewer.click("button[value='approve']")
    expect(reviewer.locator(".messagelist").get_by_text("已审核通过")).to_be_visible()
    assert ProgressReport.objects.get().status == ProgressReport.Status.APPROVED

    # The target list now shows half of 12000 done, on the bar itself.
    reviewer.goto(target_list)
    row = reviewer.locator("#result_list tr", has_text="送清凉")
    expect(row.locator(".tt-pct")).to_have_text("50%")
    assert "width: 50.0%" in row.locator(".tt-fill").get_attribute("style")
    # A 2024 target half done: overdue once 2024 is over.
    status = Target.objects.with_progress().get(pk=songqingliang.pk).status
    assert row.locator(".tt-badge").inner_text() == Target.Status(status).label
    reviewer.screenshot(path=str(ARTIFACTS / "target-list.png"), full_page=True)

    reviewer.goto(live_server.url + reverse("admin:tracking_dashboard"))
    dashboard_row = reviewer.locator(".tt-programme tr", has=reviewer.get_by_role("link", name="送清凉", exact=True))
    expect(dashboard_row.locator(".tt-pct")).to_have_text("50%")
    reviewer.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert Target.objects.with_progress().get(pk=songqingliang.pk).completion == 50.0

    # A Jingkou reporter neither sees it listed nor reaches it by URL.
    outsider = session_as(jingkou_reporter)
    outsider.goto(target_list)
    assert outsider.locator("#result_list").get_by_text("送清凉").count() == 0
    response = outsider.goto(live_server.url + reverse("admin:tracking_target_change", args=[songqingliang.pk]))
    assert response.status == 404
    assert "12000" not in outsider.content() and "送清凉" not in outsider.content()
