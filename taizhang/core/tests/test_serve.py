"""`taizhang serve` starts the web server, the database worker and the scheduler."""

import io
import json
import sys

import pytest
from django.core.management import CommandError, call_command

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


@pytest.fixture
def manifest_storage(settings, tmp_path):
    """Static files as production keeps them: hashed names looked up in the manifest under STATIC_ROOT."""
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
    settings.STATIC_ROOT = tmp_path / "static"
    return settings.STATIC_ROOT


@pytest.fixture
def started(monkeypatch):
    """The process sets `serve` would have started, instead of starting them."""
    commands_started: list[dict[str, list[str]]] = []

    def supervise(commands: dict[str, list[str]], say: object) -> int:
        commands_started.append(commands)
        return 0

    monkeypatch.setattr(serve, "supervise", supervise)
    return commands_started


def test_serve_refuses_to_start_before_collectstatic(manifest_storage, started):
    missing = serve.uncollected_static_file()
    assert missing is not None
    with pytest.raises(CommandError, match="collectstatic --noinput") as refused:
        call_command("serve", "--no-worker", "--no-scheduler")
    assert missing in str(refused.value)
    assert started == []


def test_serve_starts_once_every_static_file_is_collected_and_not_after_an_upgrade_adds_one(
        manifest_storage, started):
    call_command("collectstatic", interactive=False, verbosity=0)
    assert serve.uncollected_static_file() is None
    call_command("serve", "--no-worker", "--no-scheduler", stdout=io.StringIO())
    assert [set(commands) for commands in started] == [{"web"}]

    # A newer version ships web/app.css that this STATIC_ROOT was not collected with.
    manifest_path = manifest_storage / "staticfiles.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["paths"]["web/app.css"]
    manifest_path.write_text(json.dumps(manifest))
    assert serve.uncollected_static_file() == "web/app.css"
    with pytest.raises(CommandError, match=r"web/app\.css"):
        call_command("serve", "--no-worker", "--no-scheduler")
    assert len(started) == 1


def test_without_a_manifest_storage_nothing_needs_collecting():
    assert serve.uncollected_static_file() is None
