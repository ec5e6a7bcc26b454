import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse

from taizhang.audit.models import AuditEvent
from taizhang.cases import services
from taizhang.core import outbox
from taizhang.core.models import OutboxMessage
from taizhang.notifications import webhooks
from taizhang.notifications.models import WebhookDelivery, WebhookEndpoint
from taizhang.testing import matrix

MOMENT = matrix.MOMENT


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it is sent and answers `status`."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append((self.path, dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if receiver.status < 300 else b"nope")

            def log_message(self, format, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/taizhang"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def closed_port_url() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/nobody-listens"


def endpoint(url: str, events: list[str], *, name: str = "省平台", active: bool = True) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(name=name, url=url, events=events, is_active=active)


def register(world, title: str = "供电频繁闪断"):
    return services.register_case(actor=world.supervisor, source="hotline", title=title,
                                  description="企业反映无预告停电闪断。", reporter_name="吴总",
                                  reporter_contact="13800000000")


# --- signing ---------------------------------------------------------------------------------------

def test_signature_verifies_and_fails_when_tampered():
    body = webhooks.encode({"event": "case.created", "data": {"case": "CC-2024-0001"}})
    now = dt.datetime(2024, 3, 12, 2, 0, tzinfo=dt.UTC)
    stamp = int(now.timestamp())
    header = webhooks.signature_header("s3cret", stamp, body)
    assert header.startswith(f"t={stamp},v1=")
    assert webhooks.verify_signature("s3cret", header, body, now=now)
    assert not webhooks.verify_signature("s3cret", header, body.replace(b"0001", b"0002"), now=now)
    assert not webhooks.verify_signature("other", header, body, now=now)
    forged_time = header.replace(f"t={stamp}", f"t={stamp + 1}")
    assert not webhooks.verify_signature("s3cret", forged_time, body, now=now)
    # A replay long after the fact is refused even with a valid signature.
    assert not webhooks.verify_signature("s3cret", header, body, now=now + dt.timedelta(hours=1))
    for malformed in ("", "v1=abc", "t=notanumber,v1=abc", f"t={stamp}"):
        assert not webhooks.verify_signature("s3cret", malformed, body, now=now)


def test_backoff_grows_exponentially_and_is_capped():
    delays = [webhooks.retry_delay(n).total_seconds() for n in range(1, 6)]
    assert delays == [30, 60, 120, 240, 480]
    assert webhooks.retry_delay(40) == dt.timedelta(hours=6)


def test_event_catalogue_covers_the_workflow():
    for event in ("case.created", "case.handed_over", "case.closed", "case.overdue", "case.escalated",
                  "case.dismissed", "case.rechecked"):
        assert event in webhooks.EVENT_TYPES


# --- fan-out through the outbox --------------------------------------------------------------------

def test_committed_transition_gives_one_delivery_per_subscribed_endpoint(world, receiver):
    with time_machine.travel(MOMENT, tick=False):
        both = endpoint(receiver.url, ["case.created", "case.assessment_started"], name="both")
        closed_only = endpoint(receiver.url, ["case.closed"], name="closed only")
        inactive = endpoint(receiver.url, ["case.assessment_started"], name="inactive", active=False)
        case = register(world)
        services.assess_case(case, actor=world.supervisor, note="研判")
        assert WebhookDelivery.objects.count() == 0  # nothing happens in the request itself
        assert receiver.requests == []
        outbox.deliver_pending()
        rows = WebhookDelivery.objects.filter(endpoint=both)
        assert sorted(rows.values_list("event", flat=True)) == ["case.assessment_started", "case.created"]
        assert not WebhookDelivery.objects.filter(endpoint__in=[closed_only, inactive]).exists()
        # A handler retried on the same outbox rows (e.g. another handler failed) adds nothing.
        for message in OutboxMessage.objects.all():
            webhooks.fan_out(message)
        outbox.deliver_pending()
        assert WebhookDelivery.objects.count() == 2
    assert {r.status for r in rows} == {WebhookDelivery.Status.DELIVERED}
    assert sorted(headers["X-Taizhang-Event"] for _, headers, _ in receiver.requests) == [
        "case.assessment_started", "case.created"]


def test_rolled_back_transition_gives_no_delivery(world, receiver):
    endpoint(receiver.url, ["case.assessment_started"])
    case = register(world)

    def transition_then_fail() -> None:
        with transaction.atomic():
            services.assess_case(case, actor=world.supervisor, note="研判")
            raise RuntimeError("the request failed after the transition")

    with pytest.raises(RuntimeError):
        transition_then_fail()
    outbox.deliver_pending()
    assert not WebhookDelivery.objects.exists()
    assert receiver.requests == []


def test_the_test_server_receives_a_signed_post_without_personal_data(world, receiver):
    hook = endpoint(receiver.url, ["case.created"])
    with time_machine.travel(MOMENT, tick=False):
        case = register(world)
        outbox.deliver_pending()
        assert len(receiver.requests) == 1
        path, headers, body = receiver.requests[0]
        assert path == "/hooks/taizhang"
        assert headers["Content-Type"].startswith("application/json")
        assert webhooks.verify_signature(hook.secret, headers["X-Taizhang-Signature"], body)
    delivery = WebhookDelivery.objects.get()
    assert headers["X-Taizhang-Delivery"] == str(delivery.delivery_id)
    payload = json.loads(body)
    assert payload["event"] == "case.created"
    assert payload["data"] == {"case": case.number, "state": "registered"}
    assert payload["occurred_at"].startswith("2024-03-12T02:00:00")
    text = body.decode("utf-8")
    for personal in ("吴总", "13800000000", "actor", str(world.supervisor.pk) + ","):
        assert personal not in text
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert delivery.response_status == 200
    assert delivery.response_body == "ok"
    assert delivery.attempts == 1


def test_escalation_payloads_keep_only_the_whitelisted_facts(world, receiver):
    endpoint(receiver.url, ["case.escalated"])
    with time_machine.travel(MOMENT, tick=False):
        outbox.enqueue("case.escalated", {
            "case": "CC-2024-0009", "level": 2, "clock": "completion", "due_at": "2024-03-12T10:00:00+08:00",
            "reason": "企业负责人张某反映多次", "actor": world.supervisor.pk, "target_org_ids": [1, 2],
            "escalation": 7})
        outbox.deliver_pending()
    [(_, _, body)] = receiver.requests
    assert json.loads(body)["data"] == {"case": "CC-2024-0009", "level": 2, "clock": "completion",
                                        "due_at": "2024-03-12T10:00:00+08:00"}


def test_failures_retry_with_backoff_and_stop_after_max_attempts(world, receiver, settings):
    settings.TAIZHANG_WEBHOOK_MAX_ATTEMPTS = 3
    receiver.status = 500
    endpoint(receiver.url, ["case.created"])
    with time_machine.travel(MOMENT, tick=False) as traveller:
        register(world)
        outbox.deliver_pending()  # attempt 1
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, 500)
        assert delivery.error == "HTTP 500"
        assert delivery.next_attempt_at == MOMENT + dt.timedelta(seconds=30)
        traveller.shift(dt.timedelta(seconds=20))
        assert webhooks.deliver_due() == 0  # not due yet
        assert len(receiver.requests) == 1
        traveller.shift(dt.timedelta(seconds=11))
        webhooks.deliver_due()  # attempt 2, 31 s after the first
        delivery.refresh_from_db()
        assert delivery.attempts == 2
        assert delivery.next_attempt_at == MOMENT + dt.timedelta(seconds=31 + 60)
        # The retry is scheduled as a deferred `deliver_webhooks` task for that moment.
        from django_tasks_db.models import DBTaskResult

        retries = DBTaskResult.objects.filter(task_path="taizhang.notifications.webhooks.deliver_webhooks")
        assert delivery.next_attempt_at in set(retries.values_list("run_after", flat=True))
        traveller.shift(dt.timedelta(seconds=60))
        webhooks.deliver_due()  # attempt 3: the last one
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("failed", 3)
        assert delivery.next_attempt_at is None
        traveller.shift(dt.timedelta(days=1))
        webhooks.deliver_due()
        outbox.deliver_pending()
    assert len(receiver.requests) == 3
    delivery.refresh_from_db()
    assert delivery.attempts == 3


