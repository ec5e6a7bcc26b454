import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from taizhang.core import clock
from taizhang.core.models import OutboxMessage

# --- webhooks ------------------------------------------------------------------------------------
# Outbound HTTP callbacks for case events (taizhang.notifications.webhooks). Another section of this
# file holds the in-app inbox and e-mail models.


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """An external system that wants to hear about case events, registered by an administrator."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100, default=new_webhook_secret,
                              help_text=_("Deliveries are signed with HMAC-SHA256 using this secret."))
    events = models.JSONField(_("events"), default=list, blank=True,
                              help_text=_("The event types delivered to this endpoint."))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=clock.now)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name

    def subscribes_to(self, event: str) -> bool:
        return self.is_active and event in (self.events or [])


class WebhookDelivery(models.Model):
    """One event for one endpoint: created by the outbox worker after commit, sent with retries."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("webhook delivery", "Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed (gave up)")

    delivery_id = models.UUIDField(_("delivery id"), default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries",
                                 verbose_name=_("endpoint"))
    outbox_message = models.ForeignKey(OutboxMessage, on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="+", verbose_name=_("outbox message"))
    event = models.CharField(_("event"), max_length=80)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.TextField(_("response (excerpt)"), blank=True)
    error = models.TextField(_("error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=clock.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "outbox_message"], name="webhook_delivery_once"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due",
                         condition=models.Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint} ({self.get_status_display()})"


# --- inbox and e-mail ----------------------------------------------------------------------------
# The in-app inbox, e-mail preferences and the schedule of periodic jobs (taizhang.notifications.
# services, .scheduler). Recipients are chosen at send time by taizhang.notifications.recipients.


class Notification(models.Model):
    """One message in one user's inbox, created by the outbox worker after the transition committed.
    (`outbox_message_id`, `recipient`) is unique, so delivering a message twice creates nothing new."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
                                  verbose_name=_("recipient"))
    topic = models.CharField(_("event"), max_length=80)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="notifications", verbose_name=_("case"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=200, blank=True)
    outbox_message_id = models.BigIntegerField(_("outbox message"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=clock.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    email_wanted = models.BooleanField(_("send by e-mail"), default=False)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(_("e-mail attempts"), default=0)
    email_error = models.TextField(_("e-mail error"), blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["outbox_message_id", "recipient"], name="notification_once_per_message"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox"),
            models.Index(fields=["recipient"], name="notification_unread", condition=models.Q(read_at__isnull=True)),
            models.Index(fields=["created_at"], name="notification_email_pending",
                         condition=models.Q(email_wanted=True, emailed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} · {self.title}"


class NotificationPreference(models.Model):
    """Whether `user` receives `topic` by e-mail; without a row the topic's default applies."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notification_preferences", verbose_name=_("user"))
    topic = models.CharField(_("event"), max_length=80)
    email = models.BooleanField(_("by e-mail"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [models.UniqueConstraint(fields=["user", "topic"], name="notification_preference_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.topic}: {'e-mail' if self.email else 'inbox'}"


class ScheduledJob(models.Model):
    """A periodic job of the scheduler. A run is claimed by compare-and-swap on `next_run_at`, so two
    schedulers running at once never enqueue the same run twice."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    interval_seconds = models.PositiveIntegerField(_("interval (seconds)"))
    next_run_at = models.DateTimeField(_("next run at"))
    last_run_at = models.DateTimeField(_("last run at"), null=True, blank=True)
    runs = models.PositiveBigIntegerField(_("runs"), default=0)

    class Meta:
        ordering = ["name"]
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")

    def __str__(self) -> str:
        return self.name
