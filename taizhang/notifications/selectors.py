"""Readers of the inbox: a user only ever reads their own notifications."""

from django.db.models import QuerySet

from taizhang.accounts.models import User
from taizhang.notifications.models import Notification

PAGE_SIZE = 50


def inbox_for(user: User, *, unread_only: bool = False, before: int | None = None,
              limit: int | None = None) -> list[Notification]:
    """The user's notifications, newest first, paged by id (keyset: `before` is the last id shown)."""
    items: QuerySet[Notification] = Notification.objects.filter(recipient=user).order_by("-pk")
    if unread_only:
        items = items.filter(read_at__isnull=True)
    if before is not None:
        items = items.filter(pk__lt=before)
    return list(items.only("pk", "topic", "title", "body", "url", "created_at", "read_at")[:limit or PAGE_SIZE])


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_for(user: User, notification_id: int) -> Notification | None:
    return Notification.objects.filter(recipient=user, pk=notification_id).first()
