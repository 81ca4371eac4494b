"""报送情况 in Chromium at 1366×768: twelve months of Nantong's districts fit the screen, coloured."""

import pytest
from django.urls import reverse

from .browser import (  # noqa: F401  (fixtures)
    browser, check_screen, live_database, needs_chromium, role_groups, session_as,
)
from .test_followup_completeness import nantong_2024  # noqa: F401  (fixture: the hand-computed grid)

pytestmark = [needs_chromium, live_database, pytest.mark.usefixtures("role_groups")]


def test_the_reviewers_grid_fits_and_its_cells_lead_to_the_reports(
    session_as, live_server, nantong_2024, nantong_reviewer  # noqa: F811
):
    reviewer = session_as(nantong_reviewer)
    reviewer.goto(live_server.url + reverse("admin:tracking_completeness") + "?year=2024&as_of=2024-04-20")
    text = check_screen(reviewer, "completeness-grid")
    assert "报送率 37.5%" in text and "通州区" in text and "12月" in text
    late = reviewer.locator("tr", has_text="通州区").locator("td.tt-state-late a")
    assert late.inner_text() == "逾期报送"
    late.click()
    reviewer.wait_for_url("**/progressreport/**")
    check_screen(reviewer, "completeness-cell-reports")
    assert "2024-02-29" in reviewer.inner_text("#result_list") or "2024年2月29日" in reviewer.inner_text("#result_list")
