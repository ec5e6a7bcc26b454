from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "taizhang.supervision"
    label = "supervision"
    verbose_name = _("Supervision recommendations, bulletins and meetings")

    def ready(self) -> None:
        from taizhang.supervision import notify, sweeper

        sweeper.connect()
        notify.connect()
