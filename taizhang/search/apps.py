from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "taizhang.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from taizhang.search import signals

        signals.connect()
