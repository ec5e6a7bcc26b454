from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from taizhang.core.errors import ValidationFailed
from taizhang.ledger import selectors, services
from taizhang.ledger.management.commands.export_ledger import cli_user


class Command(BaseCommand):
    help = _("Check a ledger workbook row by row and apply it (all or nothing). Exits with 1 when any row is "
             "invalid or the file is refused, with 2 when it was checked but could not be applied.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("The workbook (.xlsx)."))
        parser.add_argument("--dry-run", action="store_true", help=_("Only check and report; change nothing."))
        parser.add_argument("--as", dest="username", default="",
                            help=_("Who imports (scope and permissions apply); the login name of the shell by "
                                   "default."))

    def handle(self, *args: Any, **options: Any) -> None:
        user = cli_user(options["username"])
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("No such file: %(file)s") % {"file": path})
        try:
            with open(path, "rb") as handle:
                job = services.upload_import(actor=user, upload=handle, name=path.name, validate_now=True)
        except ValidationFailed as error:
            self.stderr.write(f"{error.code}: {error.message}")
            raise SystemExit(1) from None
        if job.needs_mapping:
            self.stderr.write(_("The workbook has no ledger header row (found: %(headers)s). Map its columns once "
                                "on the import page, then run again.") % {"headers": "、".join(job.found_headers)})
            raise SystemExit(1)
        if job.error:
            self.stderr.write(f"{job.error_code}: {job.error}")
            raise SystemExit(1)
        for note in job.notes:
            self.stdout.write(note)
        for row in selectors.all_import_rows(job).iterator(2000):
            line = f"{row.sheet}!{row.row}\t{row.number or '—'}\t{row.get_action_display()}"
            details = [f"{c['header']}: {c['old']} → {c['new']}" for c in row.changes]
            details += [("✗ " if p["error"] else "! ") + f"{p['header']}: {p['message']}" for p in row.problems]
            self.stdout.write("\t".join([line, *details]))
        self.stdout.write(_("%(creates)d new, %(updates)d updates, %(unchanged)d unchanged, %(invalid)d with errors.")
                          % {"creates": job.creates, "updates": job.updates, "unchanged": job.unchanged,
                             "invalid": job.invalid})
        if job.invalid:
            raise SystemExit(1)
        if options["dry_run"]:
            self.stdout.write(_("Dry run: nothing was applied."))
            return
        job = services.commit_import(actor=user, ledger_import=job, apply_now=True)
        if not job.is_committed:
            self.stderr.write(f"{job.error_code}: {job.error}")
            raise SystemExit(2)
        self.stdout.write(_("Applied. Audit events carry the request id %(id)s.") % {"id": job.audit_id})
