"""The Celery application for scale-out (TAIZHANG_TASK_BACKEND=celery).

Jobs are written against `django.tasks`; with the Celery backend (django-tasks-celery, which works
with Django 6.1's `django.tasks`) `task.enqueue()` publishes a Celery task named after the django
task's module path, and any worker started with

    celery -A taizhang.config.celery worker

runs it. The worker imports every installed app's `tasks` module at start, which registers the tasks.
The broker is TAIZHANG_CELERY_BROKER_URL (Redis `redis://…` or RabbitMQ `amqp://…`); start as many
workers on as many machines as needed — they share nothing but the broker and the database. Results are
kept in TAIZHANG_CELERY_RESULT_BACKEND (by default the broker when it is Redis), so
`TaskResult.refresh()` works.
"""

import os
from typing import Any

from celery import Celery, signals  # type: ignore[import-untyped]

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.config.settings")

app = Celery("taizhang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def close_database_connections(**kwargs: Any) -> None:
    """A worker holds no database connection between tasks: many workers on many hosts must not
    exhaust the database's connections (and a test database can be dropped after the run)."""
    from django.db import connections

    connections.close_all()


signals.task_postrun.connect(close_database_connections, weak=False)
