"""`taizhang sweep --once`: one sweep of reminders, overdue flags and escalations, in the foreground."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from taizhang.sla.sweeper import sweep


class Command(BaseCommand):
    help = ("Apply due reminders, overdue flags and escalations (三级贯通) once with --once, or every "
            "--interval seconds until stopped. Safe to run beside the scheduled task.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run one sweep and exit")
        parser.add_argument("--interval", type=float, default=60.0, help="seconds between sweeps (default 60)")

    def handle(self, *args: Any, once: bool, interval: float, **options: Any) -> None:
        while True:
            started = time.monotonic()
            result = sweep()
            self.stdout.write(
                _("Reminders %(reminders)d, overdue %(overdue)d, leadership %(leadership)d, supervision orders "
                  "%(orders)d, unanswered orders %(orders_overdue)d (%(seconds).2f s).")
                % {"reminders": result.reminders, "overdue": result.overdue, "leadership": result.leadership,
                   "orders": result.supervision_orders, "orders_overdue": result.orders_overdue,
                   "seconds": time.monotonic() - started})
            if once:
                return
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
