from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KpisConfig(AppConfig):
    name = "taizhang.kpis"
    label = "kpis"
    verbose_name = _("Performance measures")

    def ready(self) -> None:
        from taizhang.cases import listing
        from taizhang.core import outbox
        from taizhang.kpis import definitions, rollup

        listing.register_case_set(definitions.DRILL_DOWN_PARAMETER, definitions.drill_down_q)
        outbox.register_sweep("kpis.fold", rollup.catch_up)
