"""Who may see and run 回头看 campaigns. Built on `cases.policies`: cases are only ever read through
`cases.policies.scope()`; campaigns belong to the organising body and are seen from it and above, and by
their checkers."""

from django.db.models import Q, QuerySet

from taizhang.accounts.models import User
from taizhang.accounts.roles import Role
from taizhang.cases import policies
from taizhang.followup.models import CampaignItem, RecheckCampaign
from taizhang.orgs.models import Organisation

# Who organises campaigns and checks cases: the roles of the workflow action `record_recheck`.
ORGANISING_ROLES = frozenset({Role.SUPERVISOR, Role.INSPECTOR})
VIEWING_ROLES = ORGANISING_ROLES | {Role.APPROVER, Role.VIEWER}


def organising_seat(user: User) -> policies.Seat | None:
    """The membership a new campaign is organised from (its organisation owns the campaign)."""
    return next((s for s in policies.seats(user) if s.role in ORGANISING_ROLES), None)


def campaigns_scope(user: User) -> QuerySet[RecheckCampaign]:
    """Campaigns of the user's supervising organisations and below, those the user checks for, and those
    holding a case the user may re-check (e.g. an inspector's round in the supervising body's campaign)."""
    if not policies.seats(user):
        return RecheckCampaign.objects.none()
    recheckable = policies.scope(user, "record_recheck")
    q = (Q(checkers=user) | Q(pk__in=CampaignItem.objects.filter(checker=user).values("campaign_id"))
         | Q(pk__in=CampaignItem.objects.filter(case__in=recheckable).values("campaign_id")))
    for seat in policies.seats(user):
        if seat.role in VIEWING_ROLES:
            q |= Q(org__path__startswith=seat.org_path)
    return RecheckCampaign.objects.filter(pk__in=RecheckCampaign.objects.filter(q).values("pk"))


def managing_seat(user: User, campaign: RecheckCampaign) -> policies.Seat | None:
    """A supervisor or inspector of the organising body (or above): may edit, launch and complete it."""
    return next((s for s in policies.seats(user)
                 if s.role in ORGANISING_ROLES and campaign.org.path.startswith(s.org_path)), None)


def eligible_checkers(org: Organisation) -> QuerySet[User]:
    """Supervisors and inspectors on the supervising side of `org`: at it, below it or above it."""
    at_or_around = Q(memberships__org__path__startswith=org.path) | Q(memberships__org_id__in=org.ancestor_ids())
    return (User.objects.filter(at_or_around, memberships__role__in=[r.value for r in ORGANISING_ROLES],
                                memberships__org__is_active=True, is_active=True)
            .distinct().order_by("display_name", "pk"))


def checking_seat(user: User, item: CampaignItem) -> policies.Seat | None:
    """The membership that lets `user` record the check of `item`: the assigned checker (or, for an item
    without one, anyone) who may record the re-check of the case under the workflow's rules."""
    if item.checker_id is not None and item.checker_id != user.pk:
        return None
    return policies.acting_seat(user, "record_recheck", item.case)
