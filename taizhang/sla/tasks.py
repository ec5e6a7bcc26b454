from typing import Any

from django.tasks import task

from taizhang.sla.sweeper import sweep


@task()
def sweep_clocks() -> dict[str, Any]:
    """One sweep of reminders, overdue flags and escalations; scheduled every minute."""
    result = sweep()
    return {"acted": result.acted, "reminders": result.reminders, "overdue": result.overdue,
            "leadership": result.leadership, "supervision_orders": result.supervision_orders,
            "orders_overdue": result.orders_overdue}
