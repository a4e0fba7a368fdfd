"""Open311 GeoReport v2 wire formats: what clients send, and exactly what they get back.

Inputs become pydantic models here, at the edge; ``problems_from`` turns a pydantic
ValidationError into the field-level problems an Open311 error array lists. Outputs are
built by the ``*_document`` functions as plain dicts in the order and with the keys the
spec names (every key present, null when empty), so the JSON and XML writers in
``api/formats.py`` can render the same document.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from chalicelib.domain.catalogue import Catalogue, Service, parse_datetime
from chalicelib.domain.errors import Problem
from chalicelib.domain.requests import DESCRIPTION_LIMIT, PUBLIC_STATUSES, ServiceRequest
from chalicelib.domain.towns import Town
from chalicelib.schemas.fields import TownTime, public_text
from chalicelib.schemas.model import WireModel

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ("application/json", "text/xml")


def resident_text(limit: int, *, multiline: bool = False) -> BeforeValidator:
    """The one text cleaner (``schemas/fields.public_text``) under its Open311 name."""
    return public_text(limit, multiline=multiline)


def _empty_is_absent(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip() == "" else value


def _coordinate(bound: float) -> AfterValidator:
    def check(value: float | None) -> float | None:
        if value is None:
            return None
        if not math.isfinite(value) or not -bound <= value <= bound:
            raise ValueError(f"must be a number of degrees between {-bound:g} and {bound:g}")
        # Seven decimals is about a centimetre: more is noise from the phone, and DynamoDB
        # cannot store magnitudes below 1e-130 at all.
        return round(value, 7) + 0.0

    return AfterValidator(check)


Absent = BeforeValidator(_empty_is_absent)
ShortText = Annotated[str | None, Absent, resident_text(255)]
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ().\-]{3,30}$")


class NewServiceRequest(WireModel):
    """The body of ``POST requests`` (form fields; attributes gathered by the edge)."""

    model_config = ConfigDict(extra="ignore")

    service_code: Annotated[str, resident_text(100)] = Field(min_length=1)
    lat: Annotated[float | None, Absent, _coordinate(90.0)] = None
    long: Annotated[float | None, Absent, _coordinate(180.0)] = None
    address_string: ShortText = None
    address_id: ShortText = None
    zipcode: Annotated[str | None, Absent, resident_text(20)] = None
    email: ShortText = None
    device_id: ShortText = None
    account_id: ShortText = None
    first_name: ShortText = None
    last_name: ShortText = None
    phone: ShortText = None
    description: Annotated[str | None, Absent,
                           resident_text(DESCRIPTION_LIMIT, multiline=True)] = None
    media_url: Annotated[str | None, Absent, resident_text(2048)] = None
    attributes: dict[str, list[str]] = Field(default_factory=dict)
    # Extensions: whether the reporter wants messages when the request moves (if they
    # left an e-mail or phone), and in which language.
    notify: Annotated[bool | None, Absent] = None  # absent: yes
    language: Annotated[str | None, Absent, Field(pattern=r"^[A-Za-z]{2}(-[A-Za-z]{2})?$")
                        ] = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("is not an email address")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not _PHONE.match(value):
            raise ValueError("is not a phone number")
        return value

    @field_validator("media_url")
    @classmethod
    def _media_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http or https URL")
        return value



def location_problems(fields: dict[str, str]) -> list[Problem]:
    """Open311's location rule on the raw form: lat and long together, or an address.

    Checked on the raw fields, apart from the model, so that it is reported together with
    every other problem of the same submission."""
    def given(name: str) -> bool:
        return bool((fields.get(name) or "").strip())

    if given("lat") != given("long"):
        missing = "long" if given("lat") else "lat"
        return [Problem(missing, "is required when the other coordinate is given")]
    if not (given("lat") or given("address_string") or given("address_id")):
        return [Problem("lat", "a location is required: lat and long, address_string, "
                               "or address_id")]
    return []


def problems_from(error: ValidationError) -> list[Problem]:
    """Pydantic's complaints, in Open311's words (one per parameter)."""
    problems = []
    for e in error.errors(include_url=False):
        field = ".".join(str(part) for part in e["loc"]) or "request"
        message = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "missing":
            message = "is required"
        elif e["type"] in ("float_parsing", "float_type", "finite_number"):
            message = "must be a decimal number"
        elif e["type"] == "string_too_long":
            message = f"must be at most {e['ctx']['max_length']} characters"
        problems.append(Problem(field, message))
    return problems


class ServiceRequestUpdate(WireModel):
    """POST servicerequestupdates: a work-order system's update, FixMyStreet's shape."""

    model_config = ConfigDict(extra="ignore")

    service_request_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")]
    update_id: Annotated[str, Field(min_length=1, max_length=100), resident_text(100)]
    status: Annotated[str, Field(min_length=1, max_length=40)]
    description: Annotated[str | None, Absent, resident_text(DESCRIPTION_LIMIT,
                                                             multiline=True)] = None
    updated_datetime: TownTime = None

    @field_validator("status")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()


def update_document(update: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    return {**update, "updated_datetime": open311_time(update["updated_datetime"], zone)}


# --- GET requests parameters --------------------------------------------------------

# Without an offset, a time is the town's local time (documented in openapi.json).
OptionalDatetime = TownTime
CommaList = Annotated[list[str] | None, Absent, BeforeValidator(
    lambda v: [p.strip() for p in v.split(",") if p.strip()] if isinstance(v, str) else v)]


class RequestSearch(WireModel):
    """Query parameters of ``GET requests``. An empty parameter means the same as absent."""

    model_config = ConfigDict(extra="ignore")

    service_request_id: CommaList = None
    service_code: CommaList = None
    status: CommaList = None
    start_date: OptionalDatetime = None
    end_date: OptionalDatetime = None
    updated_after: OptionalDatetime = None
    updated_before: OptionalDatetime = None
    page: Annotated[int | None, Absent] = None
    page_size: Annotated[int | None, Absent] = None
    extensions: Annotated[bool, BeforeValidator(
        lambda v: v if not isinstance(v, str) else v.strip().lower() in ("true", "1", "yes"))
    ] = False

    @field_validator("status")
    @classmethod
    def _statuses(cls, value: list[str] | None) -> list[str] | None:
        for status in value or []:
            if status not in PUBLIC_STATUSES:
                raise ValueError(f"must be open or closed (got {status[:20]!r})")
        return value

    @field_validator("service_code")
    @classmethod
    def _codes(cls, value: list[str] | None) -> list[str] | None:
        if value and len(value) > 50:
            raise ValueError("at most 50 service codes at once")
        return value

    @field_validator("service_request_id")
    @classmethod
    def _ids(cls, value: list[str] | None) -> list[str] | None:
        if value and len(value) > 100:
            raise ValueError("at most 100 ids at once")
        for rid in value or []:
            if not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", rid):
                raise ValueError(f"{rid[:20]!r} is not a service_request_id")
        return value


# --- documents ------------------------------------------------------------------------


def open311_time(at: datetime | None, zone: tzinfo) -> str | None:
    """ISO 8601 in the town's own offset, whole seconds (``2026-11-21T20:12:40-06:00``)."""
    if at is None:
        return None
    return at.astimezone(zone).replace(microsecond=0).isoformat()


