from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "taizhang.followup"
    label = "followup"
    verbose_name = _("Follow-up and look-back")

    def ready(self) -> None:
        from taizhang.core import outbox
        from taizhang.followup import services

        outbox.register_sweep("followup.due_rechecks", services.queue_due_rechecks)
