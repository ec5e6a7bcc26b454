from django.tasks import task

from taizhang.notifications import services


@task()
def send_notification_emails() -> int:
    return services.send_pending_emails()
