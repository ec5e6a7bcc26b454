"""The demo story walked through the workspace in Chromium by four personas, plus a sibling unit
that must find nothing. Screenshots of the main pages are saved as artifacts."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from taizhang.core import workdays
from taizhang.sla import deadlines
from taizhang.testing import matrix
from taizhang.testing.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_world(transactional_db, world):
    # Transactional tests lose the seeded calendar and time limits after the first flush.
    workdays.seed_calendar()
    deadlines.seed_default_time_limits()
    return world


def sign_in(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.get_by_label(re.compile("用户名|Username")).fill(username)
    page.get_by_label(re.compile("密码|Password")).fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text(re.compile("我的待办|My tasks"))


def act(page: Page, action: str) -> None:
    page.locator(f"#case-actions a[data-action='{action}']").click()
    expect(page.locator("#action-form")).to_be_visible()


def submit(page: Page) -> None:
    page.locator("#action-form button[type=submit]").click()
    expect(page.locator("#case-header")).to_be_visible()


def state_of(page: Page) -> str:
    return page.locator("#case-header .state").get_attribute("data-state") or ""


def test_demo_story_through_the_browser(page: Page, live_server, demo_world, artifacts: Path, tmp_path: Path):
    world = demo_world
    base = live_server.url
    shot = 0

    def screenshot(name: str) -> None:
        nonlocal shot
        shot += 1
        page.screenshot(path=str(artifacts / f"{shot:02d}-{name}.png"), full_page=True)

    # 1. The inspector registers the finding of the inspection round and proposes the handover.
    sign_in(page, base, "inspector")
    screenshot("home-inspector")
    page.goto(f"{base}/register/")
    page.locator("a[data-channel='inspection']").click()
    page.get_by_label(re.compile("巡察轮次|Inspection round")).select_option(label=world.round.name)
    page.locator("#id_title").fill("供电频繁闪断影响企业生产")
    page.locator("#id_description").fill("企业反映园区供电不稳定，无预告闪断导致在制品报废。")
    page.locator("#id_category").select_option(str(world.category.pk))
    page.locator("#enterprise-q").fill("精工")
    page.locator("#enterprise-results button[data-enterprise]").first.click()
    expect(page.locator("#chosen-enterprises li")).to_have_count(1)
    screenshot("register-inspection")
    page.locator("#register-form button[type=submit]").click()
    expect(page.locator("#case-header")).to_be_visible()
    number = page.locator("#case-header .case-number").inner_text()
    assert number.startswith("CC-")
    assert state_of(page) == "registered"
    expect(page.locator("body")).to_contain_text("长春精工零部件有限公司")

    act(page, "assess")
    page.locator("#id_note").fill("组务会研判：属营商环境要素保障问题")
    submit(page)
    assert state_of(page) == "assessing"

    act(page, "propose_handover")
    page.locator("#id_responsible_org").select_option(str(world.district.pk))
    page.locator("#id_lead_org").select_option(str(world.lead_unit.pk))
    page.locator("#id_mode").select_option("immediate")
    page.locator("#id_responsible_leader").fill("净月区党工委副书记")
    page.locator("#id_goal").fill("彻底消除无预告闪断")
    screenshot("propose-handover")
    submit(page)
    assert state_of(page) == "awaiting_approval"
    expect(page.locator("#timeline")).to_contain_text("市委第二巡察组")

    # 2. The approving leader approves it from the home page.
    sign_in(page, base, "approver")
    expect(page.locator("a[data-tile='approve'] .count")).to_have_text("1")
    page.goto(f"{base}/cases/{number}/")
    act(page, "approve")
    page.locator("#id_note").fill("同意交办")
    submit(page)
    assert state_of(page) == "handed_over"
    expect(page.locator("#assignments")).to_contain_text("区建设发展局")

    # 3. The lead unit's leader signs for it, reports progress with a real PDF and submits it.
    sign_in(page, base, "unit_leader")
    expect(page.locator("a[data-tile='sign_for'] .count")).to_have_text("1")
    page.goto(f"{base}/cases/{number}/")
    screenshot("case-handed-over")
    act(page, "sign_for")
    submit(page)
    assert state_of(page) == "rectifying"
    expect(page.locator("#case-header .clocks")).to_contain_text(re.compile("工作日|working days"))

    act(page, "report_progress")
    pdf = tmp_path / "新建外部线路验收单.pdf"
    pdf.write_bytes(matrix.PDF_BYTES)
    page.locator("#action-form textarea[name=text]").fill("新建外部线路已完工并通过验收")
    page.locator("#action-form input[type=file]").set_input_files(str(pdf))
    screenshot("report-progress")
    page.locator("#action-form button[type=submit]").click()
    expect(page.locator("#evidence")).to_contain_text("新建外部线路验收单.pdf")
    evidence_href = page.locator("#evidence a[data-evidence]").first.get_attribute("href")
    assert evidence_href
    pdf_response = page.request.get(base + evidence_href)
    assert pdf_response.status == 200
    assert pdf_response.headers["content-type"] == "application/pdf"
    assert pdf_response.headers["x-content-type-options"] == "nosniff"

    act(page, "submit_for_acceptance")
    page.locator("#id_summary").fill("1月15日完成切改，已无闪断")
    submit(page)
    assert state_of(page) == "awaiting_acceptance"
    screenshot("case-awaiting-acceptance")

    # 4. The supervisor accepts, records the follow-up visit and closes the case.
    sign_in(page, base, "supervisor")
    page.goto(f"{base}/cases/{number}/")
    act(page, "accept")
    for met in page.locator("#action-form input[type=radio][name^=checklist_][value=true]").all():
        met.check()
    page.locator("#id_opinion").fill("整改到位，同意验收")
    screenshot("accept")
    submit(page)
    assert state_of(page) == "awaiting_followup"

    act(page, "record_followup")
    page.locator("#action-form input[name=solved][value=solved]").check()
    page.locator("#action-form input[name=satisfaction][value='5']").check()
    page.locator("#id_channel").select_option("visit")
    page.locator("#id_note").fill("企业反映再未出现断电")
    submit(page)
    assert state_of(page) == "awaiting_closure"

    act(page, "close")
    page.locator("#id_opinion").fill("同意销号")
    submit(page)
    assert state_of(page) == "closed"
    expect(page.locator("#timeline")).to_contain_text("区建设发展局")
    expect(page.locator("#timeline li")).to_have_count(10)
    screenshot("case-closed")

    page.goto(f"{base}/cases/")
    expect(page.locator("#ledger-table")).to_contain_text(number)
    # Filters refresh the results in place (htmx) and keep the query in the address bar.
    page.locator("#f-state").select_option("assessing")
    expect(page.locator("#ledger-table")).not_to_contain_text(number)
    assert "state=assessing" in page.url
    page.locator("#f-state").select_option("closed")
    expect(page.locator("#ledger-table")).to_contain_text(number)
    screenshot("ledger")
    page.goto(f"{base}/enterprises/{world.enterprise.pk}/")
    expect(page.locator("#enterprise-cases")).to_contain_text(number)
    screenshot("enterprise")

    # A handler of a sibling unit finds neither the case nor its evidence.
    sign_in(page, base, "sibling_handler")
    response = page.goto(f"{base}/cases/{number}/")
    assert response is not None
    assert response.status == 404
    assert page.request.get(base + evidence_href).status == 404
    screenshot("sibling-404")

    # On a phone the same page stays usable.
    sign_in(page, base, "supervisor")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/cases/{number}/")
    expect(page.locator("#case-header")).to_be_visible()
    screenshot("case-phone")
