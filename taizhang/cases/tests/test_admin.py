import pytest
from django.test import Client

from taizhang.cases import services
from taizhang.cases.checklists import checklist_labels


@pytest.fixture
def case(world):
    return services.register_case(actor=world.inspector, source="inspection", title="供电闪断",
                                  description="无预告停电", inspection_round=world.round,
                                  internal_note="内部研判意见", reporter_name="企业联系人")


def client_for(user):
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user)
    return client


def test_supervisor_reads_the_case_and_its_timeline(world, case):
    page = client_for(world.supervisor).get(f"/admin/cases/case/{case.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert case.number in body
    assert "陈巡察" in body  # the inspector who registered it appears on the timeline
    assert "内部研判意见" in body


@pytest.mark.parametrize("persona", ["admin", "auditor", "outsider", "sibling_handler", "enterprise_user"])
def test_case_page_is_404_outside_scope(world, case, persona):
    response = client_for(getattr(world, persona)).get(f"/admin/cases/case/{case.pk}/change/")
    assert response.status_code == 404


def test_admin_manages_reference_data_but_sees_no_cases(world, case):
    client = client_for(world.admin)
    assert client.get("/admin/orgs/organisation/").status_code == 200
    assert client.get("/admin/cases/category/").status_code == 200
    listing = client.get("/admin/cases/case/")
    assert listing.status_code == 403
    assert case.number not in client.get("/admin/").content.decode()


def test_supervisor_cannot_edit_reference_data(world):
    assert client_for(world.supervisor).get("/admin/orgs/organisation/").status_code == 403


def test_reference_data_changes_are_audited(world):
    from taizhang.audit.models import AuditEvent

    client = client_for(world.admin)
    response = client.post("/admin/cases/category/add/", {"name": "融资", "sort_order": 0, "is_active": "on"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="cases.category.created")
    assert event.after["name"] == "融资"
    assert event.actor_role == "admin"


def test_invalid_credit_code_is_a_clear_form_error(world):
    client = client_for(world.admin)
    response = client.post("/admin/orgs/enterprise/add/", {
        "org": world.enterprise_org.pk, "name": "测试企业", "credit_code": "91220101MA17Q8X3X0"})
    assert response.status_code == 200
    assert "credit_code_invalid" not in response.content.decode()
    assert response.context["adminform"].form.errors["credit_code"]


@pytest.mark.parametrize("persona", ["supervisor", "unit_leader", "enterprise_user", "auditor"])
def test_people_with_a_role_sign_in_with_their_password(world, persona):
    from taizhang.testing.personas import PASSWORD

    client = Client(HTTP_X_FORWARDED_PROTO="https")
    user = getattr(world, persona)
    response = client.post("/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_user_without_any_role_cannot_sign_in(world):
    from taizhang.accounts.models import User

    User.objects.create_user(username="nobody", password="a-long-password-1")
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    response = client.post("/admin/login/?next=/admin/", {"username": "nobody", "password": "a-long-password-1"})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_admin_edits_the_acceptance_checklist(world):
    client = client_for(world.admin)
    assert client.get("/admin/cases/acceptancechecklistitem/").status_code == 200
    response = client.post("/admin/cases/acceptancechecklistitem/add/",
                           {"category": world.category.pk, "label": "线路切换完成", "position": 0, "is_active": "on"})
    assert response.status_code == 302
    assert checklist_labels(world.category) == ["线路切换完成"]
