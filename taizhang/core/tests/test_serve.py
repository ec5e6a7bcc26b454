"""`taizhang serve` starts the web server, the database worker and the scheduler."""

import sys

from taizhang.core.management.commands import serve


def test_serve_runs_the_scheduler_beside_the_web_server_and_the_worker():
    commands = serve.child_commands("127.0.0.1", 8000, 2, with_worker=True)
    assert set(commands) == {"web", "worker", "scheduler"}
    assert commands["scheduler"] == [sys.executable, "-m", "taizhang.cli", "scheduler"]


def test_the_worker_and_the_scheduler_can_be_left_out():
    assert set(serve.child_commands("127.0.0.1", 8000, 2, with_worker=False, with_scheduler=False)) == {"web"}
    assert set(serve.child_commands("127.0.0.1", 8000, 2, with_worker=False)) == {"web", "scheduler"}


def test_the_database_worker_runs_only_with_the_database_backend(settings):
    assert serve.uses_database_tasks()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_celery.CeleryBackend", "QUEUES": ["default"],
                                  "OPTIONS": {"CELERY_APP": "taizhang.config.celery.app"}}}
    assert not serve.uses_database_tasks()


def test_the_web_server_listens_where_asked_with_the_workers_and_threads_asked():
    web = serve.child_commands("::1", 8001, 2, threads=4, with_worker=False)["web"]
    assert web[:5] == [sys.executable, "-m", "granian", "--interface", "wsgi"]

    def option(name: str) -> str:
        return web[web.index(name) + 1]

    assert (option("--host"), option("--port"), option("--workers"), option("--blocking-threads")) == \
        ("::1", "8001", "2", "4")
    default = serve.child_commands("127.0.0.1", 8000, 3, with_worker=False)["web"]
    assert default[default.index("--blocking-threads") + 1] == "1"