def test_a_failed_attempt_then_success(world, receiver):
    receiver.status = 503
    endpoint(receiver.url, ["case.created"])
    with time_machine.travel(MOMENT, tick=False) as traveller:
        register(world)
        outbox.deliver_pending()
        receiver.status = 204
        traveller.shift(dt.timedelta(seconds=30))
        assert webhooks.deliver_webhooks.call() == 1  # the task the retry is scheduled as
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.error) == ("delivered", 2, 204, "")
    assert delivery.delivered_at == MOMENT + dt.timedelta(seconds=30)


def test_an_unreachable_endpoint_is_recorded_and_retried(world):
    endpoint(closed_port_url(), ["case.created"])
    with time_machine.travel(MOMENT, tick=False):
        register(world)
        outbox.deliver_pending()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.response_status is None
    assert "ConnectionError" in delivery.error
    assert delivery.next_attempt_at == MOMENT + dt.timedelta(seconds=30)


def test_a_deactivated_endpoint_gets_nothing_more(world, receiver):
    hook = endpoint(receiver.url, ["case.created"])
    with time_machine.travel(MOMENT, tick=False):
        register(world)
        for message in OutboxMessage.objects.all():
            webhooks.fan_out(message)  # fanned out while active …
        WebhookEndpoint.objects.filter(pk=hook.pk).update(is_active=False)  # … deactivated before sending
        webhooks.deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.error) == ("failed", "endpoint deactivated")
    assert receiver.requests == []


