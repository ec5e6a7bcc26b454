"""Shared helpers of the notification tests."""

from taizhang.core import outbox
from taizhang.notifications.models import Notification


def deliver() -> int:
    total = 0
    while True:
        done = outbox.deliver_pending()
        total += done
        if done == 0:
            return total


def told(topic: str, number: str) -> set[str]:
    return set(Notification.objects.filter(topic=topic, case__number=number)
               .values_list("recipient__username", flat=True))


def escalation_payload(case, level, targets, **extra):
    return {"case": case.number, "clock": "completion", "level": level, "due_at": "2024-04-02T18:00:00+08:00",
            "target_org_ids": [t.pk for t in targets], "escalation": 1, **extra}
