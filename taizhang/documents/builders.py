"""The text of the case documents, from the case as it stands when the document is first issued. 公文 are
written in Chinese whatever the interface language, so the wording lives here rather than in the message
catalogue. No document names a reporter."""

import datetime as dt
from collections.abc import Sequence

from django.utils import timezone

from taizhang.cases.models import Assignment, Case
from taizhang.documents.official import Block, Heading, OfficialDocument, Paragraph, Table
from taizhang.orgs.models import Organisation
from taizhang.sla.models import Escalation, SupervisionOrder

MODE_WORDS: dict[str, str] = {
    Case.Mode.IMMEDIATE: "立行立改", Case.Mode.DEADLINE: "限期整改", Case.Mode.LONG_TERM: "长期整改",
}
OVERDUE_WORDS: dict[str, str] = {
    "sign_for": "逾期未签收", "progress_report": "逾期未报送整改进展", "completion": "逾期未完成整改",
    "ledger_review": "挂账整改逾期未复核",
}


def local_day(value: dt.date | dt.datetime) -> dt.date:
    return timezone.localdate(value) if isinstance(value, dt.datetime) else value


def _day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "—"
    day = local_day(value)
    return f"{day.year}年{day.month}月{day.day}日"


def _units(assignments: Sequence[Assignment], role: str) -> list[Organisation]:
    return [a.org for a in assignments if a.role == role]


def _problem(case: Case, lead: list[Organisation], deadline: dt.date | None) -> list[Block]:
    """The case in a one-row table, its description and the enterprises it concerns."""
    blocks: list[Block] = [
        Table(header=("问题编号", "牵头单位", "整改方式", "整改时限"),
              rows=[(case.number, "、".join(o.name for o in lead) or "—", MODE_WORDS.get(case.mode, "—"),
                     _day(deadline))]),
        Paragraph(case.description),
    ]
    enterprises = "、".join(e.name for e in case.enterprises.all())
    if enterprises:
        blocks.append(Paragraph(f"涉及企业：{enterprises}。"))
    return blocks


def _responsibilities(case: Case, assignments: Sequence[Assignment]) -> Paragraph:
    lead = "、".join(o.name for o in _units(assignments, Assignment.Role.LEAD)) or "—"
    co = "、".join(o.name for o in _units(assignments, Assignment.Role.CO))
    parts = [f"主体责任单位：{case.responsible_org.name if case.responsible_org else '—'}", f"牵头单位：{lead}"]
    if co:
        parts.append(f"配合单位：{co}")
    if case.responsible_leader:
        parts.append(f"责任领导：{case.responsible_leader}")
    if case.responsible_person:
        parts.append(f"责任人：{case.responsible_person}")
    return Paragraph("；".join(parts) + "。")


def _copy_to(addressee: Organisation | None, assignments: Sequence[Assignment]) -> tuple[str, ...]:
    names = [a.org.name for a in assignments if addressee is None or a.org_id != addressee.pk]
    return tuple(dict.fromkeys(names))


def _found_by(case: Case) -> str:
    if case.inspection_round_id and case.inspection_round is not None:
        return f"{case.inspection_round.group.name}在巡察中"
    return f"{case.supervising_org.name}在工作中"


