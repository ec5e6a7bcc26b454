"""Drop this process's working-day cache as soon as an admin saves or deletes a calendar day."""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from taizhang.core import workdays
from taizhang.core.models import CalendarDay


@receiver(post_save, sender=CalendarDay, dispatch_uid="core.calendar_day_saved")
@receiver(post_delete, sender=CalendarDay, dispatch_uid="core.calendar_day_deleted")
def calendar_day_changed(**kwargs: Any) -> None:
    workdays.invalidate_on_commit()