def as_town_time(value: datetime, zone: tzinfo) -> datetime:
    """A client's time without an offset is read as the town's local time."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return aware.astimezone(UTC)


def changeset_time(changeset: str) -> str:
    """The catalogue's changeset as Open311 shows it: a datetime, whole seconds, UTC."""
    try:
        at = parse_datetime(changeset)
    except ValueError:
        return changeset
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def discovery_document(town: Town, town_base: str, shared_base: str) -> dict[str, Any]:
    changeset = changeset_time(town.changeset)
    endpoints = [
        {"specification": SPECIFICATION, "url": url, "changeset": changeset,
         "type": "production", "formats": list(FORMATS)}
        for url in (town_base, shared_base)
    ]
    return {"changeset": changeset, "contact": town.contact,
            "key_service": town.key_service, "endpoints": endpoints}


def service_document(service: Service) -> dict[str, Any]:
    return {
        "service_code": service.code, "service_name": service.name,
        "description": service.description, "metadata": service.metadata,
        "type": service.type, "keywords": ", ".join(service.keywords),
        "group": service.group,
    }


def services_document(catalogue: Catalogue) -> list[dict[str, Any]]:
    return [service_document(s) for s in catalogue.services if s.active]


def definition_document(service: Service) -> dict[str, Any]:
    attributes = [
        {"variable": q.variable, "code": q.code, "datatype": q.datatype,
         "required": q.required, "datatype_description": q.datatype_description,
         "order": q.order, "description": q.description,
         "values": [{"key": v.key, "name": v.name} for v in q.values]}
        for q in sorted(service.questions, key=lambda q: (q.order, q.code))
    ]
    return {"service_code": service.code, "attributes": attributes}


def media_url(stored: str | None, root: str) -> str | None:
    """Photos we processed are stored by key and served from our own ``/photos`` route."""
    if stored and stored.startswith("photos/"):
        return f"{root}/{stored}"
    return stored


def request_document(r: ServiceRequest, zone: tzinfo, *, extensions: bool,
                     root: str = "") -> dict[str, Any]:
    doc: dict[str, Any] = {
        "service_request_id": r.request_id,
        "status": r.status,
        "status_notes": r.status_notes,
        "service_name": r.service_name,
        "service_code": r.service_code,
        "description": r.description,
        "agency_responsible": r.agency_responsible,
        "service_notice": r.service_notice,
        "requested_datetime": open311_time(r.requested_at, zone),
        "updated_datetime": open311_time(r.updated_at, zone),
        "expected_datetime": open311_time(r.expected_at, zone),
        "address": r.place.address,
        "address_id": r.place.address_id,
        "zipcode": r.place.zipcode,
        "lat": r.place.lat,
        "long": r.place.long,
        "media_url": media_url(r.media_url, root),
    }
    if extensions:
        doc["extended_attributes"] = {
            "channel": r.channel,
            "zone": r.zone,
            "duplicate": r.parent_request_id is not None,
            "parent_service_request_id": r.parent_request_id,
            "tracking_number": r.tracking_number,
            "followers": r.followers,
            "state": r.lifecycle,
            "disputed": r.disputed,
        }
        doc["notes"] = [
            {"datetime": open311_time(e.at, zone), "summary": e.summary, "type": e.kind,
             "description": e.description}
            for e in r.public_notes
        ]
        doc["attributes"] = dict(r.answers)
    return doc


def token_document(token: str, request_id: str | None) -> dict[str, Any]:
    """GET tokens/{token}: the caller's own token back, with the request it became (the
    only document besides the POST receipt that names a token)."""
    return {"service_request_id": request_id, "token": token}


def receipt_document(service_request_id: str, token: str, service_notice: str | None,
                     account_id: str | None) -> dict[str, Any]:
    """POST requests: exactly the spec's four fields. The tracking number is in the
    request's extended_attributes (GET with extensions=true) and in the reporter's first
    message, not here."""
    return {"service_request_id": service_request_id, "token": token,
            "service_notice": service_notice, "account_id": account_id}
