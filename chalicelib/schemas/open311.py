"""Open311 GeoReport v2 wire formats: what clients send, and exactly what they get back.

Inputs become pydantic models here, at the edge; ``problems_from`` turns a pydantic
ValidationError into the field-level problems an Open311 error array lists. Outputs are
built by the ``*_document`` functions as plain dicts in the order and with the keys the
spec names (every key present, null when empty), so the JSON and XML writers in
``api/formats.py`` can render the same document.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from chalicelib.domain.errors import Problem
from chalicelib.domain.requests import DESCRIPTION_LIMIT, PUBLIC_STATUSES
from chalicelib.schemas.fields import TownTime, coordinate, public_text
from chalicelib.schemas.model import WireModel


def resident_text(limit: int, *, multiline: bool = False) -> BeforeValidator:
    """The one text cleaner (``schemas/fields.public_text``) under its Open311 name."""
    return public_text(limit, multiline=multiline)


def _empty_is_absent(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip() == "" else value


Absent = BeforeValidator(_empty_is_absent)
ShortText = Annotated[str | None, Absent, resident_text(255)]
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ().\-]{3,30}$")


class NewServiceRequest(WireModel):
    """The body of ``POST requests`` (form fields; attributes gathered by the edge)."""

    model_config = ConfigDict(extra="ignore")

    service_code: Annotated[str, resident_text(100)] = Field(min_length=1)
    lat: Annotated[float | None, Absent, coordinate(90.0)] = None
    long: Annotated[float | None, Absent, coordinate(180.0)] = None
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
