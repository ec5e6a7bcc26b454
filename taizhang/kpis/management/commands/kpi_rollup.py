from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from taizhang.kpis import rollup


class Command(BaseCommand):
    help = _("Bring the measures' roll-up up to date: fold in the cases whose facts changed, or rebuild it.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true",
                            help=_("Start again from every case's facts (after loading data around the triggers)."))

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(done: int, total: int) -> None:
            self.stdout.write(_("%(done)d of %(total)d cases folded in") % {"done": done, "total": total})

        if options["rebuild"]:
            folded = rollup.rebuild(progress=progress)
        else:
            folded = 0
            while (step := rollup.catch_up()) > 0:
                folded += step
        self.stdout.write(_("Roll-up up to date: %(count)d cases folded in.") % {"count": folded})
