import datetime as dt

import pytest
from django.urls import reverse

from taizhang.core import workdays
from taizhang.core.models import CalendarDay, NumberSequence, OutboxMessage


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def calendar(db):
    workdays.seed_calendar(2024, 2026)


def test_calendar_list_filters_by_year_and_searches_dates_and_names(admin_client, calendar):
    url = reverse("admin:core_calendarday_changelist")
    page = admin_client.get(url, {"year": "2025"})
    assert page.status_code == 200
    assert page.context["cl"].result_count == CalendarDay.objects.filter(date__year=2025).count()
    assert "?year=2026" in page.content.decode()

    by_name = admin_client.get(url, {"q": "国庆节"}).context["cl"].result_count
    assert by_name == CalendarDay.objects.filter(name__contains="国庆节").count()
    assert admin_client.get(url, {"q": "2025-10-08"}).context["cl"].result_count == 1
    assert admin_client.get(url, {"q": "2025-10"}).context["cl"].result_count == (
        CalendarDay.objects.filter(date__year=2025, date__month=10).count()
    )


def test_adding_a_day_in_the_admin_changes_working_days_at_once(admin_client, calendar):
    assert workdays.is_workday(dt.date(2027, 2, 8))
    response = admin_client.post(reverse("admin:core_calendarday_add"),
                                 {"date": "2027-02-08", "kind": "holiday", "name": "春节"})
    assert response.status_code == 302
    assert not workdays.is_workday(dt.date(2027, 2, 8))


def test_sequences_and_outbox_are_read_only(admin_client, db):
    sequence = NumberSequence.objects.create(prefix="CC", year=2025, last=7)
    message = OutboxMessage.objects.create(topic="case.handed_over",
                                           available_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    for model, obj in (("numbersequence", sequence), ("outboxmessage", message)):
        assert admin_client.get(reverse(f"admin:core_{model}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:core_{model}_change", args=[obj.pk])).status_code == 200
        assert admin_client.get(reverse(f"admin:core_{model}_add")).status_code == 403
        delete_url = reverse(f"admin:core_{model}_delete", args=[obj.pk])
        assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert NumberSequence.objects.get(pk=sequence.pk).last == 7
