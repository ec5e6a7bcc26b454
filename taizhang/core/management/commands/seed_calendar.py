from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from taizhang.core.workdays import seed_calendar


class Command(BaseCommand):
    help = (
        "Insert the statutory holidays and make-up working days known to chinese-calendar that the "
        "calendar table does not have yet. Existing rows, including admin edits, are never changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="first_year", type=int, help="first year (default 2004)")
        parser.add_argument("--to", dest="last_year", type=int,
                            help="last year (default: the last year chinese-calendar knows)")

    def handle(self, *args: Any, first_year: int | None, last_year: int | None, **options: Any) -> None:
        try:
            result = seed_calendar(first_year, last_year)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(_("Inserted %(inserted)d days; %(unchanged)d were already present.")
                          % {"inserted": result.inserted, "unchanged": result.unchanged})
        for day, in_table, official in result.differing:
            self.stdout.write(self.style.WARNING(
                _("%(day)s: the table says %(table)s, chinese-calendar says %(official)s; kept the table.")
                % {"day": day, "table": in_table, "official": official}
            ))
        if result.years_without_data:
            years = ", ".join(str(y) for y in result.years_without_data)
            message = _("chinese-calendar has no data for %(years)s; enter those days in the admin.")
            self.stdout.write(self.style.WARNING(message % {"years": years}))
