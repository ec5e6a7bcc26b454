"""The inbox pages: list, unread count in the header, open (marks read, goes to the case), mark read,
mark all read, preferences; another user's notification is a 404."""

import pytest
import time_machine
from django.utils import translation

from taizhang.cases.workflow import State
from taizhang.notifications.models import Notification, NotificationPreference
from taizhang.notifications.tests.helpers import deliver
from taizhang.testing import matrix

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def leader_inbox(notify_world):
    """The lead unit's leader has notifications of two cases."""
    with time_machine.travel(matrix.MOMENT, tick=False):
        cast = matrix.Cast.own(notify_world)
        first = matrix.drive(cast, State.HANDED_OVER)
        second = matrix.drive(cast, State.HANDED_OVER, title="道路积水")
    deliver()
    return first, second


def login(client, user):
    client.force_login(user)
    return client


def test_the_inbox_lists_own_notifications_with_the_unread_count(client, notify_world, leader_inbox):
    first, second = leader_inbox
    with translation.override("en"):
        response = login(client, notify_world.unit_leader).get("/inbox/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert first.number in page
    assert second.number in page
    assert response.context["inbox_unread_count"] == 2
    assert [n.recipient_id for n in response.context["items"]] == [notify_world.unit_leader.pk] * 2


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/inbox/")
    assert response.status_code == 302
    assert "next=/inbox/" in response["Location"]


def test_opening_a_notification_marks_it_read_and_goes_to_the_case(client, notify_world, leader_inbox):
    first, _second = leader_inbox
    note = Notification.objects.get(recipient=notify_world.unit_leader, case=first)
    response = login(client, notify_world.unit_leader).get(f"/inbox/{note.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{first.number}/"
    note.refresh_from_db()
    assert note.read_at is not None
    assert client.get("/inbox/").context["inbox_unread_count"] == 1


def test_mark_one_and_mark_all_read(client, notify_world, leader_inbox):
    client = login(client, notify_world.unit_leader)
    one = Notification.objects.filter(recipient=notify_world.unit_leader).earliest("pk")
    assert client.post(f"/inbox/{one.pk}/read/").status_code == 302
    one.refresh_from_db()
    assert one.read_at is not None
    assert client.get(f"/inbox/{one.pk}/read/").status_code == 405  # only POST changes anything
    assert client.post("/inbox/read-all/").status_code == 302
    assert not Notification.objects.filter(recipient=notify_world.unit_leader, read_at__isnull=True).exists()
    # Others' unread notifications are untouched.
    assert Notification.objects.filter(recipient=notify_world.co_leader, read_at__isnull=True).count() == 2


def test_another_users_notification_is_a_404(client, notify_world, leader_inbox):
    theirs = Notification.objects.filter(recipient=notify_world.co_leader).earliest("pk")
    client = login(client, notify_world.unit_leader)
    assert client.get(f"/inbox/{theirs.pk}/").status_code == 404
    assert client.post(f"/inbox/{theirs.pk}/read/").status_code == 404
    assert client.get("/inbox/999999/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert theirs.pk not in [n.pk for n in client.get("/inbox/").context["items"]]


def test_unread_filter_and_paging(client, notify_world, leader_inbox, monkeypatch):
    from taizhang.notifications import selectors

    client = login(client, notify_world.unit_leader)
    first = Notification.objects.filter(recipient=notify_world.unit_leader).earliest("pk")
    client.post(f"/inbox/{first.pk}/read/")
    assert [n.pk for n in client.get("/inbox/?unread=1").context["items"]] != []
    assert first.pk not in [n.pk for n in client.get("/inbox/?unread=1").context["items"]]
    monkeypatch.setattr(selectors, "PAGE_SIZE", 1)
    page = client.get("/inbox/")
    assert len(page.context["items"]) == 1
    assert page.context["next_before"] is not None
    older = client.get(f"/inbox/?before={page.context['next_before']}")
    assert [n.pk for n in older.context["items"]] == [first.pk]
    assert client.get("/inbox/?before=nonsense").status_code == 200  # malformed paging: the first page


def test_preferences_page_saves_choices(client, notify_world):
    client = login(client, notify_world.handler)
    page = client.get("/inbox/preferences/")
    assert page.status_code == 200
    assert {r["topic"]: r["email"] for r in page.context["rows"]}["case.escalated"] is True
    response = client.post("/inbox/preferences/", {"email": ["case.overdue", "case.reminder"]})
    assert response.status_code == 200
    assert response.context["saved"]
    chosen = dict(NotificationPreference.objects.filter(user=notify_world.handler).values_list("topic", "email"))
    assert chosen["case.overdue"] is True
    assert chosen["case.reminder"] is True
    assert chosen["case.escalated"] is False


def test_preferences_refuse_unknown_events(client, notify_world):
    client = login(client, notify_world.handler)
    response = client.post("/inbox/preferences/", {"email": ["case.overdue", "<script>"]})
    assert response.status_code == 422
    assert not NotificationPreference.objects.filter(user=notify_world.handler).exists()


def test_the_header_count_is_absent_for_anonymous_pages(rf):
    from django.contrib.auth.models import AnonymousUser

    from taizhang.notifications.context_processors import inbox

    request = rf.get("/")
    request.user = AnonymousUser()
    assert inbox(request) == {"inbox_unread_count": None}
