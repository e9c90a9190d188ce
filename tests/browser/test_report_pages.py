"""In real Chromium: a supervisor follows the dashboard's link to the monthly report and prints
it (no toolbar, no navigation, A4); anybody reaches the service-quality page from the footer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from onething.accounts.models import Role
from tests.browser.test_apply_journey import sign_in, with_password
from tests.supervision.conftest import staff_with

pytestmark = pytest.mark.browser


@pytest.fixture
def base(transactional_db, loaded_catalog, live_server):
    return live_server.url


def test_a_supervisor_opens_the_monthly_report_from_the_dashboard_and_prints_it(page, base):
    supervisor = with_password(staff_with(Role.SUPERVISOR, region="350200"))
    sign_in(page, base, supervisor.username)
    page.goto(f"{base}/supervision/?from=2025-09&to=2025-10&region=350200")
    page.click("[data-testid=report-links] a")
    page.wait_for_selector("[data-testid=monthly-report]")
    assert page.url.endswith("/supervision/reports/350200/2025-10/")
    assert page.locator("[data-testid=report-title]").inner_text() == "Xiamen · 2025-10"
    assert page.locator("[data-testid=report-toolbar]").is_visible()

    page.emulate_media(media="print")
    # The print style applies with the next style recalculation: wait for it, not for a poll.
    expect(page.locator("[data-testid=report-toolbar]")).to_be_hidden()
    expect(page.locator("[data-testid=report-headlines]")).to_be_visible()
    pdf = page.pdf(prefer_css_page_size=True)
    # Headlines and tables on the first page, the reductions and the hotline after a break.
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 2


def test_anybody_reaches_the_service_quality_page_from_the_footer(page, base):
    page.goto(f"{base}/")
    page.click("[data-testid=footer-service-quality]")
    page.wait_for_selector("[data-testid=service-quality]")
    assert page.locator("h1").inner_text() == "Service quality"
    row = page.locator("[data-thing=newborn]")
    assert "Too few applications to show" in row.inner_text()
