from django.tasks import task

from taizhang.core import outbox


@task()
def deliver_outbox() -> int:
    return outbox.deliver_pending()
