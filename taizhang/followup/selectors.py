"""Scoped reads of 回头看 campaigns. Cases come from `cases.policies.scope()`, campaigns from
`followup.policies.campaigns_scope()`; anything outside is NotFound."""

import datetime as dt
import math
import random
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.models import User
from taizhang.cases import policies as case_policies
from taizhang.cases.models import Assignment, Case
from taizhang.cases.workflow import State
from taizhang.core.errors import NotFound, PermissionDenied, ValidationFailed
from taizhang.followup import policies
from taizhang.followup.models import CampaignItem, RecheckCampaign
from taizhang.orgs.models import Organisation
from taizhang.sla import deadlines
from taizhang.web import selectors as web_selectors


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def candidates(user: User, campaign: RecheckCampaign) -> QuerySet[Case]:
    """Closed cases in `user`'s scope that match the campaign's filters and wait in no other campaign."""
    cases = case_policies.scope(user).filter(state=State.CLOSED)
    if campaign.closed_from:
        cases = cases.filter(closed_at__gte=_start_of_day(campaign.closed_from))
    if campaign.closed_to:
        cases = cases.filter(closed_at__lte=deadlines.end_of_day(campaign.closed_to))
    if campaign.category_id and campaign.category:
        cases = cases.filter(category__path__startswith=campaign.category.path)
    if campaign.unit_id and campaign.unit:
        path = campaign.unit.path
        handling = Assignment.objects.filter(case=OuterRef("pk"), org__path__startswith=path,
                                             status__in=case_policies.ACTIVE_ASSIGNMENT)
        cases = cases.filter(Q(responsible_org__path__startswith=path) | Q(Exists(handling)))
    if campaign.inspection_round_id:
        cases = cases.filter(inspection_round_id=campaign.inspection_round_id)
    if campaign.source:
        cases = cases.filter(source=campaign.source)
    waiting = CampaignItem.objects.filter(case=OuterRef("pk"), status=CampaignItem.Status.PENDING)
    if campaign.pk:
        waiting = waiting.exclude(campaign=campaign)
    return cases.exclude(Exists(waiting))


def sample_size(campaign: RecheckCampaign, pool: int) -> int:
    if campaign.sample_size:
        return min(campaign.sample_size, pool)
    if campaign.sample_percent:
        return min(math.ceil(pool * campaign.sample_percent / 100), pool)
    return pool


def select_cases(user: User, campaign: RecheckCampaign) -> list[Case]:
    """The campaign's selection for `user`: every candidate, or a random sample drawn with the campaign's
    seed from the candidates in case-number order — the same filters and seed give the same cases on any
    database. The result is in case-number order."""
    pool = sorted(candidates(user, campaign).select_related("supervising_org", "inspection_round__group"),
                  key=lambda case: case.number)
    size = sample_size(campaign, len(pool))
    if size < len(pool):
        pool = sorted(random.Random(campaign.seed).sample(pool, size), key=lambda case: case.number)
    return pool


def preview_count(user: User, campaign: RecheckCampaign) -> tuple[int, int]:
    """(candidates, selected) for the create form, before anything is saved."""
    pool = candidates(user, campaign).count()
    return pool, sample_size(campaign, pool)


def campaigns_visible_to(user: User) -> QuerySet[RecheckCampaign]:
    return policies.campaigns_scope(user).select_related("org")


@dataclass(frozen=True)
class Progress:
    total: int
    pending: int
    held: int
    relapsed: int

    @property
    def checked(self) -> int:
        return self.held + self.relapsed

    @property
    def percent_done(self) -> int:
        return round(100 * self.checked / self.total) if self.total else 0


def _progress_of(rows: dict[str, Any]) -> Progress:
    return Progress(total=rows.get("total") or 0, pending=rows.get("pending") or 0, held=rows.get("held") or 0,
                    relapsed=rows.get("relapsed") or 0)


STATUS = CampaignItem.Status
PROGRESS_COUNTS = {
    "total": Count("items"),
    "pending": Count("items", filter=Q(items__status=STATUS.PENDING)),
    "held": Count("items", filter=Q(items__status=STATUS.HELD)),
    "relapsed": Count("items", filter=Q(items__status=STATUS.RELAPSED)),
}


def campaign_list(user: User) -> list[tuple[RecheckCampaign, Progress]]:
    """Every visible campaign with its progress, newest first (two queries)."""
    campaigns = list(campaigns_visible_to(user).prefetch_related("checkers").order_by("-created_at", "-pk"))
    rows = (RecheckCampaign.objects.filter(pk__in=[c.pk for c in campaigns]).values("pk")
            .annotate(**PROGRESS_COUNTS))
    counts: dict[int, dict[str, Any]] = {row["pk"]: dict(row) for row in rows}
    return [(c, _progress_of(counts.get(c.pk, {}))) for c in campaigns]


