"""The 公示 pages on a phone (390×844) and a desktop (1366×768), and the admin's charts and 生成通报, in Chromium.

Each page passes browser.check_screen (nothing wider than its view, no
machine text) and is photographed into artifacts/public-*.png.
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tracking import services
from tracking.models import ProgressReport

from . import evidence_files
from .browser import (  # noqa: F401  (fixtures)
    DESKTOP, PHONE, browser, check_screen, live_database, needs_chromium, role_groups, session_as,
)
from .conftest import make_plan, make_target, report

pytestmark = [needs_chromium, live_database, pytest.mark.usefixtures("role_groups", "media_root")]

D = datetime.date
S = ProgressReport.Status


@pytest.fixture
def a_year_in_nantong(settings, songqingliang, tongzhou_plan, tongzhou_reporter, nantong_reviewer):
    """Tongzhou 2024 with a long-named target, monthly approvals, a pending value and a returned report."""
    settings.TRACKING_PUBLIC_READ = True
    long_name = make_target(tongzhou_plan, number=10, code="10.1", name="“通工惠”线上普惠惠及新就业形态劳动者和一线职工",
                            target_value="100000", unit="人次")
    for month, value in ((3, 2000), (5, 1500)):
        report(songqingliang, D(2024, month, 28), value)
    # July's photo, published by the reviewer.
    photo = SimpleUploadedFile("七月送清凉.png", evidence_files.png(), content_type="image/png")
    july = report(songqingliang, D(2024, 7, 28), 2500, evidence=photo)
    services.publish_evidence(user=nantong_reviewer, report=july, public=True)
    report(long_name, D(2024, 6, 30), 64000)
    make_target(tongzhou_plan, number=6, code="6.1", name="建会率", target_value="95", unit="%", aggregation="latest")
    make_target(make_plan("320600"), number=1, code="1.1", name="市级职工服务阵地", target_value="12", unit="个")
    pending = services.create_report(user=tongzhou_reporter, target=songqingliang, period_end=D(2024, 9, 30),
                                     value=77777, note="MARKER-DRAFT-NOTE")
    services.submit_report(user=tongzhou_reporter, report=pending)
    services.return_report(user=nantong_reviewer, report=pending, note="MARKER-REVIEW-NOTE")


@pytest.mark.parametrize(("viewport", "size"), [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_the_public_pages_read_on_a_phone_and_a_desktop(browser, live_server, a_year_in_nantong, viewport, size):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport)
    page = context.new_page()
    for code in ("320000", "320600", "320612"):
        page.goto(f"{live_server.url}/gongshi/{code}/")
        text = check_screen(page, f"public-{code}-{size}")
        assert "MARKER" not in text and "77,777" not in text and "tongzhou_reporter" not in text
    # The district's charts are drawn, one per target, inside the screen.
    charts = page.locator("svg.tt-chart")
    # The published photo opens from its target, as the image it is.
    link = page.get_by_role("link", name="2024-07-28")
    assert link.bounding_box()["x"] + link.bounding_box()["width"] <= viewport["width"]
    assert page.request.get(live_server.url + link.get_attribute("href")).headers["content-type"] == "image/png"
    assert charts.count() == 3
    assert charts.first.bounding_box()["width"] <= viewport["width"]
    context.close()


def test_the_admins_charts_and_bulletin_form_fit(session_as, live_server, a_year_in_nantong, nantong_reviewer, songqingliang):
    page = session_as(nantong_reviewer)
    page.goto(live_server.url + reverse("admin:tracking_target_change", args=[songqingliang.pk]))
    check_screen(page, "public-admin-target-chart")
    assert page.locator(".tt-summary svg.tt-chart").count() == 1

    page.goto(live_server.url + reverse("admin:tracking_dashboard"))
    check_screen(page, "public-admin-dashboard-charts")
    page.click("text=生成通报")
    check_screen(page, "public-admin-bulletin-form")
    with page.expect_download() as download:
        page.click("input[type=submit]")
    assert download.value.suggested_filename.endswith(".docx")
