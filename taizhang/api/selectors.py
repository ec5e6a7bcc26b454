"""Scoped reads for the API. Cases always start from `policies.scope()`; out of scope is NotFound."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from taizhang.accounts.models import User
from taizhang.accounts.roles import Role
from taizhang.api.models import ApiToken
from taizhang.cases import listing, policies
from taizhang.cases.models import Assignment, Case, Category, Evidence, ProgressReport
from taizhang.core.errors import NotFound, ValidationFailed
from taizhang.orgs.models import Enterprise, Organisation
from taizhang.sla.models import TimeLimit

ORDERS = tuple(listing.SORTS)


def _case_queryset(user: User) -> QuerySet[Case]:
    return policies.scope(user).select_related("supervising_org", "responsible_org", "category", "merged_into",
                                               "inspection_round__group").prefetch_related(
        Prefetch("enterprises", queryset=Enterprise.objects.only("pk", "name")))


def case_for(user: User, number: str) -> Case:
    try:
        return _case_queryset(user).get(number=number)
    except Case.DoesNotExist:
        raise NotFound() from None


@dataclass(frozen=True)
class CasePage:
    rows: Sequence[Case]
    next_cursor: str | None
    has_more: bool


def case_page(user: User, params: Mapping[str, Any]) -> CasePage:
    """One page of the cases `user` may see, with the ledger's filters, search, order and cursor
    (taizhang.cases.listing, shared with the web workspace), as full cases."""
    filters = listing.LedgerFilters.from_query(params)
    request = listing.PageRequest.from_query(params)
    page = listing.ledger_page(user, filters, cursor=request.cursor, limit=request.limit, order=request.order)
    ids = [row["id"] for row in page.rows]
    by_id = {case.pk: case for case in _case_queryset(user).filter(pk__in=ids)}
    return CasePage([by_id[pk] for pk in ids if pk in by_id], page.next_cursor, page.has_more)


def progress_reports(user: User, case: Case) -> QuerySet[ProgressReport]:
    return ProgressReport.objects.filter(case=case).select_related("org", "author").prefetch_related(
        "evidence").order_by("reported_at", "pk")


def evidence_of(user: User, case: Case) -> QuerySet[Evidence]:
    return Evidence.objects.filter(case=case).order_by("uploaded_at", "pk")


def evidence_item(user: User, number: str, evidence_id: int) -> Evidence:
    case = case_for(user, number)
    try:
        return Evidence.objects.get(case=case, pk=evidence_id)
    except Evidence.DoesNotExist:
        raise NotFound() from None


def assignments_of(user: User, case: Case) -> QuerySet[Assignment]:
    return Assignment.objects.filter(case=case).select_related("org").order_by("pk")


def _enterprise_only(user: User) -> list[int] | None:
    """Enterprise users see their own enterprises only; everyone with another seat sees the register."""
    seats = policies.seats(user)
    if any(s.role != Role.ENTERPRISE for s in seats):
        return None
    return [s.org_id for s in seats]


def enterprises(user: User) -> QuerySet[Enterprise]:
    found = Enterprise.objects.select_related("org").order_by("name", "pk")
    if not policies.seats(user):
        return found.none()
    own = _enterprise_only(user)
    return found if own is None else found.filter(org_id__in=own)


def enterprise_for(user: User, pk: int) -> Enterprise:
    try:
        return enterprises(user).get(pk=pk)
    except Enterprise.DoesNotExist:
        raise NotFound() from None


def organisations(user: User) -> QuerySet[Organisation]:
    if not policies.seats(user):
        return Organisation.objects.none()
    return Organisation.objects.filter(is_active=True).order_by("path", "pk")


def organisation_for(user: User, pk: int) -> Organisation:
    try:
        return organisations(user).get(pk=pk)
    except Organisation.DoesNotExist:
        raise NotFound() from None


def categories(user: User) -> QuerySet[Category]:
    if not policies.seats(user):
        return Category.objects.none()
    return Category.objects.filter(is_active=True).order_by("path", "pk")


def time_limits(user: User) -> QuerySet[TimeLimit]:
    if not policies.seats(user):
        return TimeLimit.objects.none()
    return TimeLimit.objects.select_related("category").order_by("clock", "pk")


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def token_of(user: User, pk: int) -> ApiToken:
    try:
        return tokens_of(user).get(pk=pk)
    except ApiToken.DoesNotExist:
        raise NotFound() from None


def _by_id(model: Any, pk: int | None, field: str, code: str) -> Any:
    if pk is None:
        return None
    found = model.objects.filter(pk=pk, **({"is_active": True} if hasattr(model, "is_active") else {})).first()
    if found is None:
        raise ValidationFailed(code=code, field=field)
    return found


def category_by_id(pk: int | None) -> Category | None:
    found: Category | None = _by_id(Category, pk, "category", "validation.unknown_category")
    return found


def organisation_by_id(pk: int | None, field: str) -> Organisation | None:
    found: Organisation | None = _by_id(Organisation, pk, field, "validation.unknown_org")
    return found


def inspection_round_by_id(pk: int | None) -> Any:
    from taizhang.orgs.models import InspectionRound

    return _by_id(InspectionRound, pk, "inspection_round", "validation.unknown_inspection_round")


def enterprises_by_ids(pks: Sequence[int]) -> list[Enterprise]:
    wanted = list(dict.fromkeys(pks))
    if not wanted:
        return []
    found = list(Enterprise.objects.filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise ValidationFailed(code="validation.unknown_enterprise", field="enterprises")
    by_pk = {e.pk: e for e in found}
    return [by_pk[pk] for pk in wanted]
