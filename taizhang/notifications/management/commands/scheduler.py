"""`taizhang scheduler`: enqueue the periodic jobs; safe to run on several hosts at once."""

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from taizhang.notifications import scheduler


class Command(BaseCommand):
    help = "Enqueue the periodic jobs (outbox delivery, e-mail, SLA sweep). Safe to run more than once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between passes (default 1)")

    def handle(self, *args: Any, once: bool, poll: float, **options: Any) -> None:
        if once:
            for claim in scheduler.tick():
                state = _("enqueued") if claim.enqueued else _("nothing to do")
                self.stdout.write(f"{claim.job}: {state}")
            return
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, request_stop)
        self.stdout.write(_("Scheduler running; press Ctrl+C to stop."))
        scheduler.run(stop, poll_seconds=max(0.1, poll))
