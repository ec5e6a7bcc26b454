"""`taizhang serve` starts the web server, the database worker and the scheduler."""

import sys

from taizhang.core.management.commands import serve


def test_serve_runs_the_scheduler_beside_the_web_server_and_the_worker():
    commands = serve.child_commands("127.0.0.1", 8000, 2, with_worker=True)
    assert set(commands) == {"web", "worker", "scheduler"}
    assert commands["scheduler"] == [sys.executable, "-m", "taizhang.cli", "scheduler"]
    assert "[::1]:8000" in serve.child_commands("::1", 8000, 2, with_worker=False)["web"]


def test_the_worker_and_the_scheduler_can_be_left_out():
    assert set(serve.child_commands("127.0.0.1", 8000, 2, with_worker=False, with_scheduler=False)) == {"web"}
    assert set(serve.child_commands("127.0.0.1", 8000, 2, with_worker=False)) == {"web", "scheduler"}


def test_the_database_worker_runs_only_with_the_database_backend(settings):
    assert serve.uses_database_tasks()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_celery.CeleryBackend", "QUEUES": ["default"],
                                  "OPTIONS": {"CELERY_APP": "taizhang.config.celery.app"}}}
    assert not serve.uses_database_tasks()


def test_threads_select_the_threaded_worker_that_keeps_connections_alive():
    assert "--worker-class" not in serve.child_commands("127.0.0.1", 8000, 3, with_worker=False)["web"]
    web = serve.child_commands("127.0.0.1", 8000, 2, threads=4, with_worker=False)["web"]
    assert web[web.index("--worker-class") + 1] == "gthread"
    assert web[web.index("--threads") + 1] == "4"
    assert web[web.index("--workers") + 1] == "2"
