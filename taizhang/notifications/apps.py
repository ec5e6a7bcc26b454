from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "taizhang.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from taizhang.notifications import services, webhooks

        webhooks.connect()
        services.connect()  # the in-app inbox and e-mail
