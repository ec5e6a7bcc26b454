"""`taizhang reindex`: rebuild the search index of every case, in batches, with progress."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from taizhang.search.indexing import BATCH_SIZE, reindex_all


class Command(BaseCommand):
    help = "Rebuild the full-text search index of all cases (streamed in batches; safe to rerun)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="cases per transaction")
        parser.add_argument("--no-analyze", action="store_true", help="skip refreshing planner statistics")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"indexed {done}/{total} cases ({time.perf_counter() - started:.1f} s)")

        done = reindex_all(batch_size=max(1, options["batch_size"]), progress=progress)
        if not options["no_analyze"]:
            # Fresh planner statistics after a bulk rebuild: without them SQLite guesses at selectivity
            # and may sort a whole table for one ledger page.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(self.style.SUCCESS(f"{done} cases indexed in {time.perf_counter() - started:.1f} s"))
