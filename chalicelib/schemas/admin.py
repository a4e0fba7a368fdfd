"""Wire formats of the staff, admin and platform APIs (plain JSON).

Bodies are strict: an unknown field is an error, so a typo never silently does nothing.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from chalicelib.domain.access import Role
from chalicelib.domain.catalogue import (
    DATATYPES,
    DUPLICATE_RADIUS_LIMITS_M,
    DUPLICATE_WINDOW_LIMITS_DAYS,
    SERVICE_TYPES,
)
from chalicelib.domain.towns import WEEKDAYS
from chalicelib.schemas.fields import Day, TownTime, public_text
from chalicelib.schemas.model import WireModel


def _clean(limit: int, multiline: bool = False) -> BeforeValidator:
    """The one text cleaner (``schemas/fields.py``): runs before the field's constraints."""
    return public_text(limit, multiline=multiline)


Name = Annotated[str, Field(min_length=1, max_length=100), _clean(100)]
Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
# Addresses and links are published too (discovery's contact, department pages): the
# cleaner runs first, so control characters never reach a pattern that would let them by.
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"),
                  _clean(254)]
Url = Annotated[str, Field(max_length=2048, pattern=r"^https://[^\s/]+(/\S*)?$"), _clean(2048)]
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
Locale = Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]
JurisdictionId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,62}[a-z0-9]$")]
Clock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class Strict(WireModel):
    model_config = ConfigDict(extra="forbid")


def _time_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value[:60]!r} is not an IANA time zone") from None
    return value


TimeZoneName = Annotated[str, Field(max_length=64), AfterValidator(_time_zone)]


class BrandingIn(Strict):
    display_name: Annotated[str | None, _clean(100)] = None
    logo_url: Url | None = None
    primary_colour: Colour = "#1f5f8b"
    accent_colour: Colour = "#f2a900"


class CalendarIn(Strict):
    """Working hours per weekday and holidays. With ``year``, the holidays given are that
    year's (a date of another year is an error) and replace only that year's; with
    ``us_federal_holidays``, the eleven US federal holidays of that year are added."""

    hours: dict[str, tuple[Clock, Clock] | None]
    holidays: list[Day] = Field(default_factory=list, max_length=366)
    year: Annotated[int | None, Field(ge=2000, le=2100)] = None
    us_federal_holidays: bool = False

    @model_validator(mode="after")
    def _one_year(self) -> CalendarIn:
        if self.year is not None:
            strays = [d.isoformat() for d in self.holidays if d.year != self.year]
            if strays:
                raise ValueError(f"holidays {', '.join(strays)} are not in {self.year}")
        elif self.us_federal_holidays:
            raise ValueError("us_federal_holidays needs the year")
        return self

    @field_validator("hours")
    @classmethod
    def _week(cls, value: dict[str, tuple[str, str] | None]) -> dict[str, tuple[str, str] | None]:
        unknown = sorted(set(value) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown weekday {unknown[0]!r}; use {', '.join(WEEKDAYS)}")
        for day, span in value.items():
            if span is not None and span[0] >= span[1]:
                raise ValueError(f"{day}: opening time must be before closing time")
        return {day: value.get(day) for day in WEEKDAYS}

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: list[Day]) -> list[Day]:
        if len(set(value)) != len(value):
            raise ValueError("lists a holiday twice")
        return sorted(value)


LocalTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class WordingIn(Strict):
    subject: Annotated[str, Field(min_length=1, max_length=200), _clean(200)]
    text: Annotated[str, Field(min_length=1, max_length=1000), _clean(1000, multiline=True)]


class NoticesIn(Strict):
    """Messages to residents: quiet hours for texts (local time, may wrap midnight; null
    for none), how long a resident may dispute a closure, and the town's own wording per
    language and message (``$placeholders``; what is not given keeps the default)."""

    quiet_hours: tuple[LocalTime, LocalTime] | None = ("21:00", "08:00")
    dispute_window_days: Annotated[int, Field(ge=1, le=90)] = 14
    templates: dict[Annotated[str, Field(min_length=2, max_length=2)],
                    dict[str, WordingIn]] = Field(default_factory=dict, max_length=10)


