"""Writers of the inbox: delivery of outbox messages into notifications, read marks, e-mail preferences
and the e-mail sender.

Exactly once: `notify` runs inside the outbox worker's transaction for one claimed message (see
taizhang.core.outbox.deliver_pending); a rolled-back transition left no message, a crash before the
delivery commits leaves the message pending, and (outbox message, recipient) is unique, so a message
delivered twice adds nothing. E-mail is sent after that commit by `send_pending_emails`, which claims
rows with SKIP LOCKED; SMTP being outside the database, a crash between sending and recording can
repeat one e-mail (at least once), never lose it.
"""

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from taizhang.accounts.models import User
from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.core import clock, outbox
from taizhang.core.errors import NotFound, ValidationFailed
from taizhang.core.models import OutboxMessage
from taizhang.notifications import topics
from taizhang.notifications.models import Notification, NotificationPreference
from taizhang.notifications.recipients import recipients_for

logger = logging.getLogger(__name__)
TOPIC_PREFIXES = ("case.", "supervision_order.")
EMAIL_BATCH = 50
EMAIL_MAX_ATTEMPTS = 5


def case_url(number: str) -> str:
    return f"/cases/{number}/"


def wants_email(users: Iterable[User], topic: str) -> set[int]:
    """Ids of `users` who receive `topic` by e-mail: their own choice, else the topic's default."""
    users = list(users)
    chosen = dict(NotificationPreference.objects.filter(user__in=users, topic=topic).values_list("user_id", "email"))
    default = topics.TOPICS[topic].email_by_default if topic in topics.TOPICS else False
    return {u.pk for u in users if u.email and chosen.get(u.pk, default)}


def _text(topic: str, payload: Mapping[str, Any], case: Case) -> tuple[str, str]:
    """Title and body in the site's language. Only what every recipient may read: the public number,
    the title, the state and the deadline; never internal notes or reporters."""
    with translation.override(settings.LANGUAGE_CODE):
        title = _("%(number)s · %(event)s") % {"number": case.number, "event": topics.label(topic)}
        lines = [case.title, _("State: %(state)s") % {"state": State(case.state).label}]
        if isinstance(payload.get("level"), int) and payload["level"] > 0:
            lines.append(_("Escalation level: %(level)s") % {"level": payload["level"]})
        if payload.get("order"):
            lines.append(_("Supervision order: %(order)s") % {"order": payload["order"]})
        for key, text in (("due_at", _("Deadline: %(when)s")), ("reply_due_at", _("Reply due: %(when)s")),
                          ("response_due_at", _("Response due: %(when)s"))):
            if payload.get(key):
                lines.append(text % {"when": str(payload[key])[:16].replace("T", " ")})
    return title[:200], "\n".join(lines)


def notify(message: OutboxMessage) -> None:
    """Outbox handler: one notification per recipient of `message` (idempotent)."""
    payload = message.payload if isinstance(message.payload, dict) else {}
    number = payload.get("case")
    case = Case.objects.select_related("supervising_org").filter(number=number).first() if number else None
    if case is None:
        return
    users = recipients_for(message.topic, payload, case)
    if not users:
        return
    email = wants_email(users, message.topic)
    title, body = _text(message.topic, payload, case)
    Notification.objects.bulk_create(
        [Notification(recipient=user, topic=message.topic, case=case, title=title, body=body,
                      url=case_url(case.number), outbox_message_id=message.pk, email_wanted=user.pk in email,
                      created_at=clock.now()) for user in users],
        ignore_conflicts=True,
    )
    if email:
        transaction.on_commit(_wake_email_sender)


def _wake_email_sender() -> None:
    from taizhang.notifications.tasks import send_notification_emails

    try:
        send_notification_emails.enqueue()
    except Exception:  # the scheduler's periodic job sends them later
        logger.exception("could not enqueue the e-mail sender")


def connect() -> None:
    """Subscribe `notify` to the outbox topics (once)."""
    for prefix in TOPIC_PREFIXES:
        if notify not in outbox.handlers_for(prefix):
            outbox.register_handler(prefix, notify)


# --- reading ---------------------------------------------------------------------------------------

def mark_read(notification_id: int, *, actor: User) -> Notification:
    """Mark one of the actor's notifications read; anyone else's is a 404."""
    with transaction.atomic():
        found = Notification.objects.select_for_update().filter(pk=notification_id, recipient=actor).first()
        if found is None:
            raise NotFound()
        if found.read_at is None:
            found.read_at = clock.now()
            found.save(update_fields=["read_at"])
    return found


def mark_all_read(*, actor: User) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=clock.now())


# --- preferences -----------------------------------------------------------------------------------

def set_email_preferences(choices: Mapping[str, bool], *, actor: User) -> None:
    """Store the actor's e-mail choice for each topic; unknown topics are refused, nothing is stored."""
    unknown = sorted(set(choices) - set(topics.TOPICS))
    if unknown:
        raise ValidationFailed(_("Unknown event: %(names)s.") % {"names": "、".join(unknown)},
                               code="validation.invalid_choice", field="topic")
    with transaction.atomic():
        for topic, email in choices.items():
            NotificationPreference.objects.update_or_create(user=actor, topic=topic, defaults={"email": bool(email)})


def email_preferences(user: User) -> dict[str, bool]:
    """Every topic with the user's effective e-mail choice."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("topic", "email"))
    return {name: chosen.get(name, topic.email_by_default) for name, topic in topics.TOPICS.items()}


# --- e-mail ----------------------------------------------------------------------------------------

def send_pending_emails(limit: int = 500) -> int:
    """Send the e-mails of notifications that want one, in batches claimed with SKIP LOCKED so that
    several workers never send the same one. Returns how many were sent."""
    sent = 0
    while sent < limit:
        with transaction.atomic():
            batch = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("recipient")
                .filter(email_wanted=True, emailed_at__isnull=True, email_attempts__lt=EMAIL_MAX_ATTEMPTS)
                .order_by("created_at", "pk")[:EMAIL_BATCH]
            )
            if not batch:
                break
            sent_before = sent
            for item in batch:
                try:
                    EmailMessage(subject=item.title, body=f"{item.body}\n\n{item.url}",
                                 to=[item.recipient.email]).send()
                except Exception as exc:
                    item.email_attempts += 1
                    item.email_error = f"{type(exc).__name__}: {exc}"[:2000]
                    item.save(update_fields=["email_attempts", "email_error"])
                    continue
                item.emailed_at = clock.now()
                item.email_attempts += 1
                item.save(update_fields=["emailed_at", "email_attempts"])
                sent += 1
            if len(batch) < EMAIL_BATCH or sent == sent_before:
                break
    return sent


def emails_pending() -> bool:
    return Notification.objects.filter(email_wanted=True, emailed_at__isnull=True,
                                       email_attempts__lt=EMAIL_MAX_ATTEMPTS).exists()
