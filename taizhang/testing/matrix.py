"""Helpers for the workflow matrix, scope, evidence and concurrency tests.

- `drive(world, state, ...)` takes a new case into any state of the lifecycle through the services,
  exactly as users would, so every fixture case carries its real audit trail.
- `build_extras(world)` adds the personas the shared world lacks (a child unit, a sibling leader,
  a supervisor who also works in a handling unit, a second enterprise, a foreign unit).
- `footprint(number)` is everything a refused action must leave untouched.
- `replay_states(number)` rebuilds a case's state from its audit events.
- `race_worker` runs workflow actions in a separate process against a shared test database.
"""

import datetime as dt
import os
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import SimpleUploadedFile

from taizhang.accounts.roles import Role
from taizhang.cases.workflow import State

# Models are imported inside the functions: a spawned race worker imports this module before
# django.setup().
if TYPE_CHECKING:
    from taizhang.accounts.models import User
    from taizhang.testing.personas import World

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# A Tuesday with no holiday near it: every working-day clock lands where a reader expects.
MOMENT = dt.datetime(2024, 3, 12, 10, 0, tzinfo=SHANGHAI)


def small_pdf() -> bytes:
    """A real one-page PDF (with a correct cross-reference table), a few hundred bytes long."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
        b"<< /Length 35 >>\nstream\nBT /F1 12 Tf 20 50 Td (ok) Tj ET\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PDF_BYTES = small_pdf()
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


def pdf_upload(name: str = "佐证材料.pdf", data: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


# --- extra personas ------------------------------------------------------------------------------

@dataclass
class Extras:
    child_leader: "User"
    child_handler: "User"
    sibling_leader: "User"
    dual_supervisor: "User"  # a supervisor of the city who also handles cases in the lead unit
    other_enterprise_user: "User"
    other_enterprise: Any
    foreign_unit: Any
    foreign_leader: "User"
    foreign_approver: "User"

    def personas(self) -> dict[str, "User"]:
        names = ["child_leader", "child_handler", "sibling_leader", "dual_supervisor", "other_enterprise_user",
                 "foreign_leader", "foreign_approver"]
        return {name: getattr(self, name) for name in names}


def build_extras(world: "World") -> Extras:
    from taizhang.core.credit_code import make_credit_code
    from taizhang.orgs.models import Enterprise, Organisation
    from taizhang.testing.personas import org, person

    other_org = org("长春某光电有限公司", Organisation.Kind.ENTERPRISE, world.district)
    other, _ = Enterprise.objects.get_or_create(
        org=other_org, defaults={"name": other_org.name, "credit_code": make_credit_code("91", "220101", "MA17R2K5"),
                                 "industry": "光电", "scale": Enterprise.Scale.SMALL})
    foreign_district = org("外市某区政府", Organisation.Kind.GOVERNMENT)
    foreign_unit = org("外市某区住建局", Organisation.Kind.DEPARTMENT, foreign_district)
    dual = person("dual_supervisor", "钱监督", (world.city, Role.SUPERVISOR), (world.lead_unit, Role.HANDLER))
    return Extras(
        child_leader=person("child_leader", "工程科科长", (world.lead_child, Role.UNIT_LEADER)),
        child_handler=person("child_handler", "工程科经办", (world.lead_child, Role.HANDLER)),
        sibling_leader=person("sibling_leader", "营商局局长", (world.sibling_unit, Role.UNIT_LEADER)),
        dual_supervisor=dual,
        other_enterprise_user=person("other_enterprise", "光电公司", (other_org, Role.ENTERPRISE)),
        other_enterprise=other,
        foreign_unit=foreign_unit,
        foreign_leader=person("foreign_leader", "外市局长", (foreign_unit, Role.UNIT_LEADER),
                              (foreign_unit, Role.HANDLER)),
        foreign_approver=person("foreign_approver", "外市书记", (world.other_city, Role.APPROVER)),
    )


# --- driving a case ------------------------------------------------------------------------------

@dataclass
class Cast:
    """Who plays each part while a case is driven through its lifecycle."""

    registrar: "User"
    supervisor: "User"
    approver: "User"
    lead_leader: "User"
    lead_handler: "User"
    responsible_org: Any
    lead_org: Any
    co: Sequence[tuple[Any, "User"]] = ()  # (co-handling organisation, its unit leader)
    inspection_round: Any = None
    enterprises: Sequence[Any] = ()

    @classmethod
    def own(cls, world: "World") -> "Cast":
        """The seed story: found by the inspection group, led by 区建设发展局 with the power company."""
        return cls(registrar=world.inspector, supervisor=world.supervisor, approver=world.approver,
                   lead_leader=world.unit_leader, lead_handler=world.handler, responsible_org=world.district,
                   lead_org=world.lead_unit, co=[(world.power_company, world.co_leader)],
                   inspection_round=world.round, enterprises=[world.enterprise])


@dataclass
class Drive:
    """Optional shapes of the driven case."""

    co_signed: bool = True  # co-handling units sign for their parts on the way to rectifying
    co_done: bool = True  # and mark them done (needs co_signed)
    evidence: bool = True  # a progress report with a PDF before acceptance
    extension_pending: bool = False
    anonymous: bool = False
    mode: str = "deadline"
    unreachable_attempts: int = 0  # follow-up attempts that could not reach the enterprise, after acceptance
    extra: dict[str, Any] = field(default_factory=dict)


ROUTE = [State.REGISTERED, State.ASSESSING, State.AWAITING_APPROVAL, State.HANDED_OVER, State.RECTIFYING,
         State.AWAITING_ACCEPTANCE, State.AWAITING_FOLLOWUP, State.AWAITING_CLOSURE, State.CLOSED]


def register(cast: Cast, title: str = "供电频繁闪断", *, anonymous: bool = False) -> Any:
    from taizhang.cases import services

    return services.register_case(
        actor=cast.registrar, source="inspection" if cast.inspection_round else "supervision", title=title,
        description="企业反映无预告停电闪断，造成在制品报废。", inspection_round=cast.inspection_round,
        enterprises=cast.enterprises, reporter_name="匿名" if anonymous else "吴总", reporter_anonymous=anonymous)


def drive(cast: Cast, state: State | str, *, shape: Drive | None = None, title: str = "供电频繁闪断") -> Any:
    """A new case, registered and moved through the services into `state`."""
    from taizhang.cases import services

    state = State(state)
    shape = shape or Drive()
    case = register(cast, title, anonymous=shape.anonymous)
    if state == State.DISMISSED:
        return services.dismiss_case(case, actor=cast.supervisor, reason="不属于受理范围")
    if state == State.MERGED:
        survivor = register(cast, title + "（主件）")
        return services.merge_case(case, actor=cast.supervisor, into=survivor.number, reason="同一问题重复登记")
    target = State.RECTIFYING if state == State.ON_LEDGER else state
    for step in ROUTE[1:ROUTE.index(target) + 1]:
        case = _advance(cast, case, step, shape)
    if state == State.ON_LEDGER:
        case = services.put_case_on_ledger(case, actor=cast.supervisor, review_date=case.deadline_on,
                                           reason="需跨年度实施")
    return case


def _advance(cast: Cast, case: Any, step: State, shape: Drive) -> Any:
    from taizhang.cases import services

    s = services
    if step == State.ASSESSING:
        return s.assess_case(case, actor=cast.supervisor, note="组务会研判")
    if step == State.AWAITING_APPROVAL:
        return s.propose_handover(case, actor=cast.supervisor, responsible_org=cast.responsible_org,
                                  lead_org=cast.lead_org, co_orgs=[o for o, _ in cast.co], mode=shape.mode)
    if step == State.HANDED_OVER:
        return s.approve_handover(case, actor=cast.approver)
    if step == State.RECTIFYING:
        case = s.sign_for_case(case, actor=cast.lead_leader)
        for _org, leader in cast.co if shape.co_signed else ():
            case = s.sign_for_assignment(case, actor=leader)
        if shape.evidence:
            case = s.report_progress(case, actor=cast.lead_handler, text="已制定整改方案", evidence=[pdf_upload()])
        if shape.co_signed and shape.co_done:
            for _org, leader in cast.co:
                case = s.complete_assignment(case, actor=leader)
        if shape.extension_pending:
            case = s.request_extension(case, actor=cast.lead_leader, reason="施工受天气影响",
                                       requested_deadline=case.deadline_on + dt.timedelta(days=30))
        return case
    if step == State.AWAITING_ACCEPTANCE:
        return s.submit_for_acceptance(case, actor=cast.lead_leader, summary="已完成线路切换")
    if step == State.AWAITING_FOLLOWUP:
        case = s.accept_case(case, actor=cast.supervisor, checklist=passed_checklist(case), opinion="验收通过")
        for _attempt in range(shape.unreachable_attempts):
            case = s.record_followup(case, actor=cast.supervisor, solved="unreachable", channel="phone")
        return case
    if step == State.AWAITING_CLOSURE:
        return s.record_followup(case, actor=cast.supervisor, solved="solved", satisfaction=5, channel="visit")
    if step == State.CLOSED:
        return s.close_case(case, actor=cast.supervisor, opinion="同意销号")
    raise ValueError(step)


def passed_checklist(case: Any) -> dict[str, bool]:
    """Every item of the case's acceptance checklist, met."""
    from taizhang.cases.checklists import checklist_labels

    return dict.fromkeys(checklist_labels(case.category), True)


