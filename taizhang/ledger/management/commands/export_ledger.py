import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import QueryDict
from django.utils.translation import gettext as _

from taizhang.cases import listing
from taizhang.core.errors import ValidationFailed
from taizhang.ledger import selectors, services

FILTERS = ("q", "state", "category", "source", "mode", "org", "org_role", "enterprise", "tag", "round", "overdue",
           "escalation", "registered_from", "registered_to", "deadline_from", "deadline_to")


class Command(BaseCommand):
    help = _("Export the ledger a user sees, with the web ledger's filters, as .xlsx or .csv.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-o", "--output", required=True, help=_("The file to write."))
        parser.add_argument("--format", choices=["xlsx", "csv"], default=None,
                            help=_("xlsx (default) or csv; taken from the file name when it ends in .csv."))
        parser.add_argument("--as", dest="username", default="",
                            help=_("Whose ledger (the scope applies); the login name of the shell by default."))
        for name in FILTERS:
            parser.add_argument(f"--{name.replace('_', '-')}", dest=f"filter_{name}", action="append",
                                help=_("Ledger filter “%(name)s”, as on the ledger page.") % {"name": name})

    def handle(self, *args: Any, **options: Any) -> None:
        user = cli_user(options["username"])
        output = options["output"]
        format = options["format"] or ("csv" if output.lower().endswith(".csv") else "xlsx")
        query = QueryDict(mutable=True)
        for name in FILTERS:
            for value in options[f"filter_{name}"] or []:
                query.appendlist(name, value)
        try:
            filters = listing.LedgerFilters.from_query(query)
            rows = services.write_export(user, filters, output, format=format)
        except ValidationFailed as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stdout.write(_("Wrote %(n)d rows to %(file)s.") % {"n": rows, "file": output})


def cli_user(username: str) -> Any:
    name = username or getpass.getuser()
    user = selectors.active_user(name)
    if user is None:
        raise CommandError(_("No active user “%(name)s”; name one with --as.") % {"name": name})
    return user
