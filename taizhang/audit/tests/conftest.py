import pytest
from django.db import transaction
from django.utils import translation

from taizhang.audit.models import AuditEvent
from taizhang.audit.services import ActorContext, record_event

ACTOR = ActorContext(user_id=None, name="王监督", role="supervisor", org_id=1, org_name="长春市纪委监委")


def record(n: int, *, prefix: str = "CC-2022") -> list[AuditEvent]:
    events = []
    for i in range(1, n + 1):
        with transaction.atomic():
            events.append(record_event(
                actor=ACTOR, action="case.registered" if i % 3 else "case.assessed", object_type="case",
                object_id=f"{prefix}-{i:04d}", object_repr=f"企业反映供电不稳 {i}",
                before={"state": "registered"}, after={"state": "assessing", "note": f"第{i}次", "n": i},
            ))
    return events


@pytest.fixture(autouse=True)
def _english():
    """Assertions read the English msgids, whatever catalogue is compiled."""
    with translation.override("en"):
        yield


@pytest.fixture
def ten_events(db):
    return record(10)


@pytest.fixture
def purge_after(transactional_db):
    """For transactional tests that write events: empty the trail before the database is flushed."""
    yield
    from taizhang.audit.tests.tampering import purge_audit_trail

    purge_audit_trail()
