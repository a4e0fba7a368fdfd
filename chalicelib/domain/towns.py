"""A town (an Open311 jurisdiction) and the keys its integrations use."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from chalicelib.domain.errors import InvalidInput, Problem
from chalicelib.domain.notices import NoticeSettings

ACTIVE, SUSPENDED = "active", "suspended"


def changeset_at(at: datetime) -> str:
    """A catalogue changeset: the time of the change, fixed-width UTC, so newer sorts later."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Branding:
    """How the town's pages and messages look: its own name, logo and colours."""

    display_name: str | None = None
    logo_url: str | None = None
    primary_colour: str = "#1f5f8b"
    accent_colour: str = "#f2a900"


@dataclass(frozen=True)
class BusinessCalendar:
    """When the town works: opening hours per weekday (None when closed) and holidays."""

    hours: dict[str, tuple[str, str] | None] = field(default_factory=lambda: {
        day: (("08:00", "17:00") if day not in ("saturday", "sunday") else None)
        for day in WEEKDAYS})
    holidays: tuple[date, ...] = ()


@dataclass(frozen=True)
class Town:
    """One hosted town. ``town_id`` is its Open311 ``jurisdiction_id`` and never changes."""

    town_id: str
    name: str
    timezone: str
    changeset: str
    locale: str = "en-US"
    status: str = ACTIVE
    contact_email: str | None = None
    contact_phone: str | None = None
    contact_url: str | None = None
    key_service: str | None = None
    locales: tuple[str, ...] = ("en",)
    branding: Branding = field(default_factory=Branding)
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    notices: NoticeSettings = field(default_factory=NoticeSettings)
    photo_limit: int = 5  # photos per request, residents' and staff's together
    # Who hears about a request as it nears and passes its due time: (share of the time
    # from submission to due, who), at most once each.
    sla_ladder: tuple[tuple[float, str], ...] = (
        (0.8, "department"), (1.0, "supervisor"), (1.5, "town_admin"))
    # A declared emergency: services whose SLA is paused (None) or replaced meanwhile.
    emergency_active: bool = False
    emergency_services: dict[str, object] = field(default_factory=dict)  # code → SlaTarget
    # Emergency alerts: texts per second the town's SMS origination number may send, and
    # what the town lets texts cost in a calendar month (US dollars).
    alert_sms_per_second: int = 5
    sms_monthly_cap_usd: float = 250.0
    # May an emergency manager approve their own *test* alert? (Real ones always need a
    # second person.) Off unless the town admin turns it on.
    alert_test_self_approval: bool = False
    # The staff test list: the only people a test alert reaches (e-mail addresses and
    # E.164 phones, set by the town admin).
    alert_test_recipients: tuple[str, ...] = ()
    # The countries whose phones the town texts (ISO codes, e.g. ("US", "CA")); empty: the
    # town's own country only. Premium-rate and far-away numbers are how SMS pumping pays.
    sms_countries: tuple[str, ...] = ()
    # What anonymous callers together may make the town send in an hour (sign-in codes,
    # confirmations): past it, such sends are refused until the hour is over.
    anonymous_messages_per_hour: int = 300
    # The town's own address for its 311 pages (``311.maplefalls.gov``), mapped by the
    # platform operator once DNS and the certificate point at the deployment.
    web_domain: str | None = None
    # The town's own SMS number (E.164), which residents text to report and ask; inbound
    # texts find their town by it (one pointer item per number).
    sms_number: str | None = None
    # Open data (chalicelib.domain.open_data): the services whose points are published
    # only as the centre of a grid cell this many metres square, without address or words.
    open_data_grid_m: int = 250
    sensitive_services: tuple[str, ...] = ()
    # E-mail intake: the town's own address for reports by e-mail, if it set one (on the
    # deployment's intake domain); None: ``<town_id>@<intake domain>`` (intake_address).
    intake_email: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def region(self) -> str:
        """The town's country, for phone numbers written without one."""
        from chalicelib.domain.phones import region_of

        return region_of(self.locale)

    @property
    def texted_countries(self) -> tuple[str, ...]:
        return self.sms_countries or (self.region,)

    @property
    def contact(self) -> str:
        parts = [self.name, self.contact_email, self.contact_phone, self.contact_url]
        return ", ".join(p for p in parts if p)


# What an API key may do. ``submit`` (POST requests) is the default and is safe to embed in
# a public app or web page; ``updates`` (POST servicerequestupdates: change status, close,
# write on the public timeline and in residents' messages) is for a town's work-order
# integration, kept on a server.
SCOPE_SUBMIT, SCOPE_UPDATES = "submit", "updates"
API_KEY_SCOPES = (SCOPE_SUBMIT, SCOPE_UPDATES)
DEFAULT_SCOPES = frozenset({SCOPE_SUBMIT})


def new_api_key_secret() -> str:
    """A town's API key: ``t311_`` and 32 random characters, shown once, kept as a hash."""
    import secrets

    return "t311_" + secrets.token_urlsafe(24)


@dataclass(frozen=True)
class ApiKey:
    """An integration's key, as stored: its public id and name, never the secret."""

    town_id: str
    key_id: str
    name: str
    revoked: bool = False
    rate_limit_per_minute: int = 60
    prefix: str = ""
    created_at: datetime | None = None
    scopes: frozenset[str] = DEFAULT_SCOPES

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class StaffMember:
    """A person who works for a town in Town311 (or for the platform, with no town)."""

    user_id: str
    town_id: str | None
    email: str
    name: str
    roles: tuple[str, ...]
    departments: tuple[str, ...] = ()
    active: bool = True


@dataclass(frozen=True)
class AuditEntry:
    """One change made by a person or a key: who, when, what, from where."""

    town_id: str
    at: datetime
    entry_id: str
    actor: str
    actor_kind: str  # "staff" or "api_key"
    action: str
    target: str
    source_ip: str | None = None
    details: dict[str, object] = field(default_factory=dict)


_HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def web_domain_of(host: str) -> str:
    """A town's web address as stored and compared: lower case, no port, no trailing dot;
    a public DNS name (two labels at least, not an IP address). InvalidInput otherwise."""
    name = host.strip().lower().rstrip(".")
    if ":" in name and not name.startswith("["):
        name = name.rsplit(":", 1)[0]
    labels = name.split(".")
    if (len(name) > 253 or len(labels) < 2 or not all(_HOST_LABEL.fullmatch(p) for p in labels)
            or labels[-1].isdigit()):
        raise InvalidInput.of([Problem("domain", "must be a DNS name such as "
                                                 "311.maplefalls.gov")])
    return name


def intake_address(town: Town, intake_domain: str | None) -> str | None:
    """Where residents e-mail the town's reports: its own address, else
    ``<town_id>@<intake domain>``; None when the deployment receives no mail."""
    if not intake_domain:
        return None
    return town.intake_email or f"{town.town_id}@{intake_domain}"
