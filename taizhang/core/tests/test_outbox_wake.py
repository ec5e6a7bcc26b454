"""After a write commits, the outbox wakes the delivery worker, but queues no second delivery task while
one still waits unclaimed (it will see the new message)."""

import pytest
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from taizhang.core import outbox

DELIVERY = "taizhang.core.tasks.deliver_outbox"


def deliveries() -> list[str]:
    return list(DBTaskResult.objects.filter(task_path=DELIVERY).values_list("status", flat=True))


@pytest.mark.django_db
def test_one_waiting_delivery_serves_every_write_until_a_worker_claims_it(django_capture_on_commit_callbacks):
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            outbox.enqueue("case.created", {"case": "CC-2025-0001"})
    assert deliveries() == [TaskResultStatus.READY]
    DBTaskResult.objects.filter(task_path=DELIVERY).update(status=TaskResultStatus.RUNNING)  # claimed
    with django_capture_on_commit_callbacks(execute=True):
        outbox.enqueue("case.created", {"case": "CC-2025-0002"})
    assert sorted(deliveries()) == [TaskResultStatus.READY, TaskResultStatus.RUNNING]


@pytest.mark.django_db
def test_nothing_is_queued_before_the_write_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outbox.enqueue("case.created", {"case": "CC-2025-0001"})
    assert deliveries() == []
    assert len(callbacks) == 1
