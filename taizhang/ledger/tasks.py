"""Background ledger work (`django.tasks`): large exports, and checking and applying large imports.
Each is idempotent: a repeated run redoes the same work on the same job."""

from django.tasks import task

from taizhang.ledger import services


@task()
def run_export(job_id: str) -> None:
    services.run_export(job_id)


@task()
def validate_import_task(job_id: str) -> None:
    services.validate_import(job_id)


@task()
def apply_import_task(job_id: str) -> None:
    services.apply_import(job_id)
