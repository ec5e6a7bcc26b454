"""The only source of the current time. Tests freeze it with time-machine; the demo story replays
past events with `replaying(moment)`."""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

_replayed_now: ContextVar[dt.datetime | None] = ContextVar("replayed_now", default=None)


def now() -> dt.datetime:
    return _replayed_now.get() or timezone.now()


def today() -> dt.date:
    """Today's date in the project's time zone (Asia/Shanghai)."""
    return timezone.localdate(now())


@contextmanager
def replaying(moment: dt.datetime) -> Iterator[None]:
    """Make `now()` return `moment` inside the block (for replaying a recorded story)."""
    if timezone.is_naive(moment):
        raise ValueError("replaying() needs an aware datetime")
    token = _replayed_now.set(moment)
    try:
        yield
    finally:
        _replayed_now.reset(token)
