"""Domain errors with stable machine codes. Messages are translatable; codes never change."""

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "error"
    status = 400
    default_message: Any = _("The request could not be completed.")

    def __init__(self, message: Any = None, *, code: str | None = None, **params: Any) -> None:
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.params = params
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self.message), **self.params}


class NotFound(DomainError):
    """Out of scope and missing look the same to the caller."""

    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    code = "workflow.action_not_allowed"
    status = 403
    default_message = _("You may not perform this action.")


class IllegalTransition(DomainError):
    code = "workflow.illegal_transition"
    status = 409
    default_message = _("This action is not possible in the current state.")


class Conflict(DomainError):
    code = "conflict.stale_version"
    status = 409
    default_message = _("Someone else changed this case in the meantime. Reload it and try again.")


class ValidationFailed(DomainError):
    code = "validation.invalid"
    status = 422
    default_message = _("The submitted data is invalid.")

    def __init__(self, message: Any = None, *, code: str | None = None, field: str | None = None,
                 **params: Any) -> None:
        super().__init__(message, code=code, **params)
        self.field = field

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        if self.field:
            data["field"] = self.field
        return data
