"""The only writers of 回头看 campaigns. Each service runs in one transaction: policy check,
compare-and-swap on the campaign or item row, one audit event and an outbox row.

A check goes through the workflow action `record_recheck` (cases.services), which writes the
`cases.Recheck` row, stores the evidence and, on a relapse, reopens the case; the campaign item keeps the
link to that row.
"""

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from itertools import cycle
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils.translation import gettext as _

from taizhang.accounts.models import User
from taizhang.audit.services import SYSTEM, ActorContext, record_event
from taizhang.cases import policies as case_policies
from taizhang.cases import services as case_services
from taizhang.cases.models import Case, Category, Recheck
from taizhang.cases.workflow import State
from taizhang.core import clock, outbox
from taizhang.core.errors import Conflict, IllegalTransition, PermissionDenied, ValidationFailed
from taizhang.followup import policies, selectors
from taizhang.followup.models import CampaignItem, RecheckCampaign
from taizhang.orgs.models import InspectionRound, Organisation

QUEUE_BATCH = 1000
MAX_SEED = 2**31 - 1
MAX_SAMPLE = 1_000_000
Status = RecheckCampaign.Status
ItemStatus = CampaignItem.Status


def _audit(actor: ActorContext, action: str, campaign: RecheckCampaign, after: dict[str, Any]) -> None:
    record_event(actor=actor, action=action, object_type="recheck_campaign", object_id=campaign.pk,
                 object_repr=campaign.name, after=after)


def _actor(user: User, seat: case_policies.Seat | None) -> ActorContext:
    return case_services.actor_context(user, seat)


def _locked_campaign(actor: User, pk: int) -> RecheckCampaign:
    campaign = selectors.campaign_for(actor, pk)
    return RecheckCampaign.objects.select_for_update(of=("self",)).select_related("org", "category", "unit").get(
        pk=campaign.pk)


# --- planning ------------------------------------------------------------------------------------

def _validated_checkers(org: Organisation, checkers: Iterable[User]) -> list[User]:
    chosen = list(dict.fromkeys(checkers))
    eligible = set(policies.eligible_checkers(org).filter(pk__in=[u.pk for u in chosen]).values_list("pk", flat=True))
    refused = [str(u) for u in chosen if u.pk not in eligible]
    if refused:
        raise ValidationFailed(
            _("Checkers must be supervisors or inspectors of the supervising side: %(names)s.")
            % {"names": "、".join(refused)}, code="validation.invalid_checker", field="checkers")
    return chosen


def _validated_sample(sample_size: int | None, sample_percent: int | None) -> None:
    if sample_size is not None and sample_percent is not None:
        raise ValidationFailed(_("Give either a number of cases or a percentage, not both."),
                               code="validation.sample_ambiguous", field="sample_size")
    if sample_size is not None and not 1 <= sample_size <= MAX_SAMPLE:
        raise ValidationFailed(_("The sample takes between 1 and %(max)d cases.") % {"max": MAX_SAMPLE},
                               code="validation.invalid_sample",
                               field="sample_size")
    if sample_percent is not None and not 1 <= sample_percent <= 100:
        raise ValidationFailed(_("The percentage lies between 1 and 100."), code="validation.invalid_sample",
                               field="sample_percent")


