"""The only source of the current time. Tests freeze it with time-machine."""

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def today() -> dt.date:
    """Today's date in the project's time zone (Asia/Shanghai)."""
    return timezone.localdate(now())
