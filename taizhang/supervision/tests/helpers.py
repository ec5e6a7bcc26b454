"""Shared steps of the supervision tests."""

from typing import Any

from taizhang.audit.models import AuditChainHead, AuditEvent
from taizhang.core.models import OutboxMessage
from taizhang.supervision import services
from taizhang.supervision.models import Recommendation

PROBLEMS = "重点企业供电保障机制不健全，线路异常缺少预告和快速响应。"
ADVICE = "建立重点企业供电保障联系机制，计划停电提前告知企业。"


def draft(world: Any, *, addressed: Any = None, cases: Any = (), kind: str = "supervision") -> Recommendation:
    return services.create_recommendation(
        actor=world.supervisor, issuing_org=world.city, addressed_org=addressed or world.lead_unit, kind=kind,
        title="加强重点企业供电保障", problems=PROBLEMS, causes="部门协调不畅。", recommendations=ADVICE,
        cases=[c.number for c in cases])


def issued(world: Any, **kwargs: Any) -> Recommendation:
    return services.issue_recommendation(draft(world, **kwargs).pk, actor=world.supervisor)


def footprint(rec: Recommendation) -> dict[str, Any]:
    """Everything a refused action must leave as it was."""
    return {
        "row": Recommendation.objects.filter(pk=rec.pk).values().get(),
        "evidence": list(rec.evidence.values_list("pk", flat=True)),
        "audit": AuditEvent.objects.count(),
        "head": AuditChainHead.objects.filter(id=1).values_list("seq", flat=True).first(),
        "outbox": OutboxMessage.objects.count(),
    }