@transaction.atomic
def create_campaign(*, actor: User, name: str, deadline: dt.date | None, closed_from: dt.date | None = None,
                    closed_to: dt.date | None = None, category: Category | None = None,
                    unit: Organisation | None = None, inspection_round: InspectionRound | None = None,
                    source: str = "", sample_size: int | None = None, sample_percent: int | None = None,
                    seed: int | None = None, checkers: Sequence[User] = ()) -> RecheckCampaign:
    """A draft 回头看 campaign organised by the actor's supervising body. Nothing is selected until launch;
    without a seed a random one is drawn and stored, so the sample can be drawn again."""
    seat = policies.organising_seat(actor)
    if seat is None:
        raise PermissionDenied(_("Only supervisors and inspectors organise re-check campaigns."),
                               code="workflow.action_not_allowed")
    name = (name or "").strip()[:120]
    if not name:
        raise ValidationFailed(_("Give the campaign a name."), code="validation.required", field="name")
    if deadline is None:
        raise ValidationFailed(_("Set a deadline for the campaign."), code="validation.required", field="deadline")
    if deadline < clock.today():
        raise ValidationFailed(_("The deadline cannot lie in the past."), code="validation.date_in_past",
                               field="deadline")
    if closed_from and closed_to and closed_from > closed_to:
        raise ValidationFailed(_("The closure period ends before it starts."), code="validation.invalid_period",
                               field="closed_to")
    if source and source not in Case.Source.values:
        raise ValidationFailed(_("Unknown source."), code="validation.invalid_choice", field="source")
    _validated_sample(sample_size, sample_percent)
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ValidationFailed(_("The seed is a whole number between 0 and %(max)d.") % {"max": MAX_SEED},
                               code="validation.invalid_seed", field="seed")
    org = Organisation.objects.get(pk=seat.org_id)
    chosen = _validated_checkers(org, checkers)
    campaign = RecheckCampaign.objects.create(
        name=name, org=org, closed_from=closed_from, closed_to=closed_to, category=category, unit=unit,
        inspection_round=inspection_round, source=source, sample_size=sample_size, sample_percent=sample_percent,
        seed=secrets.randbelow(MAX_SEED) if seed is None else seed, deadline=deadline, created_by=actor,
        created_at=clock.now())
    campaign.checkers.set(chosen)
    _audit(_actor(actor, seat), "recheck_campaign.created", campaign, {
        "name": name, "closed_from": closed_from, "closed_to": closed_to, "category": category and category.pk,
        "unit": unit and unit.pk, "inspection_round": inspection_round and inspection_round.pk, "source": source,
        "sample_size": sample_size, "sample_percent": sample_percent, "seed": campaign.seed,
        "checkers": [u.pk for u in chosen], "deadline": deadline})
    return campaign


def _assign_checkers(cases: list[Case], checkers: list[User]) -> list[User | None]:
    """Checkers in turn, each case going to the next checker who may re-check it (None: nobody named)."""
    if not checkers:
        return [None] * len(cases)
    turn = cycle(range(len(checkers)))
    assigned: list[User | None] = []
    for case in cases:
        start = next(turn)
        order = checkers[start:] + checkers[:start]
        assigned.append(next((u for u in order if case_policies.acting_seat(u, "record_recheck", case)), None))
    return assigned


@transaction.atomic
def launch_campaign(campaign_pk: int, *, actor: User, version: int | None = None) -> RecheckCampaign:
    """Freeze the selection: one pending item per selected case, checkers assigned in turn."""
    campaign = _locked_campaign(actor, campaign_pk)
    seat = policies.managing_seat(actor, campaign)
    if seat is None:
        raise PermissionDenied(_("Only the organising body launches the campaign."),
                               code="workflow.action_not_allowed")
    if campaign.status != Status.DRAFT:
        raise IllegalTransition(_("Only a draft campaign can be launched."), code="recheck.not_draft",
                                state=campaign.status, version=campaign.version)
    expected = campaign.version if version is None else version
    if expected != campaign.version:
        raise Conflict(state=campaign.status, version=campaign.version)
    cases = selectors.select_cases(actor, campaign)
    if not cases:
        raise ValidationFailed(_("No closed case matches the campaign's filters."),
                               code="recheck.nothing_selected")
    checkers = list(campaign.checkers.order_by("display_name", "pk"))
    now = clock.now()
    try:
        with transaction.atomic():
            CampaignItem.objects.bulk_create(
                CampaignItem(campaign=campaign, case=case, checker=checker, queued_at=now)
                for case, checker in zip(cases, _assign_checkers(cases, checkers), strict=True))
    except IntegrityError:  # a case was queued elsewhere meanwhile
        raise Conflict(_("Some of the selected cases were queued elsewhere meanwhile. Try again."),
                       code="recheck.selection_changed", state=campaign.status, version=campaign.version) from None
    updated = RecheckCampaign.objects.filter(pk=campaign.pk, status=Status.DRAFT, version=expected).update(
        status=Status.LAUNCHED, launched_at=now, version=F("version") + 1)
    if updated != 1:
        raise Conflict(state=campaign.status, version=campaign.version)
    campaign.refresh_from_db()
    numbers = [c.number for c in cases]
    _audit(_actor(actor, seat), "recheck_campaign.launched", campaign,
           {"status": campaign.status, "seed": campaign.seed, "selected": len(cases), "cases": numbers})
    outbox.enqueue("recheck_campaign.launched", {
        "campaign": campaign.pk, "org_id": campaign.org_id, "checker_ids": [u.pk for u in checkers],
        "selected": len(cases), "deadline": campaign.deadline.isoformat() if campaign.deadline else None,
        "actor": actor.pk})
    return campaign