class LadderStepIn(Strict):
    at: Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)]  # share of the SLA
    notify: Annotated[str, Field(pattern=r"^(department|supervisor|town_admin)$")]


class EmergencyIn(Strict):
    """A declared event: services whose SLA is paused (null) or replaced for requests
    made while it lasts."""

    active: bool = False
    services: dict[Annotated[str, Field(min_length=1, max_length=100)],
                   SlaTargetIn | None] = Field(default_factory=dict, max_length=100)


class SlaSettingsIn(Strict):
    ladder: list[LadderStepIn] = Field(min_length=1, max_length=5)
    emergency: EmergencyIn = Field(default_factory=EmergencyIn)

    @field_validator("ladder")
    @classmethod
    def _rising(cls, value: list[LadderStepIn]) -> list[LadderStepIn]:
        shares = [step.at for step in value]
        if shares != sorted(set(shares)):
            raise ValueError("steps must come later one after the other")
        return value


TestRecipient = Annotated[str, Field(max_length=254, pattern=(
    r"^([^@\s]{1,64}@[^@\s]+\.[^@\s]+|\+?[0-9 ().\-]{3,30})$"))]


class TownSettingsIn(Strict):
    """PATCH /admin/town: only the fields sent change."""

    jurisdiction_id: str | None = None  # if sent, must be the caller's own town
    name: Name | None = None
    timezone: TimeZoneName | None = None
    locale: Locale | None = None
    locales: list[Locale] | None = Field(default=None, min_length=1, max_length=10)
    contact_email: Email | None = None
    contact_phone: Annotated[str | None, Field(max_length=30, pattern=r"^\+?[0-9 ().\-]{3,30}$")
                             ] = None
    contact_url: Url | None = None
    key_service: Annotated[str | None, _clean(255)] = None
    branding: BrandingIn | None = None
    calendar: CalendarIn | None = None
    notices: NoticesIn | None = None
    photo_limit: Annotated[int | None, Field(ge=1, le=10, strict=True)] = None
    alert_sms_per_second: Annotated[int | None, Field(ge=1, le=1000, strict=True)] = None
    sms_monthly_cap_usd: Annotated[float | None, Field(ge=0, le=1_000_000,
                                                       allow_inf_nan=False)] = None
    alert_test_self_approval: bool | None = None
    # The staff test list: the only people a test alert reaches (phones become E.164 in
    # the town's country); [] empties it.
    alert_test_recipients: list[TestRecipient] | None = Field(default=None, max_length=10)
    # The countries whose phones the town texts (ISO 3166 codes); [] means its own only.
    sms_countries: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] | None = Field(
        default=None, max_length=20)
    anonymous_messages_per_hour: Annotated[int | None, Field(ge=0, le=100_000,
                                                             strict=True)] = None
    # The town's own SMS number (E.164 once stored; the town's country when written
    # without +); null removes it.
    sms_number: Annotated[str | None, Field(max_length=30,
                                            pattern=r"^\+?[0-9 ().\-]{3,30}$")] = None
    # The town's own e-mail intake address, on the deployment's intake domain (a bare
    # local part means one there); "" or null: back to <town id>@<intake domain>.
    intake_email: Annotated[str | None, Field(max_length=254)] = None
    sla: SlaSettingsIn | None = None
    # Open data: the grid (metres) sensitive services' points snap to, and which services
    # are sensitive (service codes; [] makes none sensitive).
    open_data_grid_m: Annotated[int | None, Field(ge=50, le=5000, strict=True)] = None
    sensitive_services: list[Annotated[str, Field(min_length=1, max_length=64,
                                                  pattern=r"^[A-Za-z0-9_.:-]+$")]] | None = \
        Field(default=None, max_length=200)

    # Left out means "unchanged"; an explicit null would store a town without a name, time
    # zone or limit (and break its public API), so these refuse it.
    @field_validator("name", "timezone", "locale", "photo_limit", "alert_sms_per_second",
                     "sms_monthly_cap_usd", "alert_test_self_approval",
                     "anonymous_messages_per_hour", "open_data_grid_m")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


