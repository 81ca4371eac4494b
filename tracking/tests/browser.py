"""Driving Debian's Chromium through the admin: the fixtures and the checks every screen test makes.

Test modules import the fixtures (browser, session_as) and call
check_screen(page, name) on every page they open: nothing wider than its
view, no "None", "Deleted" or ".0000" a clerk would see, and a screenshot in
artifacts/ for people to look at.
"""

import importlib
import os
import re
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests",
)
# The live server needs committed data, so these tests are transactional. Naming every app as
# available makes Django create the content types and permissions when a test starts and flush
# without recreating them when it ends, as after a serialized_rollback test: the next test finds
# the database as it expects whichever kind it is. (serialized_rollback here instead collided with
# the content types a plain transactional test's flush recreates, depending on the order of the run.)
live_database = pytest.mark.django_db(
    transaction=True, available_apps=[config.name for config in django_apps.get_app_configs()]
)


@pytest.fixture
def role_groups(transactional_db):
    """The role groups of migration 0002, which a flushed database lacks."""
    from django.contrib.auth.models import Group, Permission

    migration = importlib.import_module("tracking.migrations.0002_role_groups")
    for name, codenames in migration.ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="tracking", codename__in=codenames))
    # And what the follow-up's migration (issue 16, whatever its number) adds to them.
    followup = next((Path(__file__).resolve().parents[1] / "migrations").glob("*_followup.py"))
    extra = importlib.import_module(f"tracking.migrations.{followup.stem}").FOLLOWUP_PERMISSIONS
    for name, codenames in extra.items():
        Group.objects.get(name=name).permissions.add(
            *Permission.objects.filter(content_type__app_label="tracking", codename__in=codenames)
        )


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
    """session_as(user, viewport=DESKTOP) → a page logged in to the admin through the login form, in Chinese,
    in a browser set to China's time zone, as a clerk's is."""

    def login(user, viewport=DESKTOP):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server.url + reverse("admin:login"))
        page.fill("#id_username", user.username)
        page.fill("#id_password", "pw-" + user.username)
        page.click("input[type=submit]")
        page.wait_for_url(re.compile(r"/admin/$"))
        return page

    return login


# Every box that scrolls sideways, and the document itself, with what is wider than it;
# and every badge that is cut.
OVERFLOW = """() => {
  const found = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth) found.push(`document ${root.scrollWidth} > ${root.clientWidth}`);
  for (const box of document.querySelectorAll("body *")) {
    const style = getComputedStyle(box);
    if (["auto", "scroll"].includes(style.overflowX) && box.scrollWidth > box.clientWidth) {
      found.push(`${box.tagName.toLowerCase()}#${box.id}.${box.className} ${box.scrollWidth} > ${box.clientWidth}`);
    }
  }
  for (const badge of document.querySelectorAll(".tt-badge")) {
    const rect = badge.getBoundingClientRect();
    if (badge.scrollWidth > badge.clientWidth || rect.right > root.clientWidth) {
      found.push(`badge "${badge.textContent}" cut`);
    }
  }
  return found;
}"""
# What a clerk must never read: Python's None, simple-history's "Deleted 用户", a stored 12000.0000.
MACHINE_TEXT = re.compile(r"\bNone\b|Deleted|\.0000")


def check_screen(page, name):
    """The checks every screen passes, then its screenshot as artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    too_wide = page.evaluate(OVERFLOW)
    assert too_wide == [], f"{name}: wider than the screen: {too_wide}"
    visible = page.inner_text("body")
    assert MACHINE_TEXT.findall(visible) == [], f"{name}: machine text on the page"
    return visible