def transfer_letter(case: Case, assignments: Sequence[Assignment], *, number: str, handed_over: dt.datetime,
                    deadline: dt.date | None, sign_for_due: dt.datetime | None) -> OfficialDocument:
    """问题移交函 to the organisation bearing main responsibility, with the deadline agreed at the handover."""
    issuer, addressee = case.supervising_org, case.responsible_org
    lead = _units(assignments, Assignment.Role.LEAD)
    body: list[Block] = [
        Paragraph(f"{_found_by(case)}发现“{case.title}”问题，经研判并报批准，现移交你单位落实主体责任，"
                  f"按{MODE_WORDS.get(case.mode, '限期整改')}要求抓好整改。"),
        Heading("一、问题基本情况"),
        *_problem(case, lead, deadline),
        Heading("二、责任分工"),
        _responsibilities(case, assignments),
    ]
    if case.goal:
        body += [Heading("三、整改目标"), Paragraph(case.goal)]
    sign_for = f"于{_day(sign_for_due)}前" if sign_for_due else "按规定时限"
    body += [
        Heading(f"{'四' if case.goal else '三'}、工作要求"),
        Paragraph(f"请牵头单位{sign_for}签收，制定整改措施，明确责任人和完成时限，于{_day(deadline)}前完成整改，"
                  "整改进展和佐证材料按期通过整改台账报送。对移交问题有异议的，请在退回时限内说明理由。"),
    ]
    return OfficialDocument(
        kind="transfer_letter", issuer=issuer.name, number=number, title=f"关于移交“{case.title}”问题的函",
        addressee=addressee.name if addressee else "", body=body, signatory=issuer.name,
        date=local_day(handed_over), copy_to=_copy_to(addressee, assignments))


def immediate_notice(case: Case, assignments: Sequence[Assignment], *, number: str, handed_over: dt.datetime,
                     deadline: dt.date | None) -> OfficialDocument:
    """立行立改通知书 at the handover of a case to be rectified at once."""
    issuer, addressee = case.supervising_org, case.responsible_org
    lead = _units(assignments, Assignment.Role.LEAD)
    body: list[Block] = [
        Paragraph(f"{_found_by(case)}发现“{case.title}”问题。经研判并报批准，该问题属于立行立改事项，"
                  "现通知如下："),
        Heading("一、问题情况"),
        *_problem(case, lead, deadline),
        Heading("二、整改要求"),
        _responsibilities(case, assignments),
        Paragraph(f"请立即组织整改，于{_day(deadline)}前整改到位，并将整改结果及佐证材料报送"
                  f"{issuer.name}。整改不力、敷衍应付的，将依规依纪依法严肃问责。"),
    ]
    return OfficialDocument(
        kind="immediate_notice", issuer=issuer.name, number=number, title="立行立改通知书",
        addressee=addressee.name if addressee else "", body=body, signatory=issuer.name,
        date=local_day(handed_over), copy_to=_copy_to(addressee, assignments))


def supervision_order(order: SupervisionOrder, escalation: Escalation, assignments: Sequence[Assignment],
                      *, handed_over: dt.datetime | None) -> OfficialDocument:
    """督办通知书 of a level-3 escalation; its number is the 督办单's own."""
    case, issuer, addressee = order.case, order.issuing_org, order.addressed_org
    lead = _units(assignments, Assignment.Role.LEAD)
    lead_names = "、".join(o.name for o in lead) or addressee.name
    handed = f"已于{_day(handed_over)}交由{lead_names}牵头办理" if handed_over else f"由{lead_names}牵头办理"
    why = OVERDUE_WORDS.get(escalation.clock, "办理进度滞后")
    body: list[Block] = [
        Paragraph(f"{case.number}号问题（{case.title}）{handed}，整改时限为{_day(case.deadline_on)}，目前{why}。"
                  "根据问题整改三级贯通督办机制，现予以督办。"),
        Heading("一、问题情况"),
        *_problem(case, lead, case.deadline_on),
    ]
    if escalation.reason:
        body += [Heading("二、督办事由"), Paragraph(escalation.reason)]
    body += [
        Heading(f"{'三' if escalation.reason else '二'}、办理要求"),
        Paragraph(f"请你单位高度重视，压实主体责任，于{_day(order.reply_due_at)}前将办理情况书面报告"
                  f"{issuer.name}。逾期未报告或整改不到位的，将予以通报并依规依纪依法追究责任。"),
    ]
    return OfficialDocument(
        kind="supervision_order", issuer=issuer.name, number=order.number,
        title=f"关于督促办理“{case.title}”问题的督办通知书", addressee=addressee.name, body=body,
        signatory=issuer.name, date=local_day(order.issued_at), copy_to=_copy_to(addressee, assignments))

