"""Keyboard access and the enterprise picker (htmx + Alpine) in Chromium."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from taizhang.core.credit_code import make_credit_code
from taizhang.web.tests.browser.test_demo_walk import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_skip_link_is_the_first_stop_of_the_keyboard(page: Page, live_server, world):
    sign_in(page, live_server.url, "supervisor")
    page.goto(f"{live_server.url}/register/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    expect(page.locator(".skip-link")).to_be_in_viewport()
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")


def test_enterprise_picker_creates_an_enterprise_with_a_valid_code(page: Page, live_server, world, artifacts: Path):
    base = live_server.url
    sign_in(page, base, "inspector")
    page.goto(f"{base}/register/inspection/")
    page.locator("#new-enterprise summary").click()
    page.locator("#id_new-name").fill("长春新材料科技有限公司")
    good = make_credit_code("91", "220104", "MA1XK3P7")
    page.locator("#id_new-credit_code").fill(good[:-1] + ("0" if good[-1] != "0" else "1"))
    page.locator("#new-enterprise-form button[type=submit]").click()
    expect(page.locator("#new-enterprise-form .field-error")).to_contain_text(re.compile("校验|check"))
    page.screenshot(path=str(artifacts / "enterprise-invalid-code.png"), full_page=True)
    page.locator("#id_new-credit_code").fill(good)
    page.locator("#new-enterprise-form button[type=submit]").click()
    expect(page.locator("#chosen-enterprises li")).to_contain_text("长春新材料科技有限公司")
    # The new enterprise is now found by the picker, by its code.
    page.locator("#enterprise-q").fill(good[:12])
    expect(page.locator("#enterprise-results")).to_contain_text("长春新材料科技有限公司")


def test_a_stale_form_keeps_the_input_and_shows_the_fresh_case(page: Page, live_server, world):
    from taizhang.cases import services
    from taizhang.cases.workflow import State
    from taizhang.core import workdays
    from taizhang.sla import deadlines
    from taizhang.testing import matrix

    workdays.seed_calendar()
    deadlines.seed_default_time_limits()
    case = matrix.drive(matrix.Cast.own(world), State.AWAITING_APPROVAL)
    base = live_server.url
    sign_in(page, base, "approver")
    page.goto(f"{base}/cases/{case.number}/actions/approve/")
    page.locator("#id_note").fill("同意交办，请抓紧落实")
    # Meanwhile the proposal is rejected and proposed again: same state, newer version.
    case = services.reject_handover(case, actor=world.approver, reason="补充材料")
    services.propose_handover(case, actor=world.supervisor, responsible_org=world.district,
                              lead_org=world.lead_unit, mode="deadline")
    page.locator("#action-form button[type=submit]").click()
    expect(page.locator("#conflict")).to_be_visible()
    expect(page.locator("#id_note")).to_have_value("同意交办，请抓紧落实")
    expect(page.locator("#case-header")).to_contain_text(re.compile("版本|Version"))
    page.locator("#action-form button[type=submit]").click()
    expect(page.locator("#case-header .state")).to_have_attribute("data-state", "handed_over")