# --- checking ------------------------------------------------------------------------------------

def _complete_if_done(campaign: RecheckCampaign, now: dt.datetime) -> bool:
    """A planned campaign completes with its last check; an automatic one once its month is over too."""
    if campaign.kind == RecheckCampaign.Kind.AUTOMATIC and campaign.month and \
            campaign.month >= clock.today().replace(day=1):
        return False
    pending = CampaignItem.objects.filter(campaign=campaign, status=ItemStatus.PENDING)
    return RecheckCampaign.objects.filter(pk=campaign.pk, status=Status.LAUNCHED).exclude(Exists(pending)).update(
        status=Status.COMPLETED, completed_at=now, version=F("version") + 1) == 1


@transaction.atomic
def record_check(campaign_pk: int, item_pk: int, *, actor: User, held: Any, note: str = "",
                 evidence: Any = None) -> CampaignItem:
    """Record one check — held or relapsed — through the workflow action `record_recheck`, which reopens a
    relapsed case as rectifying (reopen count +1). The item keeps the link to the re-check."""
    item = selectors.item_for(actor, campaign_pk, item_pk)
    campaign = item.campaign
    if campaign.status != Status.LAUNCHED:
        raise IllegalTransition(_("The campaign is not running."), code="recheck.campaign_not_running",
                                state=campaign.status)
    item.status = CampaignItem.objects.select_for_update().values_list("status", flat=True).get(pk=item.pk)
    if item.status != ItemStatus.PENDING:
        raise IllegalTransition(_("This case has been checked already."), code="recheck.already_checked",
                                state=item.status)
    seat = policies.checking_seat(actor, item)
    if seat is None:
        raise PermissionDenied(_("Only the checker assigned to this case records its check."),
                               code="recheck.not_checker")
    inputs: dict[str, Any] = {"held": held, "note": note}
    if evidence:
        inputs["evidence"] = evidence
    case = case_services.record_recheck(item.case.number, actor=actor, **inputs)
    recheck = Recheck.objects.filter(case=case).latest("pk")  # the case row is locked: this check's row
    now = recheck.checked_at
    status = ItemStatus.HELD if recheck.held else ItemStatus.RELAPSED
    updated = CampaignItem.objects.filter(pk=item.pk, status=ItemStatus.PENDING).update(
        status=status, checked_at=now, recheck=recheck, checker=actor)
    if updated != 1:
        raise Conflict(_("Someone else recorded this check in the meantime."), code="recheck.already_checked")
    item.refresh_from_db()
    completed = _complete_if_done(campaign, now)
    _audit(_actor(actor, seat), "recheck_campaign.case_checked", campaign, {
        "item": item.pk, "case": case.number, "recheck": recheck.pk, "held": recheck.held,
        "case_state": case.state, "reopen_count": case.reopen_count, "campaign_completed": completed})
    outbox.enqueue("recheck_campaign.case_checked", {
        "campaign": campaign.pk, "item": item.pk, "case": case.number, "held": recheck.held,
        "org_id": campaign.org_id, "actor": actor.pk})
    return item


# --- the automatic queue (a sweep after every outbox pass) ----------------------------------------