# Webhooks go to https; plain http only to this machine, and only where loopback is allowed
# (the local run): the service checks the host and its addresses (domain.addresses).
WebhookUrl = Annotated[str, Field(
    max_length=2048, pattern=r"^(https://[^\s/]+|http://(127\.0\.0\.1|localhost)(:[0-9]+)?)(/\S*)?$"),
    _clean(2048)]


class DepartmentIn(Strict):
    name: Name
    email: Email | None = None
    queue: bool = False  # deliver assignments to the department's own SQS queue
    webhook_url: WebhookUrl | None = None  # and/or POST them, signed, to this URL
    rotate_webhook_secret: bool = False


class ZoneIn(Strict):
    name: Name
    kind: Literal["ward", "district", "neighbourhood", "service_area", "other"] = "ward"
    geometry: Any


def _within(low: int, high: int, unit: str) -> Any:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be a whole number of {unit} from {low} to {high}")
        return value

    return check


class ChoiceIn(Strict):
    key: Annotated[str, Field(min_length=1, max_length=100), _clean(100)]
    name: Name


class QuestionIn(Strict):
    code: Code
    datatype: Literal[DATATYPES]  # type: ignore[valid-type]
    description: Annotated[str, Field(min_length=1, max_length=500), _clean(500)]
    required: bool = False
    variable: bool = True
    order: int = Field(default=0, ge=0, le=1000)
    datatype_description: Annotated[str | None, _clean(255)] = None
    values: list[ChoiceIn] = Field(default_factory=list, max_length=100)


SlaUnit = Literal["business_hours", "business_days", "hours", "days"]


class SlaTargetIn(Strict):
    amount: Annotated[float, Field(gt=0, le=24 * 366, allow_inf_nan=False)]
    unit: SlaUnit = "business_hours"


class PriorityIn(SlaTargetIn):
    """When the resident answered ``question`` with ``answer``, this target instead."""

    question: Annotated[str, Field(min_length=1, max_length=100), _clean(100)]
    answer: Annotated[str, Field(min_length=1, max_length=100), _clean(100)]


class SlaIn(SlaTargetIn):
    priorities: list[PriorityIn] = Field(default_factory=list, max_length=20)


class ServiceIn(Strict):
    """PUT /admin/services/{code}: the whole service as it should be from now on."""

    name: Name
    description: Annotated[str, Field(max_length=1000), _clean(1000, multiline=True)]
    group: Name
    keywords: list[Annotated[str, Field(min_length=1, max_length=50), _clean(50)]] = Field(
        default_factory=list, max_length=30)
    type: Literal[SERVICE_TYPES] = "realtime"  # type: ignore[valid-type]
    department: Code | None = None
    questions: list[QuestionIn] = Field(default_factory=list, max_length=50)
    # The duplicate check before a request is made: open requests of this service within
    # this many metres, reported within this many days.
    duplicate_radius_m: Annotated[int, Field(strict=True), AfterValidator(
        _within(*DUPLICATE_RADIUS_LIMITS_M, "metres"))] = 50
    duplicate_window_days: Annotated[int, Field(strict=True), AfterValidator(
        _within(*DUPLICATE_WINDOW_LIMITS_DAYS, "days"))] = 30
    # The promise: a due date for each request (none if absent), quicker on priority
    # answers. A target of zero or less is refused.
    sla: SlaIn | None = None

    @field_validator("questions")
    @classmethod
    def _unique_codes(cls, value: list[QuestionIn]) -> list[QuestionIn]:
        codes = [q.code for q in value]
        if len(set(codes)) != len(codes):
            raise ValueError("two questions share a code")
        for q in value:
            if q.datatype in ("singlevaluelist", "multivaluelist") and not q.values:
                raise ValueError(f"question {q.code!r} is a list and needs values")
        return value


class PackIn(Strict):
    pack: Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")]


class RoutingRuleIn(Strict):
    service_code: Code
    department: Code
    zone: Code | None = None


class RoutingIn(Strict):
    """PUT /admin/routing: the town's whole rule set."""

    triage: Code = "triage"
    rules: list[RoutingRuleIn] = Field(default_factory=list, max_length=500)

    @field_validator("rules")
    @classmethod
    def _one_rule_per_place(cls, value: list[RoutingRuleIn]) -> list[RoutingRuleIn]:
        seen = [(r.service_code, r.zone) for r in value]
        if len(set(seen)) != len(seen):
            raise ValueError("two rules for the same service and zone")
        return value