def valid_inputs(action: str, world: "World", case: Any, *, merge_into: str = "") -> dict[str, Any]:
    """Inputs with which `action` succeeds on a case driven by `drive` (single outcome: the happy one)."""
    today = MOMENT.date()
    inputs: dict[str, dict[str, Any]] = {
        "assess": {"note": "研判", "category": world.category},
        "dismiss": {"reason": "重复"},
        "merge": {"into": merge_into, "reason": "同一问题"},
        "propose_handover": {"responsible_org": world.district, "lead_org": world.lead_unit,
                             "co_orgs": [world.power_company], "mode": "deadline"},
        "approve": {"note": "同意"},
        "reject": {"reason": "责任单位不准确"},
        "sign_for": {"note": "签收"},
        "decline": {"reason": "不属于本单位职责"},
        "sign_for_assignment": {"note": "配合签收"},
        "file_plan": {"items": [{"text": "新建外部供电线路", "owner": "区建设发展局",
                                 "due_on": today + dt.timedelta(days=20)}, "切换供电线路"]},
        "report_progress": {"text": "线路施工完成一半"},
        "complete_assignment": {"note": "本单位任务完成"},
        "request_extension": {"requested_deadline": (case.deadline_on or today) + dt.timedelta(days=30),
                              "reason": "施工受天气影响"},
        "decide_extension": {"granted": True, "note": "同意延期"},
        "put_on_ledger": {"review_date": today + dt.timedelta(days=90), "reason": "需跨年度实施"},
        "resume": {"note": "恢复整改"},
        "submit_for_acceptance": {"summary": "整改完成"},
        "accept": {"checklist": passed_checklist(case), "opinion": "验收通过"},
        "return_for_rework": {"reason": "佐证材料不足"},
        "record_followup": {"solved": "solved", "satisfaction": 5, "channel": "visit"},
        "waive_followup": {"reason": "三次电话均无法联系企业"},
        "close": {"opinion": "同意销号"},
        "record_recheck": {"held": True},
    }
    return inputs[action]


