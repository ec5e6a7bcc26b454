"""A request made in the page (htmx) that fails shows a notice instead of nothing happening."""

import re

import pytest
from playwright.sync_api import Page, Route, expect

from taizhang.web.tests.browser.test_demo_walk import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LEDGER_QUERY = re.compile(r"/cases/\?")


def test_a_failed_ledger_request_says_what_happened_and_the_next_success_clears_it(page: Page, live_server, world):
    sign_in(page, live_server.url, "supervisor")
    page.goto(f"{live_server.url}/cases/")
    notice = page.locator("#request-error")
    expect(notice).to_be_hidden()
    source = page.locator("#f-source")

    def server_error(route: Route) -> None:
        route.fulfill(status=500, headers={"X-Request-ID": "req-browser-500"}, body="<h1>500</h1>")

    page.route(LEDGER_QUERY, server_error)
    source.select_option("hotline")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("req-browser-500")
    expect(notice).to_contain_text("系统管理员")
    page.unroute(LEDGER_QUERY)

    page.route(LEDGER_QUERY, lambda route: route.abort("connectionreset"))
    source.select_option("online_report")
    expect(notice).to_contain_text("网络")
    page.unroute(LEDGER_QUERY)

    page.route(LEDGER_QUERY, lambda route: route.fulfill(status=403, body="<h1>403</h1>"))
    source.select_option("hotline")
    expect(notice).to_contain_text("刷新页面")
    page.unroute(LEDGER_QUERY)

    source.select_option("online_report")
    expect(notice).to_be_hidden()
    expect(page).to_have_url(re.compile(r"source=online_report"))
