"""Open311 GeoReport v2 shapes: parsing of parameters, records of services and requests, and the
two wire formats (JSON arrays; XML with the spec's element names). Shape only, never workflow."""

import datetime as dt
import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from taizhang.api.open311.selectors import CLOSED_STATES, DEFAULT_WINDOW, RequestFilters
from taizhang.api.open311.services import OPEN311_SOURCES, ServiceRequest
from taizhang.cases.models import Case, Category
from taizhang.cases.workflow import State

MAX_DESCRIPTION = 4000
XML_ITEMS = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute"}
REQUEST_FIELDS = (
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
)


class Open311Error(Exception):
    """An error answered in the spec's shape: [{"code": 400, "description": "..."}]."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


# --- values ---------------------------------------------------------------------------------------

def w3c(value: dt.datetime | None) -> str | None:
    """ISO 8601 with the offset, in the project's time zone (e.g. 2026-03-12T10:00:00+08:00)."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def parse_w3c(name: str, raw: str) -> dt.datetime:
    value = parse_datetime(raw.strip().replace(" ", "+")) if raw else None  # "+" arrives as " " if unescaped
    if value is None:
        raise Open311Error(400, _("%(name)s must be a date and time such as 2026-01-01T00:00:00Z.") % {"name": name})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _text(params: Mapping[str, str], name: str, limit: int) -> str:
    value = (params.get(name) or "").strip()
    if len(value) > limit:
        raise Open311Error(400, _("%(name)s is too long (at most %(limit)s characters).")
                           % {"name": name, "limit": limit})
    return value


def _coordinate(params: Mapping[str, str], name: str, bound: float) -> float | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > bound:
        raise Open311Error(400, _("%(name)s is not a valid coordinate.") % {"name": name})
    return value


def parse_service_request(params: Mapping[str, str]) -> ServiceRequest:
    code = (params.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, _("service_code is required."))
    if not code.isdigit():
        raise Open311Error(400, _("No service with this service_code."))
    description = _text(params, "description", MAX_DESCRIPTION)
    if not description:
        raise Open311Error(400, _("description is required."))
    source = (params.get("source") or Case.Source.HOTLINE.value).strip()
    if source not in OPEN311_SOURCES:
        raise Open311Error(400, _("source must be one of: %(values)s.") % {"values": ", ".join(OPEN311_SOURCES)})
    lat, long = _coordinate(params, "lat", 90), _coordinate(params, "long", 180)
    if (lat is None) != (long is None):
        raise Open311Error(400, _("lat and long must be given together."))
    name = " ".join(p for p in (_text(params, "last_name", 30), _text(params, "first_name", 30)) if p)
    contact = " / ".join(p for p in (_text(params, "phone", 30), _text(params, "email", 120)) if p)
    if len(contact) > 60:
        raise Open311Error(400, _("phone and email together are too long."))
    media_url = _text(params, "media_url", 500)
    if media_url and not media_url.lower().startswith(("http://", "https://")):
        raise Open311Error(400, _("media_url must be an http or https address."))
    return ServiceRequest(
        category_id=int(code), description=description, source=source, title=_text(params, "title", 200),
        reporter_name=name[:60], reporter_contact=contact, address=_text(params, "address_string", 500),
        lat=lat, long=long, media_url=media_url,
    )


def _csv(params: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in (params.get(name) or "").split(",") if p.strip()))


