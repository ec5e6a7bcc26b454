"""Inbox notifications of recommendations (outbox handler, idempotent per message and recipient).

| topic                                  | recipients                                                  |
|----------------------------------------|-------------------------------------------------------------|
| recommendation.issued                  | unit leaders of the addressed organisation                  |
| recommendation.replied                 | supervisors of the issuing body                             |
| recommendation.evaluated               | unit leaders of the addressed organisation                  |
| recommendation.reminder (level 0)      | unit leaders and handlers of the target organisations       |
| recommendation.overdue / .escalated    | unit leaders, supervisors and read-only leaders of targets  |

Only people who may see the recommendation are told, never the person who acted.
"""

from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.accounts.models import User
from taizhang.accounts.roles import Role
from taizhang.core import clock, outbox
from taizhang.core.models import OutboxMessage
from taizhang.notifications.models import Notification
from taizhang.supervision import policies
from taizhang.supervision.models import Recommendation

PREFIX = "recommendation."
LABELS = {
    "recommendation.issued": gettext_lazy("A supervision recommendation was addressed to your unit"),
    "recommendation.replied": gettext_lazy("A unit replied to a supervision recommendation"),
    "recommendation.evaluated": gettext_lazy("The reply to a supervision recommendation was evaluated"),
    "recommendation.reminder": gettext_lazy("A recommendation's reply deadline is near"),
    "recommendation.overdue": gettext_lazy("A recommendation's reply is overdue"),
    "recommendation.escalated": gettext_lazy("An overdue recommendation reply was escalated"),
}


def _recipients(topic: str, payload: dict[str, Any], rec: Recommendation) -> list[User]:
    if topic in ("recommendation.issued", "recommendation.evaluated"):
        orgs, roles = [rec.addressed_org_id], [Role.UNIT_LEADER]
    elif topic == "recommendation.replied":
        orgs, roles = [rec.issuing_org_id], [Role.SUPERVISOR]
    elif topic == "recommendation.reminder":
        orgs, roles = list(payload.get("target_org_ids") or []), [Role.UNIT_LEADER, Role.HANDLER]
    elif topic in ("recommendation.overdue", "recommendation.escalated"):
        orgs, roles = list(payload.get("target_org_ids") or []), [Role.UNIT_LEADER, Role.SUPERVISOR, Role.VIEWER]
    else:
        return []
    users = User.objects.filter(memberships__org_id__in=orgs, memberships__role__in=[r.value for r in roles],
                                is_active=True).distinct().order_by("pk")
    return [u for u in users if u.pk != payload.get("actor")
            and policies.recommendations_scope(u).filter(pk=rec.pk).exists()]


def notify(message: OutboxMessage) -> None:
    payload = message.payload if isinstance(message.payload, dict) else {}
    pk = payload.get("recommendation")
    rec = Recommendation.objects.filter(pk=pk).first() if isinstance(pk, int) else None
    if rec is None or message.topic not in LABELS:
        return
    users = _recipients(message.topic, payload, rec)
    with translation.override(settings.LANGUAGE_CODE):
        title = f"{rec.number or rec.title} · {LABELS[message.topic]}"[:200]
        body = rec.title
        if rec.reply_due_at:
            body += "\n" + _("Reply due: %(when)s") % {"when": timezone.localdate(rec.reply_due_at).isoformat()}
    Notification.objects.bulk_create(
        [Notification(recipient=user, topic=message.topic, title=title, body=body,
                      url=f"/supervision/recommendations/{rec.pk}/", outbox_message_id=message.pk,
                      created_at=clock.now()) for user in users],
        ignore_conflicts=True)


def connect() -> None:
    if notify not in outbox.handlers_for(PREFIX):
        outbox.register_handler(PREFIX, notify)
