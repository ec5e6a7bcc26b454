from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from taizhang.cases.synthetic import generate


class Command(BaseCommand):
    help = _("Bulk-create realistic synthetic cases across units, categories and states.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=1000, help=_("How many cases to create."))
        parser.add_argument("--seed", type=int, default=1, help=_("Random seed; the same seed gives the same cases."))
        parser.add_argument("--no-search-index", action="store_true",
                            help=_("Skip the search index (faster); run `taizhang reindex` afterwards."))

    def handle(self, *args: Any, **options: Any) -> None:
        result = generate(options["cases"], options["seed"], search_index=not options["no_search_index"])
        self.stdout.write(_("Created %(n)d cases in %(seconds).1f s (%(rate).0f cases/s).")
                          % {"n": result.created, "seconds": result.seconds, "rate": result.per_second})
