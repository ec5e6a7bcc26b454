"""Who may use which part of the Django admin, by role (separation of duties, DESIGN.md §4).

Reference data (users, organisations, categories, time limits, holidays) belongs to system
administrators; case content to the roles that may see cases, scoped by `cases.policies`;
the audit log to security auditors. Superusers count as administrators, never as case readers.
Changes made here are written to the audit trail in the admin's own transaction.
"""

from typing import Any

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.forms import Form
from django.http import HttpRequest

from taizhang.accounts.models import Membership, User
from taizhang.accounts.roles import Role
from taizhang.audit.services import ActorContext, record_event


def roles_of(user: Any) -> set[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    cached: set[str] | None = getattr(user, "_admin_roles", None)
    if cached is None:
        cached = set(Membership.objects.filter(user=user).values_list("role", flat=True))
        user._admin_roles = cached
    return cached


class RoleAwareLoginForm(AdminAuthenticationForm):
    """Anyone active who holds a role may sign in; what they see is decided per model admin."""

    def confirm_login_allowed(self, user: Any) -> None:
        if not user.is_active or not (user.is_staff or roles_of(user)):
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login",
                                  params={"username": self.username_field.verbose_name})


class TaizhangAdminSite(AdminSite):
    site_header = "台账 · 问题整改全流程管理"
    site_title = "台账"
    index_title = "工作台"
    login_form = RoleAwareLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_staff or roles_of(user)))


class RoleGatedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A ModelAdmin open to the given roles only (and to superusers when `superuser_allowed`)."""

    allowed_roles: frozenset[str] = frozenset({Role.ADMIN})
    superuser_allowed = True
    read_only = False

    def _allowed(self, request: HttpRequest) -> bool:
        user = request.user
        if not user.is_active:
            return False
        if self.superuser_allowed and getattr(user, "is_superuser", False):
            return True
        return bool(roles_of(user) & self.allowed_roles)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._allowed(request) and not self.read_only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request) and not self.read_only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request) and not self.read_only


def admin_actor(request: HttpRequest) -> ActorContext:
    user: Any = request.user
    membership = (Membership.objects.filter(user=user, role=Role.ADMIN).select_related("org").first()
                  if isinstance(user, User) else None)
    return ActorContext(
        user_id=user.pk, name=str(user), role=Role.ADMIN.value if membership else "superuser",
        org_id=membership.org_id if membership else None, org_name=membership.org.name if membership else "",
    )


def _fields(obj: Model) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in ("password", "last_login"):
            continue
        value = field.value_from_object(obj)
        data[field.attname] = value if isinstance(value, str | int | bool | type(None)) else str(value)
    return data


class AuditedAdmin(RoleGatedAdmin):
    """Reference-data admin whose saves and deletions land in the audit trail."""

    def save_model(self, request: HttpRequest, obj: Model, form: Form, change: bool) -> None:
        before = _fields(type(obj)._default_manager.get(pk=obj.pk)) if change and obj.pk else {}
        super().save_model(request, obj, form, change)
        after = _fields(obj)
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        label = obj._meta.label_lower
        record_event(actor=admin_actor(request), action=f"{label}.{'changed' if change else 'created'}",
                     object_type=label, object_id=obj.pk, object_repr=str(obj),
                     before={k: before.get(k) for k in changed} if change else {}, after=changed)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        label, pk, text, before = obj._meta.label_lower, obj.pk, str(obj), _fields(obj)
        super().delete_model(request, obj)
        record_event(actor=admin_actor(request), action=f"{label}.deleted", object_type=label, object_id=pk,
                     object_repr=text, before=before)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)
