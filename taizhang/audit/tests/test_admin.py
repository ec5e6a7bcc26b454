import pytest
from django.urls import reverse

from taizhang.audit.models import AuditEvent
from taizhang.audit.tests.tampering import sql, triggers_lifted

CHANGELIST = "admin:audit_auditevent_changelist"


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def auditor_client(client, world, ten_events):
    client.force_login(world.auditor)
    return client


def test_auditor_browses_filters_and_searches_the_trail(auditor_client):
    url = reverse(CHANGELIST)
    page = auditor_client.get(url)
    assert page.status_code == 200
    assert page.context["cl"].result_count == 10
    assert "CC-2022-0004" in page.content.decode()
    assert auditor_client.get(url, {"action": "case.assessed"}).context["cl"].result_count == 3
    assert auditor_client.get(url, {"object_type": "case"}).context["cl"].result_count == 10
    found = auditor_client.get(url, {"q": "CC-2022-0007"}).context["cl"].result_list
    assert [e.seq for e in found] == [7]
    assert auditor_client.get(url, {"q": "CC-2022"}).context["cl"].result_count == 0  # exact ids only


def test_auditor_reads_an_event_but_cannot_change_add_or_delete(auditor_client):
    event = AuditEvent.objects.get(seq=4)
    change_url = reverse("admin:audit_auditevent_change", args=[event.pk])
    page = auditor_client.get(change_url)
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert event.hash in page.content.decode()
    assert auditor_client.post(change_url, {"object_repr": "forged"}).status_code == 403
    assert auditor_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    delete_url = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert auditor_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.get(seq=4).object_repr == event.object_repr
    assert AuditEvent.objects.count() == 10


def test_superuser_reads_but_cannot_write(client, ten_events, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="x-Long-pass-1"))
    assert client.get(reverse(CHANGELIST)).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    event = AuditEvent.objects.get(seq=1)
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.count() == 10


@pytest.mark.parametrize("persona", ["admin", "supervisor", "viewer"])
def test_other_roles_do_not_see_the_trail(client, world, ten_events, persona):
    client.force_login(getattr(world, persona))
    page = client.get(reverse(CHANGELIST))
    assert page.status_code in (302, 403)
    assert "CC-2022-0004" not in page.content.decode()
    index = client.get(reverse("admin:index"))
    assert reverse(CHANGELIST) not in index.content.decode()
    verify = client.post(reverse("admin:audit_auditevent_verify"))
    assert verify.status_code in (302, 403)
    assert verify.get("Location", "") != reverse(CHANGELIST)


def test_auditor_verifies_the_chain_from_the_admin(auditor_client):
    url = reverse("admin:audit_auditevent_verify")
    assert auditor_client.get(url).status_code == 405
    page = auditor_client.post(url, follow=True)
    assert page.redirect_chain == [(reverse(CHANGELIST), 302)]
    assert [str(m) for m in page.context["messages"]] == ["OK: 10 events verified."]

    with triggers_lifted():
        sql("UPDATE audit_auditevent SET object_repr = 'x' WHERE seq = 5")
    messages = [str(m) for m in auditor_client.post(url, follow=True).context["messages"]]
    assert len(messages) == 1
    assert "#5" in messages[0]
    assert "[hash_mismatch]" in messages[0]


def test_changelist_offers_the_verify_button(auditor_client):
    assert reverse("admin:audit_auditevent_verify") in auditor_client.get(reverse(CHANGELIST)).content.decode()
