import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import translation
from rest_framework import exceptions

from taizhang.api.errors import error_response, exception_handler
from taizhang.core.credit_code import validate_credit_code
from taizhang.core.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed


def handle(exc):
    return exception_handler(exc, {})


@pytest.mark.parametrize(("exc", "status", "code"), [
    (NotFound(), 404, "not_found"),
    (PermissionDenied(), 403, "workflow.action_not_allowed"),
    (IllegalTransition(state="closed", version=3), 409, "workflow.illegal_transition"),
    (Conflict(state="rectifying", version=7), 409, "conflict.stale_version"),
    (ValidationFailed(code="validation.required", field="reason"), 422, "validation.required"),
    (Http404(), 404, "not_found"),
    (exceptions.NotAuthenticated(), 401, "auth.not_authenticated"),
    (exceptions.MethodNotAllowed("PUT"), 405, "http.method_not_allowed"),
    (exceptions.ParseError(), 400, "validation.malformed_body"),
    (exceptions.ValidationError({"title": ["too long"]}), 422, "validation.invalid"),
])
def test_every_error_has_the_one_shape(exc, status, code):
    response = handle(exc)
    assert response.status_code == status
    assert set(response.data) == {"error"}
    assert response.data["error"]["code"] == code
    assert isinstance(response.data["error"]["message"], str)


def test_conflict_carries_the_current_state_and_version():
    body = handle(Conflict(state="rectifying", version=7)).data["error"]
    assert body["state"] == "rectifying"
    assert body["version"] == 7


def test_validation_failed_names_the_field():
    assert handle(ValidationFailed(field="reason")).data["error"]["field"] == "reason"
    fields = handle(exceptions.ValidationError({"title": ["too long"]})).data["error"]
    assert fields["field"] == "title"
    assert fields["fields"] == {"title": ["too long"]}


def test_django_credit_code_validation_error_is_422_credit_code_invalid():
    with pytest.raises(DjangoValidationError) as raised:
        validate_credit_code("91220101MA17Q8X3X0")
    response = handle(raised.value)
    assert response.status_code == 422
    assert response.data["error"]["code"] == "validation.credit_code_invalid"
    keyed = handle(DjangoValidationError({"credit_code": raised.value.error_list}))
    assert keyed.data["error"]["code"] == "validation.credit_code_invalid"
    assert keyed.data["error"]["field"] == "credit_code"


def test_messages_are_translated():
    with translation.override("zh-hans"):
        chinese = handle(NotFound()).data["error"]["message"]
    with translation.override("en"):
        english = handle(NotFound()).data["error"]["message"]
    assert english == "Not found."
    assert chinese != english


def test_unexpected_exception_is_a_bare_500():
    response = handle(RuntimeError('relation "cases_case" does not exist'))
    assert response.status_code == 500
    assert response.data["error"]["code"] == "server_error"
    assert "cases_case" not in str(response.data)


def test_error_response_helper():
    response = error_response("open311.invalid", "Bad", 400, field="service_code")
    assert response.status_code == 400
    assert response.data == {"error": {"code": "open311.invalid", "message": "Bad", "field": "service_code"}}
