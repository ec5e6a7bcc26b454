"""Open311 intake: a posted service request becomes a case in `registered`, through the one
registration service. Tokens are signed case numbers, so a token can always be resolved without
storing anything (we answer synchronously and return the case number at once anyway)."""

from dataclasses import dataclass
from decimal import Decimal

from django.core import signing
from django.db import transaction
from django.utils.translation import gettext as _

from taizhang.accounts.models import User
from taizhang.api.models import ServiceRequestLocation
from taizhang.cases.models import Case, Category
from taizhang.cases.services import register_case
from taizhang.core.errors import ValidationFailed

TOKEN_SALT = "taizhang.open311.token"
OPEN311_SOURCES = (Case.Source.HOTLINE.value, Case.Source.ONLINE_REPORT.value)


@dataclass(frozen=True)
class ServiceRequest:
    """A validated POST requests.json (shape only; the registration service checks the rest)."""

    category_id: int
    description: str
    source: str = Case.Source.HOTLINE.value
    title: str = ""
    reporter_name: str = ""
    reporter_contact: str = ""
    address: str = ""
    lat: float | None = None
    long: float | None = None
    media_url: str = ""


@transaction.atomic
def submit_request(*, actor: User, request: ServiceRequest) -> Case:
    try:
        service = Category.objects.get(pk=request.category_id, is_active=True)
    except Category.DoesNotExist:
        raise ValidationFailed(_("No service with this service_code."), code="validation.unknown_service",
                               field="service_code") from None
    title = request.title or request.description.strip().splitlines()[0][:80]
    case = register_case(
        actor=actor, source=request.source, title=title, description=request.description, category=service,
        reporter_name=request.reporter_name, reporter_contact=request.reporter_contact,
    )
    if request.address or request.lat is not None or request.media_url:
        ServiceRequestLocation.objects.create(
            case=case, address=request.address, media_url=request.media_url,
            latitude=None if request.lat is None else Decimal(f"{request.lat:.6f}"),
            longitude=None if request.long is None else Decimal(f"{request.long:.6f}"),
        )
    return case


def token_for(number: str) -> str:
    return signing.dumps(number, salt=TOKEN_SALT)


def number_for_token(token: str) -> str | None:
    try:
        value = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, str) else None
