"""Registration by intake channel, the enterprise picker and enterprise creation, the enterprise page,
language switching."""

import pytest
from django.urls import reverse

from taizhang.audit.models import AuditEvent
from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.core.credit_code import make_credit_code
from taizhang.orgs import services as org_services
from taizhang.orgs.models import Enterprise, LiaisonAssignment
from taizhang.testing import matrix

pytestmark = pytest.mark.django_db
NEW_CODE = make_credit_code("91", "220104", "MA1XK3P7")


def test_inspection_finding_needs_a_round_of_the_inspectors_group(login, world, at_moment):
    client = login(world.inspector)
    url = reverse("web:register", args=["inspection"])
    missing = client.post(url, {"title": "供电闪断", "description": "无预告闪断"})
    assert missing.status_code == 422
    assert "inspection_round" in missing.context["form"].errors
    response = client.post(url, {"title": "供电闪断", "description": "无预告闪断", "inspection_round": world.round.pk,
                                 "enterprises": [world.enterprise.pk], "category": world.category.pk})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.source == "inspection"
    assert case.inspection_round == world.round
    assert list(case.enterprises.all()) == [world.enterprise]
    assert response["Location"] == reverse("web:case", args=[case.number])


def test_hotline_transfer_requires_the_ticket_and_keeps_it(login, world, at_moment):
    client = login(world.supervisor)
    url = reverse("web:register", args=["hotline"])
    assert client.post(url, {"title": "停电", "description": "企业来电"}).status_code == 422
    response = client.post(url, {"title": "停电", "description": "企业来电", "hotline_ticket": "GD2024031200123",
                                 "reporter_name": "吴先生", "reporter_anonymous": "on"})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.source == "hotline"
    assert "GD2024031200123" in case.remarks
    assert case.reporter_anonymous


def test_liaison_registers_only_for_the_portfolio(login, world, at_moment):
    other = org_services.create_enterprise(actor=world.supervisor, name="长春某光电有限公司", credit_code=NEW_CODE)
    client = login(world.liaison)
    url = reverse("web:register", args=["liaison"])
    outside = client.post(url, {"title": "融资难", "description": "需对接贷款", "enterprises": [other.pk]})
    assert outside.status_code == 422
    assert Case.objects.count() == 0
    inside = client.post(url, {"title": "融资难", "description": "需对接贷款", "enterprises": [world.enterprise.pk]})
    assert inside.status_code == 302
    assert Case.objects.get().source == "liaison"


def test_enterprise_demand_is_for_the_users_own_enterprise(login, world, at_moment):
    response = login(world.enterprise_user).post(reverse("web:register", args=["enterprise"]), {
        "title": "供电不稳", "description": "车间频繁断电", "enterprises": [world.enterprise.pk]})
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.source == "enterprise"
    assert list(case.enterprises.all()) == [world.enterprise]


def test_enterprise_picker_searches_name_and_credit_code_within_scope(login, world, at_moment):
    by_name = login(world.supervisor).get(reverse("web:enterprise_search"), {"q": "精工"})
    assert [e.pk for e in by_name.context["results"]] == [world.enterprise.pk]
    by_code = login(world.supervisor).get(reverse("web:enterprise_search"), {"q": world.enterprise.credit_code[:10]})
    assert [e.pk for e in by_code.context["results"]] == [world.enterprise.pk]
    # A handler of a sibling unit has no case of the enterprise: the picker finds nothing for them.
    assert login(world.sibling_handler).get(reverse("web:enterprise_search"), {"q": "精工"}).context["results"] == []
    assert login(world.admin).get(reverse("web:enterprise_search"), {"q": "精工"}).context["results"] == []


def test_creating_an_enterprise_validates_the_credit_code(login, world, at_moment):
    client = login(world.inspector)
    bad = client.post(reverse("web:enterprise_create"), {"new-name": "某公司", "new-credit_code": NEW_CODE[:-1] + "0"})
    assert bad.status_code == 422
    assert "credit_code" in bad.context["enterprise_form"].errors
    assert not Enterprise.objects.filter(name="某公司").exists()
    good = client.post(reverse("web:enterprise_create"), {"new-name": "某公司", "new-credit_code": NEW_CODE.lower()})
    assert good.status_code == 201
    created = Enterprise.objects.get(name="某公司")
    assert created.credit_code == NEW_CODE
    assert AuditEvent.objects.filter(action="enterprise.created", object_id=str(created.pk)).count() == 1
    duplicate = client.post(reverse("web:enterprise_create"), {"new-name": "另一家", "new-credit_code": NEW_CODE})
    assert duplicate.status_code == 422


def test_only_registering_roles_create_enterprises(login, world, at_moment):
    response = login(world.handler).post(reverse("web:enterprise_create"),
                                         {"new-name": "某公司", "new-credit_code": NEW_CODE})
    assert response.status_code == 403
    assert not Enterprise.objects.filter(name="某公司").exists()


def test_a_liaison_who_adds_an_enterprise_takes_it_into_the_portfolio(world, at_moment):
    created = org_services.create_enterprise(actor=world.liaison, name="新企业", credit_code=NEW_CODE)
    assert LiaisonAssignment.objects.filter(liaison=world.liaison, enterprise=created).exists()


def test_enterprise_page_shows_profile_and_visible_cases(login, world, cast):
    case = matrix.drive(cast, State.RECTIFYING)
    hidden = matrix.drive(cast, State.ASSESSING)
    page = login(world.unit_leader).get(reverse("web:enterprise", args=[world.enterprise.pk]))
    assert page.status_code == 200
    numbers = [c.number for c in page.context["cases"]]
    assert case.number in numbers
    assert hidden.number not in numbers
    assert world.enterprise.credit_code in page.content.decode()
    assert login(world.sibling_handler).get(reverse("web:enterprise", args=[world.enterprise.pk])).status_code == 404


def test_language_switch_and_chinese_dates(client, login, world, cast):
    case = matrix.drive(cast, State.REGISTERED)
    login(world.supervisor)
    html = client.get(reverse("web:case", args=[case.number])).content.decode()
    assert f"{case.found_on.year}年{case.found_on.month}月{case.found_on.day}日" in html
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(reverse("web:case", args=[case.number])).content.decode()
    assert 'lang="en"' in english
    assert "The problem" in english


@pytest.mark.parametrize(("persona", "channels"), [
    ("inspector", ["inspection", "enterprise"]),
    ("supervisor", ["inspection", "enterprise", "hotline"]),
    ("liaison", ["liaison"]),
    ("enterprise_user", ["enterprise"]),
    ("handler", []),
])
def test_registration_channels_follow_the_role(login, world, persona, channels):
    client = login(getattr(world, persona))
    page = client.get(reverse("web:register_choose"))
    assert [key for key, _label in page.context["channels"]] == channels
    for channel in ("inspection", "enterprise", "liaison", "hotline"):
        expected = 200 if channel in channels else 404
        assert client.get(reverse("web:register", args=[channel])).status_code == expected
