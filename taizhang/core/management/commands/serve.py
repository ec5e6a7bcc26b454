"""`taizhang serve`: the web server (granian), the task worker and the scheduler, run and stopped together."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, cast

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_GRACE_SECONDS = 30.0


def default_web_workers() -> int:
    return max(2, min(4, (os.cpu_count() or 1) + 1))


def default_web_threads() -> int:
    return 1


def web_command(host: str, port: int, workers: int, threads: int) -> list[str]:
    """granian as Taizhang runs it: HTTP parsed outside Python, connections kept alive, each worker process
    running the application in `threads` threads."""
    return [sys.executable, "-m", "granian", "--interface", "wsgi", "taizhang.config.wsgi:application",
            "--host", host, "--port", str(port), "--workers", str(workers), "--blocking-threads", str(threads),
            "--access-log", "--respawn-failed-workers", "--workers-kill-timeout", "20"]


def uncollected_static_file() -> str | None:
    """A static file the installed version ships that `collectstatic` has not put in the manifest, if any.

    Pages name static files through the manifest; one missing from it makes every page that names it fail.
    """
    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        return None
    # Read afresh: Django returns (paths, manifest hash); its type stubs still say a dict.
    collected, _manifest_hash = cast(tuple[dict[str, str], str], staticfiles_storage.load_manifest())
    ignore_patterns = apps.get_app_config("staticfiles").ignore_patterns
    shipped = (path for finder in finders.get_finders() for path, _storage in finder.list(ignore_patterns))
    return next((path for path in shipped if path not in collected), None)


def uses_database_tasks() -> bool:
    return str(settings.TASKS["default"]["BACKEND"]).startswith("django_tasks_db.")


def child_commands(host: str, port: int, web_workers: int, *, threads: int = 1, with_worker: bool,
                   with_scheduler: bool = True) -> dict[str, list[str]]:
    commands = {"web": web_command(host, port, web_workers, threads)}
    if with_worker:
        commands["worker"] = [sys.executable, "-m", "taizhang.cli", "db_worker", "--no-reload", "--queue-name", "*"]
    if with_scheduler:
        # Enqueues the periodic jobs (outbox delivery, e-mail, SLA sweep); safe beside other schedulers.
        commands["scheduler"] = [sys.executable, "-m", "taizhang.cli", "scheduler"]
    return commands


def supervise(commands: dict[str, list[str]], say: Callable[[str], None]) -> int:
    """Start every command, forward SIGINT/SIGTERM/SIGHUP as SIGTERM, stop all when one ends.

    Returns 0 after a requested stop in which every child exited cleanly, else non-zero.
    """
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if stopping:  # a second Ctrl+C: do not wait any longer
            for child in children.values():
                if child.poll() is None:
                    child.kill()
        stopping = True

    previous = {sig: signal.signal(sig, request_stop) for sig in FORWARDED_SIGNALS}
    died: str | None = None
    try:
        for name, argv in commands.items():
            # Own process group: a terminal's Ctrl+C reaches only this process, which forwards it once.
            children[name] = subprocess.Popen(argv, process_group=0)
        while not stopping and died is None:
            died = next((name for name, child in children.items() if child.poll() is not None), None)
            if died is None:
                time.sleep(0.5)
        if died is not None:
            say(_("The %(name)s process exited with status %(code)s; stopping the others.")
                      % {"name": died, "code": children[died].returncode})
        stop_all(children)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if died is not None:
        return exit_status(children[died].returncode) or 1
    return max((exit_status(child.returncode) for child in children.values()), default=0)


def exit_status(returncode: int) -> int:
    """A shell-style status: a child killed by signal N counts as 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def stop_all(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children.values():
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


class Command(BaseCommand):
    help = "Serve Taizhang with granian and run the database task worker and the scheduler beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
        parser.add_argument("--workers", type=int, default=default_web_workers(),
                            help="web server worker processes (default: %(default)s)")
        parser.add_argument("--threads", type=int, default=default_web_threads(),
                            help="application threads per worker process (default: %(default)s)")
        parser.add_argument("--no-worker", action="store_true", help="do not start the task worker")
        parser.add_argument("--no-scheduler", action="store_true",
                            help="do not start the scheduler of periodic jobs (run `taizhang scheduler` elsewhere)")

    def handle(self, *args: Any, host: str, port: int, workers: int, threads: int, no_worker: bool,
               no_scheduler: bool, **options: Any) -> None:
        missing = uncollected_static_file()
        if missing is not None:
            raise CommandError(_("The static files of this version have not been collected (%(path)s is missing). "
                                 "Run `taizhang collectstatic --noinput`, then start again.") % {"path": missing})
        with_worker = not no_worker and uses_database_tasks()
        if not no_worker and not with_worker:
            self.stdout.write(_("The task backend is not the database backend; no task worker is started here."))
        url_host = f"[{host}]" if ":" in host else host
        self.stdout.write(_("Taizhang is running at http://%(host)s:%(port)s/ — press Ctrl+C to stop.")
                          % {"host": url_host, "port": port})
        commands = child_commands(host, port, workers, threads=threads, with_worker=with_worker,
                                  with_scheduler=not no_scheduler)
        code = supervise(commands, self.stdout.write)
        if code != 0:
            raise CommandError(_("A server process failed (exit status %(code)s).") % {"code": code},
                               returncode=code)