def _month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _month_end(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def _automatic_campaign(org_id: int, month: dt.date, now: dt.datetime) -> RecheckCampaign:
    name = _("Due re-checks %(year)d-%(month)02d") % {"year": month.year, "month": month.month}
    campaign, created = RecheckCampaign.objects.get_or_create(
        kind=RecheckCampaign.Kind.AUTOMATIC, org_id=org_id, month=month,
        defaults={"name": name, "status": Status.LAUNCHED, "deadline": _month_end(month), "created_at": now,
                  "launched_at": now})
    if created:
        _audit(SYSTEM, "recheck_campaign.created", campaign,
               {"kind": campaign.kind, "month": month, "status": campaign.status, "deadline": campaign.deadline})
    return campaign


def _settle_checked_elsewhere(now: dt.datetime) -> int:
    """Pending items whose case was re-checked outside the campaign (e.g. from the case page) take that
    re-check as theirs."""
    outside = Recheck.objects.filter(case=OuterRef("case"), checked_at__gte=OuterRef("queued_at"),
                                     campaign_item__isnull=True)
    settled = 0
    for item in CampaignItem.objects.filter(Exists(outside), status=ItemStatus.PENDING).select_related(
            "campaign")[:QUEUE_BATCH]:
        recheck = Recheck.objects.filter(case_id=item.case_id, checked_at__gte=item.queued_at,
                                         campaign_item__isnull=True).order_by("pk").first()
        if recheck is None:
            continue
        with transaction.atomic():
            if CampaignItem.objects.filter(pk=item.pk, status=ItemStatus.PENDING).update(
                    status=ItemStatus.HELD if recheck.held else ItemStatus.RELAPSED, checked_at=recheck.checked_at,
                    recheck=recheck, checker_id=recheck.checked_by_id):
                settled += 1
                _complete_if_done(item.campaign, now)
    return settled


def queue_due_rechecks() -> int:
    """Put every closed case whose re-check is due (`Case.recheck_due_at`) and that waits in no campaign into
    its supervising body's automatic campaign of the month. Set-based and idempotent: a case waits in one
    campaign at a time (a partial unique index), so running twice queues nothing twice. Returns how many
    cases were queued."""
    now = clock.now()
    month = _month_of(clock.today())
    _settle_checked_elsewhere(now)
    waiting = CampaignItem.objects.filter(case=OuterRef("pk"), status=ItemStatus.PENDING)
    due = (Case.objects.filter(state=State.CLOSED, recheck_due_at__lte=now).exclude(Exists(waiting))
           .order_by("pk").values_list("pk", "supervising_org_id", "number"))
    queued = 0
    while True:
        batch = list(due[:QUEUE_BATCH])
        if not batch:
            break
        batch_added = 0
        with transaction.atomic():
            by_org: dict[int, list[tuple[int, str]]] = {}
            for case_id, org_id, number in batch:
                by_org.setdefault(org_id, []).append((case_id, number))
            for org_id, cases in by_org.items():
                campaign = _automatic_campaign(org_id, month, now)
                before = campaign.items.count()
                CampaignItem.objects.bulk_create(
                    [CampaignItem(campaign=campaign, case_id=case_id, queued_at=now) for case_id, _n in cases],
                    ignore_conflicts=True)
                added = campaign.items.count() - before
                queued += added
                batch_added += added
                if added:
                    _audit(SYSTEM, "recheck_campaign.queued", campaign,
                           {"queued": added, "cases": [n for _c, n in cases]})
                    outbox.enqueue("recheck_campaign.queued", {"campaign": campaign.pk, "org_id": org_id,
                                                               "queued": added})
        if len(batch) < QUEUE_BATCH or not batch_added:
            break
    _complete_past_automatic(now, month)
    return queued


def _complete_past_automatic(now: dt.datetime, month: dt.date) -> None:
    pending = CampaignItem.objects.filter(campaign=OuterRef("pk"), status=ItemStatus.PENDING)
    RecheckCampaign.objects.filter(kind=RecheckCampaign.Kind.AUTOMATIC, status=Status.LAUNCHED,
                                   month__lt=month).exclude(Exists(pending)).update(
        status=Status.COMPLETED, completed_at=now, version=F("version") + 1)