def test_a_delivery_held_by_another_worker_is_not_sent_twice(world, receiver):
    endpoint(receiver.url, ["case.created"])
    with time_machine.travel(MOMENT, tick=False):
        register(world)
        for message in OutboxMessage.objects.all():
            webhooks.fan_out(message)
        stale = WebhookDelivery.objects.select_related("endpoint").get()
        other = WebhookDelivery.objects.select_related("endpoint").get()
        assert webhooks.attempt(other) is True  # the other worker wins the claim and sends
        assert webhooks.attempt(stale) is False  # this one's compare-and-swap fails
    assert len(receiver.requests) == 1


# --- admin -----------------------------------------------------------------------------------------

def test_admins_register_endpoints_and_the_audit_trail_never_holds_the_secret(world, client, receiver):
    client.force_login(world.admin)
    response = client.post(reverse("admin:notifications_webhookendpoint_add"), {
        "name": "12345 平台", "url": receiver.url, "events": ["case.created", "case.closed"], "is_active": "on",
        "secret": "very-secret-value",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    hook = WebhookEndpoint.objects.get()
    assert hook.events == ["case.created", "case.closed"]
    assert hook.created_by == world.admin
    event = AuditEvent.objects.get(action="webhook_endpoint.created")
    assert "very-secret-value" not in json.dumps(event.after, ensure_ascii=False)
    assert event.after["url"] == receiver.url
    response = client.post(reverse("admin:notifications_webhookendpoint_add"), {
        "name": "bad", "url": receiver.url, "events": ["case.nonsense"], "secret": "x"})
    assert response.status_code == 200  # the form refuses an unknown event
    response = client.post(reverse("admin:notifications_webhookendpoint_add"), {
        "name": "ftp", "url": "ftp://127.0.0.1/x", "events": ["case.created"], "secret": "x"})
    assert response.status_code == 200  # and a scheme requests cannot POST to
    assert WebhookEndpoint.objects.count() == 1
    assert client.get(reverse("admin:notifications_webhookdelivery_changelist")).status_code == 200


@pytest.mark.parametrize("persona", ["supervisor", "handler", "auditor"])
def test_other_roles_cannot_manage_webhooks(world, client, persona):
    client.force_login(getattr(world, persona))
    assert client.get(reverse("admin:notifications_webhookendpoint_changelist")).status_code == 403
    assert client.get(reverse("admin:notifications_webhookendpoint_add")).status_code == 403
