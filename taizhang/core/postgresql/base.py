"""Django's PostgreSQL backend, checking a persistent connection only after it has been idle a while.

With `CONN_HEALTH_CHECKS`, Django sends `SELECT 1` before the first query of every request. A connection
that served a query a moment ago is as good as checked, so busy workers skip that round trip; one left
idle for `IDLE_BEFORE_CHECK` seconds or more (when a database restart or a dropped link goes unnoticed)
is still checked and replaced before the request uses it.
"""

import time
from typing import Any

from django.db.backends.postgresql import base

IDLE_BEFORE_CHECK = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_done: bool
    last_used = float("-inf")

    def close_if_health_check_failed(self) -> None:
        if self.connection is not None and time.monotonic() - self.last_used < IDLE_BEFORE_CHECK:
            self.health_check_done = True
        super().close_if_health_check_failed()

    def create_cursor(self, name: Any = None) -> Any:
        self.last_used = time.monotonic()
        return super().create_cursor(name)
