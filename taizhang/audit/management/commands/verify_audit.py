from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from taizhang.audit.verify import CHUNK_SIZE, describe, verify_chain


class Command(BaseCommand):
    help = "Recompute the audit trail's hash chain and name the first event that breaks it (exit 1)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true", help="print nothing when the chain is intact")
        parser.add_argument("--chunk-size", type=int, default=CHUNK_SIZE, help="rows fetched per round trip")

    def handle(self, *args: Any, quiet: bool, chunk_size: int, **options: Any) -> None:
        result = verify_chain(chunk_size=chunk_size)
        if result.problem is not None:
            raise CommandError(describe(result.problem))
        if not quiet:
            self.stdout.write(_("OK: %(count)d events verified, head #%(seq)d %(hash)s") % {
                "count": result.checked, "seq": result.head_seq or 0, "hash": result.head_hash or "—"})