def parse_filters(params: Mapping[str, str]) -> RequestFilters:
    codes = _csv(params, "service_code")
    if any(not c.isdigit() for c in codes):
        raise Open311Error(400, _("service_code must be a comma-separated list of service codes."))
    statuses = tuple(s.lower() for s in _csv(params, "status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Error(400, _("status must be open, closed or both."))
    start = parse_w3c("start_date", params["start_date"]) if params.get("start_date") else None
    end = parse_w3c("end_date", params["end_date"]) if params.get("end_date") else None
    if start and end:
        if end < start:
            raise Open311Error(400, _("end_date is before start_date."))
        if end - start > DEFAULT_WINDOW:
            raise Open311Error(400, _("The date range may not span more than 90 days."))
    elif start and not end:
        end = start + DEFAULT_WINDOW
    return RequestFilters(request_ids=_csv(params, "service_request_id")[:1000],
                          service_codes=tuple(int(c) for c in codes), start=start, end=end, statuses=statuses)


# --- records ---------------------------------------------------------------------------------------

def service_record(category: Category) -> dict[str, Any]:
    return {
        "service_code": str(category.pk),
        "service_name": category.name,
        "description": category.full_name,
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(category.full_name.split(" › ")),
        "group": category.parent.name if category.parent else "",
    }


def status_notes(case: Case, dismissal_reasons: Mapping[str, str]) -> str:
    """What happened lately, for the public: no internal notes, no names."""
    if case.state == State.DISMISSED:
        return dismissal_reasons.get(case.number, "")
    if case.state == State.MERGED:
        into = case.merged_into.number if case.merged_into else ""
        return _("Merged into %(number)s.") % {"number": into}
    if case.state == State.CLOSED:
        return case.closure_opinion or case.progress_summary
    return case.progress_summary


def request_record(case: Case, dismissal_reasons: Mapping[str, str]) -> dict[str, Any]:
    agency = case.responsible_org or case.supervising_org
    location = getattr(case, "service_request_location", None)
    return {
        "service_request_id": case.number,
        "status": "closed" if case.state in CLOSED_STATES else "open",
        "status_notes": status_notes(case, dismissal_reasons),
        "service_name": case.category.name if case.category else "",
        "service_code": str(case.category_id) if case.category_id else "",
        "description": case.description,
        "agency_responsible": agency.name,
        "service_notice": State(case.state).label,
        "requested_datetime": w3c(case.created_at),
        "updated_datetime": w3c(case.updated_at),
        "expected_datetime": w3c(case.completion_due_at),
        "address": location.address or None if location else None,
        "address_id": None,
        "zipcode": None,
        "lat": None if location is None or location.latitude is None else float(location.latitude),
        "long": None if location is None or location.longitude is None else float(location.longitude),
        "media_url": location.media_url or None if location else None,
    }


# --- wire formats ----------------------------------------------------------------------------------

def _xml_value(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, Sequence) and not isinstance(value, str):
        item_name = XML_ITEMS.get(name, "item")
        for item in value:
            _xml_item(element, item_name, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def _xml_item(parent: ET.Element, name: str, item: Mapping[str, Any]) -> None:
    element = ET.SubElement(parent, name)
    for key, value in item.items():
        _xml_value(element, key, value)


def to_xml(root_name: str, items: Sequence[Mapping[str, Any]]) -> bytes:
    root = ET.Element(root_name)
    for item in items:
        _xml_item(root, XML_ITEMS.get(root_name, "item"), item)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + bytes(ET.tostring(root, encoding="utf-8"))


def render(fmt: str, root_name: str, items: Sequence[Mapping[str, Any]], status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(to_xml(root_name, items), status=status, content_type="text/xml; charset=utf-8")
    body = json.dumps(list(items), ensure_ascii=False)
    return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")


def render_one(fmt: str, root_name: str, item: Mapping[str, Any], status: int = 200) -> HttpResponse:
    """A single object (service definition): a JSON object, or the XML root holding its fields."""
    if fmt == "xml":
        root = ET.Element(root_name)
        for key, value in item.items():
            _xml_value(root, key, value)
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + bytes(ET.tostring(root, encoding="utf-8"))
        return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")
    return HttpResponse(json.dumps(item, ensure_ascii=False), status=status,
                        content_type="application/json; charset=utf-8")


def render_error(fmt: str, error: Open311Error) -> HttpResponse:
    return render(fmt, "errors", [{"code": error.code, "description": error.description}], status=error.code)