# --- what a refused action must not change -------------------------------------------------------

def refused(error: type[Exception], code: str, number: str, action: str, actor: "User", **inputs: Any) -> Any:
    """Run the action, expect `error` with `code`, and check that nothing changed; the error is returned."""
    import pytest

    from taizhang.cases import services

    before = footprint(number)
    with pytest.raises(error) as caught:
        services.perform_action(number, action, actor=actor, **inputs)
    assert getattr(caught.value, "code", None) == code, caught.value
    assert footprint(number) == before
    return caught.value


def footprint(number: str) -> dict[str, Any]:
    """The case row, its related rows and the global audit and outbox counts."""
    from taizhang.audit.models import AuditChainHead, AuditEvent
    from taizhang.cases.models import Case
    from taizhang.core.models import OutboxMessage

    case = Case.objects.get(number=number)
    row = Case.objects.filter(pk=case.pk).values().get()

    def rows(related: str, *fields: str) -> list[tuple[Any, ...]]:
        return list(getattr(case, related).order_by("pk").values_list("pk", *fields))

    head = AuditChainHead.objects.filter(id=1).values_list("seq", "hash").first()
    return {
        "case": row,
        "enterprises": sorted(case.enterprises.values_list("pk", flat=True)),
        "assignments": rows("assignments", "org_id", "role", "status", "signed_at", "completed_at",
                            "sign_for_due_at", "note"),
        "plan_items": rows("plan_items", "text", "owner", "due_on", "done"),
        "progress_reports": rows("progress_reports", "text"),
        "evidence": rows("evidence", "sha256", "file"),
        "extension_requests": rows("extension_requests", "status", "requested_deadline"),
        "acceptances": rows("acceptances", "verdict"),
        "followups": rows("followups", "solved", "override_reason"),
        "rechecks": rows("rechecks", "held"),
        "merged_cases": rows("merged_cases", "state"),
        "audit_events": AuditEvent.objects.count(),
        "audit_head": head,
        "outbox": OutboxMessage.objects.count(),
    }


