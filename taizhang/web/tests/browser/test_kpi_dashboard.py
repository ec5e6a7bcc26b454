"""The KPI dashboard in Chromium: a supervisor opens it over a generated district, the charts draw, a
number of the table opens exactly its cases in the ledger. A screenshot is saved as an artifact."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from taizhang.cases import synthetic
from taizhang.core import workdays
from taizhang.sla import deadlines
from taizhang.web.tests.browser.test_demo_walk import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_draws_its_charts_and_drills_down(page: Page, live_server, world, artifacts: Path):
    workdays.seed_calendar()
    deadlines.seed_default_time_limits()
    synthetic.generate(120, 7)
    sign_in(page, live_server.url, "supervisor")
    page.locator("nav.site-nav a[href='/kpis/']").click()
    expect(page.locator("#kpi-units")).to_be_visible()
    for chart in ("ranking", "trend", "category", "source", "heat"):
        expect(page.locator(f"#chart-{chart} canvas").first).to_be_attached()
    page.screenshot(path=str(artifacts / "kpi-dashboard.png"), full_page=True)
    total = page.locator("#kpi-units tfoot td[data-figure='on_time_completion'] a").last
    count = int(total.get_attribute("data-count") or "0")
    total.click()
    expect(page.locator("#ledger-table")).to_be_visible()
    expect(page.locator("#ledger-table tbody tr[data-case-id]")).to_have_count(min(count, 50))