class DryRunIn(Strict):
    service_code: Code
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    long: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)


Scope = Literal["submit", "updates"]  # chalicelib.domain.towns.API_KEY_SCOPES


def _submit_only() -> list[Scope]:
    return ["submit"]


class ApiKeyIn(Strict):
    name: Name
    rate_limit_per_minute: int = Field(default=60, ge=1, le=10_000)
    # ``submit`` alone (the default) is safe in a public app or web page; ``updates`` lets
    # the key change and close requests (a work-order system, on a server).
    scopes: list[Scope] = Field(default_factory=_submit_only, min_length=1,
                                max_length=2)


class StaffIn(Strict):
    email: Email
    name: Name
    roles: list[Role] = Field(min_length=1, max_length=7)
    departments: list[Code] = Field(default_factory=list, max_length=20)

    @field_validator("roles")
    @classmethod
    def _no_operator(cls, value: list[Role]) -> list[Role]:
        if Role.OPERATOR in value:
            raise ValueError("a town cannot make platform operators")
        return list(dict.fromkeys(value))


class ResidentContactIn(Strict):
    """POST /admin/residents/erase: the resident's e-mail and/or phone."""

    email: Email | None = None
    phone: Annotated[str | None, Field(max_length=30, pattern=r"^\+?[0-9 ().\-]{3,30}$")] = None


class ResidentCodeIn(ResidentContactIn):
    code: Annotated[str, Field(pattern=r"^\s*[0-9]{6}\s*$")]


class NewTownIn(Strict):
    """POST /platform/towns (platform operators)."""

    jurisdiction_id: JurisdictionId
    name: Name
    timezone: TimeZoneName
    pack: Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")] = "small_town"
    admin_email: Email
    admin_name: Name
    contact_email: Email | None = None


class WebDomainIn(Strict):
    """PUT /platform/towns/{town}/web-domain: the town's own address for its 311 pages
    (null: none)."""

    domain: Annotated[str, Field(min_length=3, max_length=253)] | None


# How a resident reached the town when staff enter the request for them; and every way a
# request arrives (Open311 clients and the town's web pages besides).
EntryChannel = Literal["phone", "counter", "email", "walk_in", "field", "social"]
RequestChannel = Literal["open311", "web", "sms", EntryChannel]


class StaffRequestIn(Strict):
    """POST /staff/requests: a request entered for a resident (phone, counter, ...)."""

    channel: EntryChannel
    service_code: Annotated[str, Field(min_length=1, max_length=100), _clean(100)]
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    long: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    address_string: Annotated[str | None, _clean(255)] = None
    address_id: Annotated[str | None, _clean(255)] = None
    description: Annotated[str | None, _clean(4000, multiline=True)] = None
    attributes: dict[str, str | list[str]] = Field(default_factory=dict)
    email: Email | None = None
    phone: Annotated[str | None, Field(max_length=30, pattern=r"^\+?[0-9 ().\-]{3,30}$")] = None
    first_name: Annotated[str | None, _clean(100)] = None
    last_name: Annotated[str | None, _clean(100)] = None
    notify: bool = True  # the resident wants messages as it moves (if they gave a contact)
    language: Annotated[str | None, Field(pattern=r"^[A-Za-z]{2}(-[A-Za-z]{2})?$")] = None


class StaffSearch(WireModel):
    """GET /staff/requests query: filters and a page. Empty means absent."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["open", "closed"] | None = None
    service_code: str | None = None
    department: str | None = None
    zone: str | None = None
    q: Annotated[str | None, Field(max_length=100)] = None
    start_date: TownTime = None  # without an offset: the town's local time
    end_date: TownTime = None
    channel: RequestChannel | None = None
    overdue: bool | None = None  # open past its expected time (false: all the others)
    disputed: bool | None = None  # open again on a resident's dispute (false: the others)
    page: int = Field(default=1, ge=1, le=1000)
    page_size: int = Field(default=50, ge=1, le=500)

    @field_validator("*", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


def is_safe_code(value: str) -> bool:
    return re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", value) is not None
