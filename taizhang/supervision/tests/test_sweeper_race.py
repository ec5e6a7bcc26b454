"""Two sweepers at once on PostgreSQL (SQLite serialises writers): every rung is applied exactly once."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from taizhang.audit.models import AuditEvent
from taizhang.audit.verify import verify_chain
from taizhang.supervision import sweeper
from taizhang.supervision.models import Recommendation
from taizhang.supervision.tests.helpers import issued

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: SQLite serialises writers"),
]
RECOMMENDATIONS = 40


def test_parallel_sweeps_escalate_each_reply_once(world, at_moment):
    recs = [issued(world) for _ in range(RECOMMENDATIONS)]
    due = recs[0].reply_due_at
    assert due is not None
    later = due + dt.timedelta(days=30)  # every rung but the reminder is due
    start = threading.Barrier(2)
    applied: list[int] = []

    def sweep() -> None:
        try:
            start.wait()
            applied.append(sweeper.sweep_recommendations(later, batch_size=7))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(applied) == RECOMMENDATIONS * 3
    assert set(Recommendation.objects.values_list("reply_step", "escalation_level")) == {(3, 3)}
    for rec in recs:
        actions = list(AuditEvent.objects.filter(object_type="recommendation", object_id=str(rec.pk))
                       .order_by("seq").values_list("action", flat=True))
        assert actions[2:] == ["recommendation.overdue", "recommendation.escalated", "recommendation.escalated"]
    assert verify_chain().ok