def campaign_for(user: User, pk: int) -> RecheckCampaign:
    try:
        return campaigns_visible_to(user).select_related("category", "unit", "inspection_round",
                                                         "created_by").get(pk=pk)
    except (RecheckCampaign.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def progress(campaign: RecheckCampaign) -> Progress:
    return _progress_of(campaign.items.aggregate(
        total=Count("pk"), pending=Count("pk", filter=Q(status=STATUS.PENDING)),
        held=Count("pk", filter=Q(status=STATUS.HELD)), relapsed=Count("pk", filter=Q(status=STATUS.RELAPSED))))


def items_of(user: User, campaign: RecheckCampaign) -> QuerySet[CampaignItem]:
    """The campaign's items whose cases `user` may see."""
    return (campaign.items.filter(case__in=case_policies.scope(user))
            .select_related("case", "checker", "recheck").order_by("case__number"))


def item_for(user: User, campaign_pk: int, item_pk: int) -> CampaignItem:
    campaign = campaign_for(user, campaign_pk)
    try:
        item = items_of(user, campaign).select_related("case__supervising_org", "case__inspection_round__group"
                                                       ).get(pk=item_pk)
    except (CampaignItem.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    item.campaign = campaign
    return item


def pending_checks_for(user: User) -> QuerySet[CampaignItem]:
    """我的待办: pending checks assigned to `user`, and unassigned ones on cases `user` may re-check."""
    recheckable = case_policies.scope(user, "record_recheck")
    mine = Q(checker=user) | Q(checker__isnull=True)
    return (CampaignItem.objects.filter(mine, status=STATUS.PENDING, case__in=recheckable,
                                        campaign__status=RecheckCampaign.Status.LAUNCHED,
                                        campaign__in=policies.campaigns_scope(user))
            .select_related("case", "campaign").order_by("campaign__deadline", "case__number"))


# --- the planning form -----------------------------------------------------------------------------

FILTER_FIELDS = ("closed_from", "closed_to", "category", "unit", "inspection_round", "source", "sample_size",
                 "sample_percent", "seed")


def planning_choices(user: User) -> dict[str, Any] | None:
    """What the planning form offers `user`, or None if they may not organise campaigns."""
    seat = policies.organising_seat(user)
    if seat is None:
        return None
    org = Organisation.objects.get(pk=seat.org_id)
    return {"categories": web_selectors.categories(), "units": list(web_selectors.handover_orgs()),
            "rounds": web_selectors.rounds_for(user), "checkers": list(policies.eligible_checkers(org))}


def preview(user: User, criteria: dict[str, Any]) -> tuple[int, int]:
    """(candidates, selected) for filters not saved yet."""
    unsaved = RecheckCampaign(**{name: criteria.get(name) for name in FILTER_FIELDS if name != "source"},
                              source=criteria.get("source") or "")
    return preview_count(user, unsaved)


def pending_checks_count(user: User) -> int | None:
    """The number of checks waiting for `user` (我的待办), or None for those who never check cases."""
    if policies.organising_seat(user) is None:
        return None
    return pending_checks_for(user).count()


def resolve_planning(user: User, data: dict[str, Any]) -> dict[str, Any]:
    """API input (ids) as the services take it: objects among those the planning form would offer."""
    choices = planning_choices(user)
    if choices is None:
        raise PermissionDenied(_("Only supervisors and inspectors organise re-check campaigns."),
                               code="workflow.action_not_allowed")
    resolved = dict(data)
    for name, key in (("category", "categories"), ("unit", "units"), ("inspection_round", "rounds")):
        if data.get(name) is None:
            resolved[name] = None
            continue
        found = next((o for o in choices[key] if o.pk == data[name]), None)
        if found is None:
            raise ValidationFailed(_("Unknown choice."), code="validation.invalid_choice", field=name)
        resolved[name] = found
    by_pk = {u.pk: u for u in choices["checkers"]}
    unknown = [pk for pk in data.get("checkers") or [] if pk not in by_pk]
    if unknown:
        raise ValidationFailed(_("Checkers must be supervisors or inspectors of the supervising side."),
                               code="validation.invalid_checker", field="checkers")
    resolved["checkers"] = [by_pk[pk] for pk in data.get("checkers") or []]
    return resolved