def case_events(number: str) -> list[Any]:
    from taizhang.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(object_type="case", object_id=number).order_by("seq"))


def replay_states(number: str) -> tuple[str, int]:
    """The state the case's audit events lead to, and how many state-machine transitions they record.

    Each event that names a state must start where the previous one ended."""
    state = ""
    transitions = 0
    for event in case_events(number):
        if event.action == "case.registered":
            state = event.after["state"]
            continue
        if "version" not in event.after:
            continue  # not a transition (e.g. evidence added)
        transitions += 1
        if "state" in event.after:
            if event.before.get("state") != state:
                raise AssertionError(f"event #{event.seq} starts from {event.before.get('state')}, not {state}")
            state = event.after["state"]
    return state, transitions


# --- processes racing on one database ------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    key: str  # a label for the result, e.g. "A/approve/0"
    number: str
    action: str
    username: str
    version: int | None
    inputs: dict[str, Any] = field(default_factory=dict)


def database_url(settings_dict: dict[str, Any]) -> str:
    """A URL for the database described by `settings_dict` (the test database of the parent)."""
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


def race_worker(url: str, jobs: Iterable[Job], start: Any, results: Any) -> None:
    """Run in a spawned process: set Django up on `url`, wait for the others, run `jobs` in order and
    put one (key, outcome, version, state) tuple per job on `results`. Outcome is "ok" or an error code."""
    os.environ["TAIZHANG_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.config.settings")
    import django

    django.setup()
    from django.db import connection

    from taizhang.accounts.models import User
    from taizhang.cases import services
    from taizhang.core.errors import DomainError

    jobs = list(jobs)
    users = {u.username: u for u in User.objects.filter(username__in={j.username for j in jobs})}
    connection.ensure_connection()
    start.wait(timeout=120)
    try:
        for job in jobs:
            try:
                case = services.perform_action(job.number, job.action, actor=users[job.username],
                                               version=job.version, **job.inputs)
                results.put((job.key, "ok", case.version, case.state))
            except DomainError as exc:
                results.put((job.key, exc.code, exc.params.get("version"), exc.params.get("state")))
            except Exception as exc:  # reported to the parent, which fails the test with it
                results.put((job.key, f"error: {type(exc).__name__}: {exc}", None, None))
    finally:
        connection.close()
