"""DynamoDB storage for towns, catalogues, API keys and service requests (pynamodb).

One table holds everything; every partition key starts with the town, so no call can be
written without one. The access patterns, and what serves each (no Scan anywhere):

- a town by jurisdiction_id: GetItem PK=TOWN#t, SK=TOWN
- a town's catalogue (services, departments): Query PK=TOWN#t, SK begins_with CAT#
- an API key by its hash, within its town: GetItem PK=TOWN#t, SK=APIKEY#<sha256>
- a request by id, fields only: GetItem PK=TOWN#t#REQ#id, SK=META
- a request with its whole timeline: Query PK=TOWN#t#REQ#id (META and EVENT#<at>#<id>)
- several requests by id (Open311 id list): BatchGetItem of META items
- a request by its Open311 token: GetItem PK=TOWN#t#TOKENHASH#<sha256 of token>, SK=TOKEN
  (only the hash is stored; older ``TOWN#t#TOKEN#<token>`` items are never read again:
  those tokens were derivable from the request id, so they count as revoked)
- a request by its tracking number: GetItem PK=TOWN#t#TRACK#<number>, SK=TRACK
- a request's followers (reporter and "me too"s): Query PK=TOWN#t#REQ#id, SK begins_with
  SUB#; their public count is on META, kept by the same transaction that adds one
- a town's tallies (disputes per department, ratings): Query PK=TOWN#t, SK begins_with
  TALLY#
- who must not get messages: GetItem PK=TOWN#t#OPTOUT#<contact hash> (the town's "stop"
  link), PK=PLATFORM#SMSOPTOUT#<phone hash> (STOP to the shared SMS number)
- a message already sent for an event: PK=TOWN#t#NOTICE#<event id>, SK=<follower>#<channel>
  (an e-mail's claim also holds the hash of its own stop link's secret)
- a confirm link: GetItem PK=TOWN#t#LINK#<hash of its secret>, SK=LINK
- budgets of anonymous sends and guesses: UpdateItem PK=TOWN#t#LIMIT#<name>#<window>,
  SK=LIMIT; texts this month and refusals per day: PK=TOWN#t, SK=TALLY#sms#<month>,
  TALLY#refused#<day>#<purpose>#<reason>
- texts held back by quiet hours: Query PK=NOTICE#DEFERRED, SK <= <now> (one small
  partition for the deployment: only messages that wait for the morning are in it)
- a town's requests by requested time, paged: Query by_requested, GSI1PK=TOWN#t,
  GSI1SK=<requested_at>#id, newest first
- a town's requests by updated time, paged: Query by_updated, GSI2PK=TOWN#t,
  GSI2SK=<updated_at>#id
- open requests of a service near a point: Query by_place,
  GSI3PK=TOWN#t#SVC#<code>#<geohash-7> for the cell and its neighbours

``by_place`` is sparse: only open requests with a point carry GSI3 keys, so the
duplicate check and the map read open work, never history. Status and service filters
ride on the list page (a town's requests in a 90-day window fit a few pages).
Times in sort keys are fixed-width UTC (``2026-11-22T02:12:40.123456Z``) so that string
order is time order.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import (
    DeleteError,
    PutError,
    PynamoDBException,
    TransactWriteError,
    UpdateError,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.domain import followers
from chalicelib.domain.alerts import Alert
from chalicelib.domain.catalogue import (
    AttributeChoice,
    Catalogue,
    Department,
    Service,
    ServiceQuestion,
)
from chalicelib.domain.errors import (
    AlreadyApplied,
    Conflict,
    InvalidInput,
    NotFound,
    Problem,
    StorageUnavailable,
    Throttled,
)
from chalicelib.domain.followers import Follower
from chalicelib.domain.geo import cell_of
from chalicelib.domain.notices import NoticeSettings, Wording
from chalicelib.domain.requests import (
    Place,
    Reporter,
    RequestPhoto,
    ServiceRequest,
    TimelineEvent,
)
from chalicelib.domain.routing import RoutingRule, RoutingRules
from chalicelib.domain.sla import PriorityRule, SlaPolicy, SlaTarget
from chalicelib.domain.subscribers import Subscriber
from chalicelib.domain.towns import (
    DEFAULT_SCOPES,
    ApiKey,
    AuditEntry,
    Branding,
    BusinessCalendar,
    StaffMember,
    Town,
)
from chalicelib.domain.zones import Zone
from chalicelib.services.ports import Quota, RequestPage, RequestQuery

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def sort_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime(TIME_FORMAT)


def parse_sort_time(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def town_pk(town_id: str) -> str:
    return f"TOWN#{town_id}"


def request_pk(town_id: str, request_id: str) -> str:
    return f"TOWN#{town_id}#REQ#{request_id}"


class _Table(Model):
    """Base of every item class: the single table and its composite primary key."""

    class Meta:
        table_name = "unbound"  # bound by ``bind_table`` from settings, never at import
        region = "us-east-1"

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)


class TownItem(_Table):
    name = UnicodeAttribute()
    timezone = UnicodeAttribute()
    locale = UnicodeAttribute(default="en-US")
    status = UnicodeAttribute(default="active")
    changeset = UnicodeAttribute()
    contact = UnicodeAttribute(null=True)
    key_service = UnicodeAttribute(null=True)
    settings = UnicodeAttribute(null=True)  # JSON: locales, branding, calendar


class PlatformTownItem(_Table):
    town_id = UnicodeAttribute()
    name = UnicodeAttribute()


class ServiceItem(_Table):
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute()
    group = UnicodeAttribute()
    keywords = JSONAttribute(default=list)
    type = UnicodeAttribute(default="realtime")
    department = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    position = NumberAttribute(default=0)
    questions = JSONAttribute(default=list)
    # Absent on services stored before the duplicate check: the defaults apply.
    duplicate_radius_m = NumberAttribute(null=True)
    duplicate_window_days = NumberAttribute(null=True)
    sla = JSONAttribute(null=True)  # amount, unit, priorities: [question, answer, amount, unit]


class DepartmentItem(_Table):
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    queue = BooleanAttribute(default=False)
    webhook_url = UnicodeAttribute(null=True)
    webhook_secret = UnicodeAttribute(null=True)


class ZoneItem(_Table):
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    geometry = BinaryAttribute(legacy_encoding=False)  # zlib-compressed GeoJSON


class RoutingItem(_Table):
    triage = UnicodeAttribute()
    rules = JSONAttribute(default=list)


class ApiKeyItem(_Table):
    """Stored twice: ``APIKEY#<key id>`` to list and manage, ``KEYHASH#<sha256>`` to check a
    presented secret with one GetItem. The secret itself is never stored."""

    key_id = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)
    rate_limit = NumberAttribute(default=60)
    prefix = UnicodeAttribute(default="")
    secret_hash = UnicodeAttribute()
    # What the key may do (``ApiKey.scopes``); keys made before scopes existed have none
    # stored and may only submit: a work-order system that posted updates with one needs
    # a new key made with ``updates``.
    scopes = UnicodeSetAttribute(null=True)


class StaffItem(_Table):
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    roles = JSONAttribute(default=list)
    departments = JSONAttribute(default=list)
    active = BooleanAttribute(default=True)


class AuditItem(_Table):
    actor = UnicodeAttribute()
    actor_kind = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    source_ip = UnicodeAttribute(null=True)
    details = UnicodeAttribute(null=True)


class ByRequested(GlobalSecondaryIndex["RequestItem"]):
    class Meta:
        index_name = "by_requested"
        projection = AllProjection()

    GSI1PK = UnicodeAttribute(hash_key=True)
    GSI1SK = UnicodeAttribute(range_key=True)


class ByUpdated(GlobalSecondaryIndex["RequestItem"]):
    class Meta:
        index_name = "by_updated"
        projection = AllProjection()

    GSI2PK = UnicodeAttribute(hash_key=True)
    GSI2SK = UnicodeAttribute(range_key=True)


class ByPlace(GlobalSecondaryIndex["RequestItem"]):
    class Meta:
        index_name = "by_place"
        projection = AllProjection()

    GSI3PK = UnicodeAttribute(hash_key=True)
    GSI3SK = UnicodeAttribute(range_key=True)


class BySla(GlobalSecondaryIndex["RequestItem"]):
    class Meta:
        index_name = "by_sla"
        projection = KeysOnlyProjection()

    GSI5PK = UnicodeAttribute(hash_key=True)
    GSI5SK = UnicodeAttribute(range_key=True)


class ByDepartment(GlobalSecondaryIndex["RequestItem"]):
    class Meta:
        index_name = "by_department"
        projection = AllProjection()

    GSI4PK = UnicodeAttribute(hash_key=True)
    GSI4SK = UnicodeAttribute(range_key=True)


class RequestItem(_Table):
    town_id = UnicodeAttribute()
    request_id = UnicodeAttribute()
    # SHA-256 of the Open311 token. Older items have a plaintext ``token`` instead, which
    # this model does not read (so it never matches) and the next write drops.
    token_hash = UnicodeAttribute(null=True)
    service_code = UnicodeAttribute()
    service_name = UnicodeAttribute()
    status = UnicodeAttribute()
    status_notes = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    agency_responsible = UnicodeAttribute(null=True)
    department = UnicodeAttribute(null=True)
    service_notice = UnicodeAttribute(null=True)
    requested_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    expected_at = UnicodeAttribute(null=True)
    lat = NumberAttribute(null=True)
    long = NumberAttribute(null=True)
    address = UnicodeAttribute(null=True)
    address_id = UnicodeAttribute(null=True)
    zipcode = UnicodeAttribute(null=True)
    media_url = UnicodeAttribute(null=True)
    answers = JSONAttribute(default=dict)
    channel = UnicodeAttribute(default="open311")
    # Private: reporter contact details never leave the service layer in a public shape.
    reporter = JSONAttribute(null=True)
    api_key_id = UnicodeAttribute(null=True)
    entered_by = UnicodeAttribute(null=True)
    # Lower-cased service name, description and address: what staff text search matches.
    search_text = UnicodeAttribute(null=True)
    parent_request_id = UnicodeAttribute(null=True)
    zone = UnicodeAttribute(null=True)
    # The public part of the timeline, copied here so that one GetItem answers Open311's
    # ``notes`` extension; the full timeline (internal events too) is the EVENT# items.
    notes = JSONAttribute(default=list)
    version = VersionAttribute()

    GSI1PK = UnicodeAttribute()
    GSI1SK = UnicodeAttribute()
    GSI2PK = UnicodeAttribute()
    GSI2SK = UnicodeAttribute()
    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    GSI4PK = UnicodeAttribute(null=True)
    GSI4SK = UnicodeAttribute(null=True)
    lifecycle = UnicodeAttribute(default="submitted")
    resolution = UnicodeAttribute(null=True)
    tracking_number = UnicodeAttribute(null=True)
    # Changed only by following (with ``version``), through ``RequestCounters``.
    followers = NumberAttribute(default=0)
    closed_at = UnicodeAttribute(null=True)
    disputed = BooleanAttribute(default=False)
    rating = NumberAttribute(null=True)
    rating_comment = UnicodeAttribute(null=True)
    photos = JSONAttribute(default=list)
    sla = JSONAttribute(null=True)  # target, started, level, hours left (on hold)
    GSI5PK = UnicodeAttribute(null=True)
    GSI5SK = UnicodeAttribute(null=True)

    by_requested = ByRequested()
    by_updated = ByUpdated()
    by_place = ByPlace()
    by_department = ByDepartment()
    by_sla = BySla()


class EventItem(_Table):
    at = UnicodeAttribute()
    event_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    summary = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    public = BooleanAttribute(default=True)
    actor_role = UnicodeAttribute(default="system")


class TokenItem(_Table):
    request_id = UnicodeAttribute()


class TrackItem(_Table):
    request_id = UnicodeAttribute()


class RequestCounters(_Table):
    """The counters of a request's META item, changed without rewriting the request: a
    follow adds one and moves the version on, so a staff change read before it retries
    on the new count instead of writing the old one back."""

    followers = NumberAttribute(null=True)
    version = NumberAttribute(null=True)
    status = UnicodeAttribute(null=True)


class FollowerItem(_Table):
    role = UnicodeAttribute()
    since = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    unsubscribe_key = UnicodeAttribute(null=True)  # legacy stop links only
    # Channels whose address the follower proved; absent on followers stored before
    # confirmation existed, who keep getting what they signed up for.
    confirmed = JSONAttribute(null=True)


class LinkItem(_Table):
    """A link sent to confirm one address of one follower, found by its secret's hash."""

    request_id = UnicodeAttribute()
    follower_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    expires_at = NumberAttribute()


class TallyItem(_Table):
    count = NumberAttribute(default=0)


class OptOutItem(_Table):
    at = UnicodeAttribute()


class NoticeClaimItem(_Table):
    """"This message was (being) sent": written before sending, so a retried batch never
    sends twice; removed again when the send fails, so the retry does send it. An e-mail's
    claim also holds the hash of its own stop link's secret."""

    expires_at = NumberAttribute()
    stop_hash = UnicodeAttribute(null=True)
    request_id = UnicodeAttribute(null=True)


class DeferredNoticeItem(_Table):
    town_id = UnicodeAttribute()
    body = UnicodeAttribute()  # the NoticeBatch message to send when quiet hours end


class RateItem(_Table):
    """Submissions of one API key in one minute; DynamoDB's TTL removes old windows."""

    calls = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)


class ResidentItem(_Table):
    """A resident's request, indexed by the SHA-256 of their e-mail or phone (never the
    contact itself), so they can follow their requests and have their details erased."""


class ResidentCodeItem(_Table):
    """A one-time sign-in code for a resident (hashed), with its tries and expiry."""

    code_hash = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    expires_at = NumberAttribute()  # epoch seconds; TTL removes it, code checks it too


class ResidentSessionItem(_Table):
    contact_hash = UnicodeAttribute()
    expires_at = NumberAttribute()


ITEM_CLASSES: tuple[type[_Table], ...] = (
    _Table, TownItem, PlatformTownItem, ServiceItem, DepartmentItem, ZoneItem, RoutingItem,
    ApiKeyItem,
    StaffItem, AuditItem, RequestItem, EventItem, TokenItem, RateItem, ResidentItem,
    ResidentCodeItem, ResidentSessionItem, TrackItem, RequestCounters, FollowerItem,
    TallyItem, OptOutItem, NoticeClaimItem, DeferredNoticeItem, LinkItem,
)


def contact_hashes(reporter: Reporter) -> list[str]:
    """The reporter's e-mail (lower case) and phone (digits only), hashed."""
    return followers.contact_hashes(reporter.email, reporter.phone)


def bind_table(table_name: str, region: str) -> None:
    """Point every item class at the deployment's table (called once, by bootstrap)."""
    for cls in ITEM_CLASSES:
        cls.Meta.table_name = table_name
        cls.Meta.region = region
        cls._connection = None
    # Every item class shares one connection (one botocore client): pynamodb would make a
    # client per class, and each costs a cold start tens of milliseconds.
    shared = RequestItem._get_connection()
    for cls in ITEM_CLASSES:
        cls._connection = shared


def _query_items(pk: str, sk_prefix: str | None = None,
                 sk_upto: str | None = None) -> Iterator[dict[str, Any]]:
    """Every item of one partition (optionally one kind, or sort keys up to ``sk_upto``),
    as raw DynamoDB maps.

    Items of different kinds share a partition (a request and its timeline), so the raw
    map is read once and handed to the class its sort key names.
    """
    connection = _Table._get_connection()
    condition = _Table.SK.startswith(sk_prefix) if sk_prefix else \
        _Table.SK <= sk_upto if sk_upto else None  # noqa: SIM300 - a key condition
    start: dict[str, Any] | None = None
    while True:
        page = connection.query(pk, range_key_condition=condition, exclusive_start_key=start)
        yield from page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def _storage_error(e: PynamoDBException) -> StorageUnavailable | InvalidInput:
    """DynamoDB refusing the data itself is not an outage: retrying would never help."""
    reasons = [r.code for r in getattr(e, "cancellation_reasons", None) or [] if r]
    if e.cause_response_code == "ValidationException" or "ValidationError" in reasons:
        return InvalidInput.of([Problem("request", "cannot be stored as given")])
    return StorageUnavailable(f"storage is unavailable ({e.cause_response_code or 'error'})")


def _written_if(write: Callable[[], object]) -> bool:
    """Run a conditional write: True if it was written, False if its condition said no
    (a claim already taken, a limit reached); any other failure is a storage error."""
    try:
        write()
    except (PutError, UpdateError, DeleteError) as e:
        if e.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise _storage_error(e) from e
    except PynamoDBException as e:
        raise _storage_error(e) from e
    return True


# --- towns, catalogues, keys, staff, audit -------------------------------------------------


def _town(item: TownItem) -> Town:
    contact = json.loads(item.contact) if item.contact else {}
    settings = json.loads(item.settings) if item.settings else {}
    calendar = settings.get("calendar") or {}
    return Town(
        town_id=item.PK.removeprefix("TOWN#"), name=item.name, timezone=item.timezone,
        locale=item.locale, status=item.status, changeset=item.changeset,
        contact_email=contact.get("email"), contact_phone=contact.get("phone"),
        contact_url=contact.get("url"), key_service=item.key_service,
        locales=tuple(settings.get("locales") or (item.locale.split("-")[0],)),
        branding=Branding(**settings.get("branding", {})),
        calendar=BusinessCalendar(
            hours={day: tuple(h) if h else None for day, h in calendar["hours"].items()},
            holidays=tuple(date.fromisoformat(d) for d in calendar.get("holidays", ())),
        ) if calendar else BusinessCalendar(),
        notices=_notice_settings(settings.get("notices")),
        photo_limit=int(settings.get("photo_limit", 5)),
        **_sla_settings(settings.get("sla")),
        **{k: v for k, v in (settings.get("alerts") or {}).items()
           if k in ("alert_sms_per_second", "sms_monthly_cap_usd")},
        **_alert_test_settings(settings.get("alerts")),
        **{k: tuple(v) if isinstance(v, list) else v
           for k, v in (settings.get("messaging") or {}).items()
           if k in ("sms_countries", "anonymous_messages_per_hour")},
    )


def _alert_test_settings(doc: dict[str, Any] | None) -> dict[str, Any]:
    """Test alerts' settings. Self-approval has its own key since it became opt-in: the
    old key holds the former default (on) for every town ever saved, which nobody chose,
    so it is not read."""
    doc = doc or {}
    return {"alert_test_self_approval": doc.get("test_self_approval") is True,
            "alert_test_recipients": tuple(str(a) for a in doc.get("test_recipients") or ())}


def _sla_settings(doc: dict[str, Any] | None) -> dict[str, Any]:
    if not doc:
        return {}
    emergency = doc.get("emergency") or {}
    return {"sla_ladder": tuple((float(s["at"]), s["notify"]) for s in doc["ladder"]),
            "emergency_active": bool(emergency.get("active")),
            "emergency_services": {code: None if t is None else
                                   SlaTarget(float(t["amount"]), t["unit"])
                                   for code, t in (emergency.get("services") or {}).items()}}


def _notice_settings(doc: dict[str, Any] | None) -> NoticeSettings:
    if not doc:
        return NoticeSettings()
    quiet = doc.get("quiet_hours")
    return NoticeSettings(
        quiet_hours=tuple(quiet) if quiet else None,  # type: ignore[arg-type]
        dispute_window_days=int(doc.get("dispute_window_days", 14)),
        templates={lang: {kind: Wording(w["subject"], w["text"]) for kind, w in kinds.items()}
                   for lang, kinds in (doc.get("templates") or {}).items()})


def _notice_settings_doc(n: NoticeSettings) -> dict[str, Any]:
    return {"quiet_hours": list(n.quiet_hours) if n.quiet_hours else None,
            "dispute_window_days": n.dispute_window_days,
            "templates": {lang: {kind: dataclasses.asdict(w) for kind, w in kinds.items()}
                          for lang, kinds in n.templates.items()}}


def _town_item(town: Town) -> TownItem:
    contact = {"email": town.contact_email, "phone": town.contact_phone,
               "url": town.contact_url}
    settings = {
        "locales": list(town.locales),
        "branding": dataclasses.asdict(town.branding),
        "calendar": {"hours": {d: list(h) if h else None for d, h in town.calendar.hours.items()},
                     "holidays": [d.isoformat() for d in town.calendar.holidays]},
        "notices": _notice_settings_doc(town.notices),
        "photo_limit": town.photo_limit,
        "alerts": {"alert_sms_per_second": town.alert_sms_per_second,
                   "sms_monthly_cap_usd": town.sms_monthly_cap_usd,
                   "test_self_approval": town.alert_test_self_approval,
                   "test_recipients": list(town.alert_test_recipients)},
        "messaging": {"sms_countries": list(town.sms_countries),
                      "anonymous_messages_per_hour": town.anonymous_messages_per_hour},
        "sla": {"ladder": [{"at": at, "notify": who} for at, who in town.sla_ladder],
                "emergency": {"active": town.emergency_active, "services": {
                    code: None if t is None else {"amount": t.amount, "unit": t.unit}
                    for code, t in town.emergency_services.items()}}},
    }
    return TownItem(town_pk(town.town_id), "TOWN", name=town.name, timezone=town.timezone,
                    locale=town.locale, status=town.status, changeset=town.changeset,
                    contact=json.dumps(contact), key_service=town.key_service,
                    settings=json.dumps(settings))


def _service(item: ServiceItem) -> Service:
    questions = tuple(
        ServiceQuestion(
            code=q["code"], datatype=q["datatype"], description=q["description"],
            required=q.get("required", False), variable=q.get("variable", True),
            order=q.get("order", 0), datatype_description=q.get("datatype_description"),
            values=tuple(AttributeChoice(v["key"], v["name"]) for v in q.get("values", [])),
        )
        for q in item.questions
    )
    return Service(
        code=item.code, name=item.name, description=item.description, group=item.group,
        keywords=tuple(item.keywords), type=item.type, questions=questions,
        department=item.department, active=item.active,
        **{name: int(value) for name in ("duplicate_radius_m", "duplicate_window_days")
           if (value := getattr(item, name)) is not None},
        sla=sla_policy(item.sla) if item.sla else None,
    )


def sla_policy(doc: dict[str, Any]) -> SlaPolicy:
    return SlaPolicy(
        target=SlaTarget(float(doc["amount"]), doc["unit"]),
        priorities=tuple(PriorityRule(p["question"], p["answer"],
                                      SlaTarget(float(p["amount"]), p["unit"]))
                         for p in doc.get("priorities", [])))


def sla_policy_doc(policy: SlaPolicy) -> dict[str, Any]:
    return {"amount": policy.target.amount, "unit": policy.target.unit,
            "priorities": [{"question": p.question, "answer": p.answer,
                            "amount": p.target.amount, "unit": p.target.unit}
                           for p in policy.priorities]}


def _question_doc(q: ServiceQuestion) -> dict[str, Any]:
    return {
        "code": q.code, "datatype": q.datatype, "description": q.description,
        "required": q.required, "variable": q.variable, "order": q.order,
        "datatype_description": q.datatype_description,
        "values": [{"key": v.key, "name": v.name} for v in q.values],
    }


def _service_item(town_id: str, s: Service, position: int) -> ServiceItem:
    return ServiceItem(
        town_pk(town_id), f"CAT#SERVICE#{s.code}", code=s.code, name=s.name,
        description=s.description, group=s.group, keywords=list(s.keywords), type=s.type,
        department=s.department, active=s.active, position=position,
        questions=[_question_doc(q) for q in s.questions],
        duplicate_radius_m=s.duplicate_radius_m,
        duplicate_window_days=s.duplicate_window_days,
        sla=sla_policy_doc(s.sla) if s.sla else None)


def _department_item(town_id: str, d: Department) -> DepartmentItem:
    return DepartmentItem(town_pk(town_id), f"CAT#DEPT#{d.code}", code=d.code, name=d.name,
                          email=d.email, queue=d.queue, webhook_url=d.webhook_url,
                          webhook_secret=d.webhook_secret)


# A zone may be detailed (a coastline ward); compressed, it must still fit in one item.
ZONE_LIMIT_BYTES = 300_000


def _zone_item(town_id: str, zone: Zone) -> ZoneItem:
    packed = zlib.compress(json.dumps(zone.geometry, separators=(",", ":")).encode(), 6)
    if len(packed) > ZONE_LIMIT_BYTES:
        raise InvalidInput.of([Problem("geometry", "is too detailed to store; simplify it")])
    return ZoneItem(town_pk(town_id), f"CAT#ZONE#{zone.code}", code=zone.code, name=zone.name,
                    kind=zone.kind, geometry=packed)


def _zone(item: ZoneItem) -> Zone:
    geometry = json.loads(zlib.decompress(item.geometry))
    return Zone(code=item.code, name=item.name, kind=item.kind, geometry=geometry)


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _api_key(town_id: str, item: ApiKeyItem) -> ApiKey:
    return ApiKey(town_id=town_id, key_id=item.key_id, name=item.name, revoked=item.revoked,
                  rate_limit_per_minute=int(item.rate_limit), prefix=item.prefix,
                  created_at=parse_sort_time(item.created_at),
                  scopes=frozenset(item.scopes) if item.scopes else DEFAULT_SCOPES)


def _staff(item: StaffItem) -> StaffMember:
    town = item.PK.removeprefix("TOWN#") if item.PK.startswith("TOWN#") else None
    return StaffMember(user_id=item.user_id, town_id=town, email=item.email, name=item.name,
                       roles=tuple(item.roles), departments=tuple(item.departments),
                       active=item.active)


PLATFORM_PK = "PLATFORM"


class DynamoTownDirectory:
    """Towns, their catalogues (services, departments, zones), keys and staff."""

    def _write(self) -> TransactWrite:
        return TransactWrite(connection=_Table._get_connection().connection)

    def get_town(self, town_id: str) -> Town | None:
        try:
            return _town(TownItem.get(town_pk(town_id), "TOWN"))
        except TownItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def list_towns(self) -> list[str]:
        """Every hosted town's id, from the platform's own index partition."""
        try:
            return [raw["town_id"]["S"] for raw in _query_items(PLATFORM_PK, "TOWN#")]
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def get_catalogue(self, town_id: str, changeset: str) -> Catalogue:
        services: list[tuple[float, Service]] = []
        departments: list[Department] = []
        zones: list[Zone] = []
        routing: RoutingRules | None = None
        try:
            for raw in _query_items(town_pk(town_id), "CAT#"):
                kind = raw["SK"]["S"].split("#")[1]
                if kind == "SERVICE":
                    service = ServiceItem.from_raw_data(raw)
                    services.append((service.position, _service(service)))
                elif kind == "DEPT":
                    dept = DepartmentItem.from_raw_data(raw)
                    departments.append(Department(
                        dept.code, dept.name, dept.email, queue=dept.queue,
                        webhook_url=dept.webhook_url, webhook_secret=dept.webhook_secret))
                elif kind == "ZONE":
                    zones.append(_zone(ZoneItem.from_raw_data(raw)))
                elif kind == "ROUTING":
                    item = RoutingItem.from_raw_data(raw)
                    routing = RoutingRules(
                        rules=tuple(RoutingRule(r["service_code"], r["department"], r.get("zone"))
                                    for r in item.rules),
                        triage=item.triage)
        except PynamoDBException as e:
            raise _storage_error(e) from e
        services.sort(key=lambda pair: pair[0])
        return Catalogue(tuple(s for _, s in services), tuple(departments), changeset,
                         zones=tuple(zones), routing=routing)

    def find_api_key(self, town_id: str, secret: str) -> ApiKey | None:
        try:
            item = ApiKeyItem.get(town_pk(town_id), f"KEYHASH#{key_hash(secret)}")
        except ApiKeyItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e
        return _api_key(town_id, item)

    def create_town(self, town: Town, catalogue: Catalogue) -> None:
        """Write a new town with its starting catalogue; Conflict if the id is taken."""
        try:
            with self._write() as tx:
                tx.save(_town_item(town), condition=TownItem.PK.does_not_exist())
                tx.save(PlatformTownItem(PLATFORM_PK, f"TOWN#{town.town_id}",
                                         town_id=town.town_id, name=town.name))
        except TransactWriteError as e:
            if "ConditionalCheckFailed" in [r.code for r in e.cancellation_reasons if r]:
                raise Conflict(f"a town {town.town_id!r} already exists") from e
            raise _storage_error(e) from e
        try:
            with TownItem.batch_write() as batch:
                for position, s in enumerate(catalogue.services):
                    batch.save(_service_item(town.town_id, s, position))
                for d in catalogue.departments:
                    batch.save(_department_item(town.town_id, d))
                for z in catalogue.zones:
                    batch.save(_zone_item(town.town_id, z))
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def save_town(self, town: Town) -> None:
        """Replace an existing town's settings (name, zone, locales, branding, calendar)."""
        try:
            _town_item(town).save(condition=TownItem.PK.exists())
        except PutError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                raise NotFound(f"no town {town.town_id!r}") from e
            raise _storage_error(e) from e
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def _catalogue_change(self, town_id: str, changeset: str, put: Any = None,
                          delete_sk: str | None = None) -> None:
        """A catalogue item written or removed together with the town's new changeset, so
        Open311 clients that cache by changeset see every edit."""
        try:
            with self._write() as tx:
                if put is not None:
                    tx.save(put)
                if delete_sk is not None:
                    tx.delete(_Table(town_pk(town_id), delete_sk))
                tx.update(TownItem(town_pk(town_id), "TOWN"),
                          actions=[TownItem.changeset.set(changeset)],
                          condition=TownItem.PK.exists())
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def save_service(self, town_id: str, service: Service, position: int,
                     changeset: str) -> None:
        self._catalogue_change(town_id, changeset, put=_service_item(town_id, service, position))

    def save_department(self, town_id: str, department: Department, changeset: str) -> None:
        self._catalogue_change(town_id, changeset, put=_department_item(town_id, department))

    def delete_department(self, town_id: str, code: str, changeset: str) -> None:
        self._catalogue_change(town_id, changeset, delete_sk=f"CAT#DEPT#{code}")

    def save_routing(self, town_id: str, routing: RoutingRules, changeset: str) -> None:
        rules = [{"service_code": r.service_code, "department": r.department, "zone": r.zone}
                 for r in routing.rules]
        self._catalogue_change(town_id, changeset, put=RoutingItem(
            town_pk(town_id), "CAT#ROUTING", triage=routing.triage, rules=rules))

    def save_zone(self, town_id: str, zone: Zone, changeset: str) -> None:
        self._catalogue_change(town_id, changeset, put=_zone_item(town_id, zone))

    def delete_zone(self, town_id: str, code: str, changeset: str) -> None:
        self._catalogue_change(town_id, changeset, delete_sk=f"CAT#ZONE#{code}")

    def add_api_key(self, key: ApiKey, secret: str) -> None:
        """The key's record (listed by id) and its lookup by hash, written together."""
        created = sort_time(key.created_at or datetime.now(UTC))
        common = {"key_id": key.key_id, "name": key.name, "created_at": created,
                  "revoked": key.revoked, "rate_limit": key.rate_limit_per_minute,
                  "prefix": key.prefix, "secret_hash": key_hash(secret),
                  "scopes": set(key.scopes) or set(DEFAULT_SCOPES)}
        pk = town_pk(key.town_id)
        try:
            with self._write() as tx:
                tx.save(ApiKeyItem(pk, f"APIKEY#{key.key_id}", **common),
                        condition=ApiKeyItem.PK.does_not_exist())
                tx.save(ApiKeyItem(pk, f"KEYHASH#{common['secret_hash']}", **common),
                        condition=ApiKeyItem.PK.does_not_exist())
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def list_api_keys(self, town_id: str) -> list[ApiKey]:
        try:
            return [_api_key(town_id, ApiKeyItem.from_raw_data(raw))
                    for raw in _query_items(town_pk(town_id), "APIKEY#")]
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def revoke_api_key(self, town_id: str, key_id: str) -> ApiKey:
        pk = town_pk(town_id)
        try:
            record = ApiKeyItem.get(pk, f"APIKEY#{key_id}")
            with self._write() as tx:
                for sk in (f"APIKEY#{key_id}", f"KEYHASH#{record.secret_hash}"):
                    tx.update(ApiKeyItem(pk, sk), actions=[ApiKeyItem.revoked.set(True)],
                              condition=ApiKeyItem.PK.exists())
        except ApiKeyItem.DoesNotExist:
            raise NotFound(f"no API key {key_id!r}") from None
        except PynamoDBException as e:
            raise _storage_error(e) from e
        return dataclasses.replace(_api_key(town_id, record), revoked=True)

    def save_staff(self, member: StaffMember) -> None:
        pk = town_pk(member.town_id) if member.town_id else PLATFORM_PK
        try:
            StaffItem(pk, f"STAFF#{member.user_id}", user_id=member.user_id,
                      email=member.email, name=member.name, roles=list(member.roles),
                      departments=list(member.departments), active=member.active).save()
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def list_staff(self, town_id: str) -> list[StaffMember]:
        try:
            return [_staff(StaffItem.from_raw_data(raw))
                    for raw in _query_items(town_pk(town_id), "STAFF#")]
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def get_staff(self, town_id: str | None, user_id: str) -> StaffMember | None:
        pk = town_pk(town_id) if town_id is not None else PLATFORM_PK
        try:
            return _staff(StaffItem.get(pk, f"STAFF#{user_id}"))
        except StaffItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def export(self, town_id: str) -> Iterator[dict[str, Any]]:
        """Everything stored for a town, item by item: its own partition, then every
        request partition (found through the town's requests index, all time)."""
        from boto3.dynamodb.types import TypeDeserializer  # export only: not on cold start

        deserializer = TypeDeserializer()

        def plain(raw: dict[str, Any]) -> dict[str, Any]:
            item = {k: deserializer.deserialize(v) for k, v in raw.items()}
            if str(item.get("SK", "")).startswith("CAT#ZONE#"):
                # Zones are stored compressed; an export carries the GeoJSON itself.
                item["geometry"] = json.loads(zlib.decompress(bytes(item["geometry"])))
            return {k: _jsonable(v) for k, v in item.items()}

        try:
            for raw in _query_items(town_pk(town_id)):
                if not raw["SK"]["S"].startswith("KEYHASH#"):
                    yield plain(raw)
            for request in RequestItem.by_requested.query(town_pk(town_id)):
                for raw in _query_items(request.PK):
                    # A token opens the reporter's photos: neither it (older items) nor
                    # its hash leaves in an export.
                    yield {k: v for k, v in plain(raw).items()
                           if k not in ("token", "token_hash")}
            for raw in _query_items(f"TOWN#{town_id}#AUDIT"):
                yield plain(raw)
        except PynamoDBException as e:
            raise _storage_error(e) from e


def _jsonable(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "value") and isinstance(value.value, bytes):  # boto3's Binary
        value = value.value
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, set):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class DynamoAuditLog:
    """Who changed what, per town, newest first: PK=TOWN#t#AUDIT, SK=<at>#<entry id>."""

    def record(self, entry: AuditEntry) -> None:
        try:
            _audit_item(entry).save()
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def page(self, town_id: str, before: datetime | None, limit: int) -> list[AuditEntry]:
        condition = AuditItem.SK < sort_time(before) if before else None  # noqa: SIM300
        try:
            items = AuditItem.query(f"TOWN#{town_id}#AUDIT", condition,
                                    scan_index_forward=False, limit=limit)
            return [_audit_entry(town_id, item) for item in items]
        except PynamoDBException as e:
            raise _storage_error(e) from e


def _audit_item(entry: AuditEntry) -> AuditItem:
    return AuditItem(f"TOWN#{entry.town_id}#AUDIT", f"{sort_time(entry.at)}#{entry.entry_id}",
                     actor=entry.actor, actor_kind=entry.actor_kind, action=entry.action,
                     target=entry.target, source_ip=entry.source_ip,
                     details=json.dumps(entry.details, default=str))


def _audit_entry(town_id: str, item: AuditItem) -> AuditEntry:
    at, entry_id = item.SK.split("#", 1)
    return AuditEntry(town_id=town_id, at=parse_sort_time(at), entry_id=entry_id,
                      actor=item.actor, actor_kind=item.actor_kind, action=item.action,
                      target=item.target, source_ip=item.source_ip,
                      details=json.loads(item.details or "{}"))


# --- service requests ----------------------------------------------------------------


UNROUTED = "UNROUTED"


def department_key(town_id: str, department: str) -> str:
    return f"TOWN#{town_id}#DEPT#{department}"


def _place_key(town_id: str, service_code: str, geohash: str) -> str:
    return f"TOWN#{town_id}#SVC#{service_code}#{geohash}"


def _request_item(r: ServiceRequest) -> RequestItem:
    requested, updated = sort_time(r.requested_at), sort_time(r.updated_at)
    reporter = None if r.reporter.is_empty() else json.dumps(
        {k: v for k, v in vars(r.reporter).items() if v is not None and v != ""})
    item = RequestItem(
        request_pk(r.town_id, r.request_id), "META",
        town_id=r.town_id, request_id=r.request_id, token_hash=r.token_hash,
        service_code=r.service_code, service_name=r.service_name, status=r.status,
        lifecycle=r.lifecycle, resolution=r.resolution,
        status_notes=r.status_notes, description=r.description,
        agency_responsible=r.agency_responsible, department=r.department,
        service_notice=r.service_notice, requested_at=requested, updated_at=updated,
        expected_at=sort_time(r.expected_at) if r.expected_at else None,
        lat=r.place.lat, long=r.place.long, address=r.place.address,
        address_id=r.place.address_id, zipcode=r.place.zipcode, media_url=r.media_url,
        answers=r.answers, channel=r.channel, reporter=reporter, api_key_id=r.api_key_id,
        entered_by=r.entered_by, parent_request_id=r.parent_request_id, zone=r.zone,
        search_text=" ".join(p for p in (r.service_name, r.description, r.place.address) if p
                             ).lower()[:4500],
        notes=[_note_doc(e) for e in r.timeline if e.public],
        tracking_number=r.tracking_number, followers=r.followers,
        closed_at=sort_time(r.closed_at) if r.closed_at else None, disputed=r.disputed,
        rating=r.rating, rating_comment=r.rating_comment,
        photos=[_photo_doc(p) for p in r.photos],
        sla=_sla_doc(r),
        GSI1PK=town_pk(r.town_id), GSI1SK=f"{requested}#{r.request_id}",
        GSI2PK=town_pk(r.town_id), GSI2SK=f"{updated}#{r.request_id}",
    )
    if r.status == "open" and r.department is None:
        item.GSI4PK, item.GSI4SK = UNROUTED, f"{requested}#{r.town_id}#{r.request_id}"
    elif r.status == "open":
        item.GSI4PK = department_key(r.town_id, r.department or "")
        item.GSI4SK = f"{requested}#{r.request_id}"
    if r.status == "open" and r.next_sla_at is not None:
        at = sort_time(r.next_sla_at)
        item.GSI5PK, item.GSI5SK = sla_bucket(r.next_sla_at), f"{at}#{r.town_id}#{r.request_id}"
    if r.place.has_point and r.status == "open":
        cell = cell_of(r.place.lat, r.place.long)  # type: ignore[arg-type]
        item.GSI3PK = _place_key(r.town_id, r.service_code, cell)
        item.GSI3SK = f"{requested}#{r.request_id}"
    return item


def sla_bucket(at: datetime) -> str:
    """The by_sla partition of an instant: its UTC hour, across every town."""
    return "SLA#" + at.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _sla_doc(r: ServiceRequest) -> dict[str, Any] | None:
    if r.sla_target is None:
        return None
    return {"amount": r.sla_target.amount, "unit": r.sla_target.unit,
            "started": sort_time(r.sla_started_at) if r.sla_started_at else None,
            "level": r.escalation_level,
            "next": sort_time(r.next_sla_at) if r.next_sla_at else None,
            "hours_left": r.sla_hours_left}


def _sla_fields(doc: dict[str, Any] | None) -> dict[str, Any]:
    if not doc:
        return {}
    return {"sla_target": SlaTarget(float(doc["amount"]), doc["unit"]),
            "sla_started_at": parse_sort_time(doc["started"]) if doc.get("started") else None,
            "escalation_level": int(doc.get("level") or 0),
            "next_sla_at": parse_sort_time(doc["next"]) if doc.get("next") else None,
            "sla_hours_left": doc.get("hours_left")}


def _photo_doc(p: RequestPhoto) -> dict[str, Any]:
    return {"id": p.photo_id, "display": p.display_key, "thumbnail": p.thumbnail_key,
            "width": p.width, "height": p.height, "at": sort_time(p.added_at),
            "by": p.added_by, "hidden": p.hidden}


def _photo(doc: dict[str, Any]) -> RequestPhoto:
    return RequestPhoto(photo_id=doc["id"], display_key=doc["display"],
                        thumbnail_key=doc["thumbnail"], width=int(doc["width"]),
                        height=int(doc["height"]), added_at=parse_sort_time(doc["at"]),
                        added_by=doc.get("by", "resident"), hidden=bool(doc.get("hidden")))


def _token_pk(town_id: str, token_hash: str) -> str:
    return f"TOWN#{town_id}#TOKENHASH#{token_hash}"


def _track_pk(town_id: str, tracking_number: str) -> str:
    return f"TOWN#{town_id}#TRACK#{followers.tracking_key(tracking_number)}"


def _follower_item(town_id: str, request_id: str, f: Follower) -> FollowerItem:
    return FollowerItem(request_pk(town_id, request_id), f"SUB#{f.follower_id}", role=f.role,
                        since=sort_time(f.since), email=f.email, phone=f.phone,
                        language=f.language, unsubscribe_key=f.unsubscribe_key or None,
                        confirmed=list(f.confirmed))


def _follower(item: FollowerItem) -> Follower:
    follower = Follower(follower_id=item.SK.removeprefix("SUB#"), role=item.role,
                        since=parse_sort_time(item.since), email=item.email, phone=item.phone,
                        language=item.language, unsubscribe_key=item.unsubscribe_key or "")
    confirmed = follower.channels if item.confirmed is None else tuple(item.confirmed)
    return dataclasses.replace(follower, confirmed=confirmed)


def _note_doc(e: TimelineEvent) -> dict[str, Any]:
    return {"at": sort_time(e.at), "id": e.event_id, "kind": e.kind, "summary": e.summary,
            "description": e.description, "actor_role": e.actor_role}


def _note(doc: dict[str, Any]) -> TimelineEvent:
    return TimelineEvent(at=parse_sort_time(doc["at"]), event_id=doc["id"], kind=doc["kind"],
                         summary=doc["summary"], description=doc.get("description"),
                         actor_role=doc.get("actor_role", "system"))


def _event_item(town_id: str, request_id: str, e: TimelineEvent) -> EventItem:
    return EventItem(
        request_pk(town_id, request_id), f"EVENT#{sort_time(e.at)}#{e.event_id}",
        at=sort_time(e.at), event_id=e.event_id, kind=e.kind, summary=e.summary,
        description=e.description, public=e.public, actor_role=e.actor_role,
    )


def _service_request(item: RequestItem, timeline: list[TimelineEvent] | None = None,
                     ) -> ServiceRequest:
    reporter = Reporter(**json.loads(item.reporter)) if item.reporter else Reporter()
    return ServiceRequest(
        town_id=item.town_id, request_id=item.request_id, token_hash=item.token_hash,
        service_code=item.service_code, service_name=item.service_name,
        requested_at=parse_sort_time(item.requested_at),
        updated_at=parse_sort_time(item.updated_at),
        place=Place(lat=item.lat, long=item.long, address=item.address,
                    address_id=item.address_id, zipcode=item.zipcode),
        description=item.description, status=item.status, status_notes=item.status_notes,
        lifecycle=item.lifecycle, resolution=item.resolution,
        agency_responsible=item.agency_responsible, department=item.department,
        service_notice=item.service_notice,
        expected_at=parse_sort_time(item.expected_at) if item.expected_at else None,
        media_url=item.media_url, answers=dict(item.answers or {}), channel=item.channel,
        reporter=reporter, api_key_id=item.api_key_id, entered_by=item.entered_by,
        parent_request_id=item.parent_request_id, zone=item.zone,
        tracking_number=item.tracking_number, followers=int(item.followers or 0),
        closed_at=parse_sort_time(item.closed_at) if item.closed_at else None,
        disputed=bool(item.disputed),
        rating=int(item.rating) if item.rating is not None else None,
        rating_comment=item.rating_comment,
        photos=[_photo(doc) for doc in item.photos or []],
        **_sla_fields(item.sla),
        version=int(item.version or 1),
        timeline=timeline if timeline is not None else [_note(n) for n in item.notes or []],
    )


def _timeline_event(item: EventItem) -> TimelineEvent:
    return TimelineEvent(
        at=parse_sort_time(item.at), event_id=item.event_id, kind=item.kind,
        summary=item.summary, description=item.description, public=item.public,
        actor_role=item.actor_role,
    )


class DynamoRequestStore:
    """Service requests and their timelines."""

    def _transaction(self) -> TransactWrite:
        return TransactWrite(connection=RequestItem._get_connection().connection)

    def add(self, request: ServiceRequest, first_event: TimelineEvent,
            quota: Quota | None = None, audit: AuditEntry | None = None,
            reporter: Follower | None = None) -> None:
        """Write a new request, its first timeline event, its token and tracking number,
        the reporter's index entries (and follower entry, if they want messages) and the
        caller's rate counter in one transaction: one write call, and a request over the
        key's rate is refused without storing anything."""
        item = _request_item(request)
        town = request.town_id
        try:
            with self._transaction() as tx:
                if quota is not None:
                    # The only update: pynamodb sends updates after puts, so its
                    # cancellation reason is always the last one.
                    epoch = int(quota.window_start.timestamp())
                    tx.update(
                        RateItem(town_pk(town), f"RATE#{quota.key_id}#{epoch}"),
                        actions=[RateItem.calls.add(1), RateItem.expires_at.set(epoch + 180)],
                        condition=RateItem.calls.does_not_exist()
                        | (RateItem.calls < quota.limit_per_minute))
                tx.save(item, condition=RequestItem.PK.does_not_exist())
                tx.save(_event_item(town, request.request_id, first_event))
                if request.token_hash:
                    tx.save(TokenItem(_token_pk(town, request.token_hash), "TOKEN",
                                      request_id=request.request_id),
                            condition=TokenItem.PK.does_not_exist())
                for contact in contact_hashes(request.reporter):
                    tx.save(ResidentItem(f"TOWN#{town}#RESIDENT#{contact}",
                                         f"REQ#{request.request_id}"))
                if request.tracking_number:
                    tx.save(TrackItem(_track_pk(town, request.tracking_number), "TRACK",
                                      request_id=request.request_id),
                            condition=TrackItem.PK.does_not_exist())
                if reporter is not None:
                    tx.save(_follower_item(town, request.request_id, reporter))
                if audit is not None:
                    tx.save(_audit_item(audit))
        except TransactWriteError as e:
            reasons = [r.code if r else None for r in e.cancellation_reasons]
            if quota is not None and reasons and reasons[-1] == "ConditionalCheckFailed":
                wait = 60 - int(request.requested_at.timestamp()) % 60
                raise Throttled(f"this API key may submit {quota.limit_per_minute} requests "
                                "a minute", retry_after_seconds=max(wait, 1)) from e
            if "ConditionalCheckFailed" in reasons:
                raise Conflict("a request with this id already exists") from e
            raise _storage_error(e) from e
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def department_work(self, town_id: str, department: str, state: str | None, limit: int,
                        after: str | None) -> RequestPage:
        """A department's open requests, oldest first, one page; ``after`` is the last
        request id of the previous page."""
        condition = RequestItem.lifecycle == state if state else None
        start = None
        if after:
            found = self.get(town_id, after, with_timeline=False)
            if found is not None:
                start = {"PK": {"S": request_pk(town_id, after)}, "SK": {"S": "META"},
                         "GSI4PK": {"S": department_key(town_id, department)},
                         "GSI4SK": {"S": f"{sort_time(found.requested_at)}#{after}"}}
        try:
            results = RequestItem.by_department.query(
                department_key(town_id, department), filter_condition=condition,
                scan_index_forward=True, last_evaluated_key=start, page_size=limit + 1)
            items = []
            for item in results:
                if len(items) == limit:
                    return RequestPage(items, has_more=True)
                items.append(_service_request(item))
        except PynamoDBException as e:
            raise _storage_error(e) from e
        return RequestPage(items, has_more=False)

    def unrouted_before(self, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        """(town, request id) of open requests stored before ``cutoff`` and not assigned:
        one Query of the sparse UNROUTED partition, which routing empties."""
        try:
            items = RequestItem.by_department.query(
                UNROUTED, RequestItem.GSI4SK < sort_time(cutoff),  # noqa: SIM300 - a condition
                limit=limit)
            return [(i.town_id, i.request_id) for i in items]
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def requests_of_resident(self, town_id: str, contact_hash: str) -> list[str]:
        """The ids of the requests a resident (by hashed e-mail or phone) reported."""
        return self._resident_entries(town_id, contact_hash, "REQ#")

    def requests_followed_by(self, town_id: str, contact_hash: str) -> list[str]:
        """The ids of the requests a resident follows (not those they reported)."""
        return self._resident_entries(town_id, contact_hash, "FOLLOW#")

    def _resident_entries(self, town_id: str, contact_hash: str, prefix: str) -> list[str]:
        try:
            return [raw["SK"]["S"].removeprefix(prefix) for raw in
                    _query_items(f"TOWN#{town_id}#RESIDENT#{contact_hash}", prefix)]
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def is_reporter_or_follower(self, town_id: str, request_id: str,
                                contact_hash: str) -> str | None:
        """"reporter", "follower", or None: how a signed-in resident is tied to a request."""
        pk = f"TOWN#{town_id}#RESIDENT#{contact_hash}"
        try:
            found = {i.SK for i in ResidentItem.batch_get(
                [(pk, f"REQ#{request_id}"), (pk, f"FOLLOW#{request_id}")])}
        except PynamoDBException as e:
            raise _storage_error(e) from e
        if f"REQ#{request_id}" in found:
            return followers.REPORTER
        return followers.FOLLOWER if found else None

    def follow(self, town_id: str, request_id: str, follower: Follower) -> bool:
        """Add a follower to an open request (and one to its public count); False if they
        already follow it. Conflict if the request is closed, NotFound if there is none."""
        pk = request_pk(town_id, request_id)
        counted = follower.role == followers.FOLLOWER
        try:
            with self._transaction() as tx:
                tx.save(_follower_item(town_id, request_id, follower),
                        condition=FollowerItem.SK.does_not_exist())
                for contact in follower.contact_hashes:
                    tx.save(ResidentItem(f"TOWN#{town_id}#RESIDENT#{contact}",
                                         f"FOLLOW#{request_id}"))
                tx.update(RequestCounters(pk, "META"),
                          actions=[RequestCounters.followers.add(1 if counted else 0),
                                   RequestCounters.version.add(1)],
                          condition=RequestCounters.status == "open")
        except TransactWriteError as e:
            codes = [r.code if r else None for r in e.cancellation_reasons]
            if codes and codes[0] == "ConditionalCheckFailed":
                return False
            if codes and codes[-1] == "ConditionalCheckFailed":
                if self.get(town_id, request_id, with_timeline=False) is None:
                    raise NotFound(f"no service request {request_id[:64]!r}") from e
                raise Conflict("only an open request can be followed") from e
            raise _storage_error(e) from e
        except PynamoDBException as e:
            raise _storage_error(e) from e
        return True

    def unfollow(self, town_id: str, request_id: str, follower: Follower) -> None:
        """Remove a follower (and, for a "me too", one from the public count)."""
        pk = request_pk(town_id, request_id)
        try:
            with self._transaction() as tx:
                tx.delete(FollowerItem(pk, f"SUB#{follower.follower_id}"),
                          condition=FollowerItem.SK.exists())
                for contact in follower.contact_hashes:
                    tx.delete(ResidentItem(f"TOWN#{town_id}#RESIDENT#{contact}",
                                           f"FOLLOW#{request_id}"))
                if follower.role == followers.FOLLOWER:
                    tx.update(RequestCounters(pk, "META"),
                              actions=[RequestCounters.followers.add(-1),
                                       RequestCounters.version.add(1)],
                              condition=RequestCounters.followers > 0)
        except TransactWriteError as e:
            codes = [r.code if r else None for r in e.cancellation_reasons]
            if codes and codes[0] == "ConditionalCheckFailed":
                return  # already gone: stopping twice is not an error
            raise _storage_error(e) from e
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def followers_of(self, town_id: str, request_id: str) -> Iterator[Follower]:
        """Everyone who follows a request, the reporter included, page by page."""
        try:
            for raw in _query_items(request_pk(town_id, request_id), "SUB#"):
                yield _follower(FollowerItem.from_raw_data(raw))
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def get_follower(self, town_id: str, request_id: str,
                     follower_id: str) -> Follower | None:
        try:
            return _follower(FollowerItem.get(request_pk(town_id, request_id),
                                              f"SUB#{follower_id}"))
        except FollowerItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def save_follower(self, town_id: str, request_id: str, follower: Follower,
                      dropped: str | None = None) -> None:
        """Write a follower that confirmed or dropped an address (``dropped``: the hash
        of the address no longer theirs to be found by)."""
        try:
            with self._transaction() as tx:
                tx.save(_follower_item(town_id, request_id, follower),
                        condition=FollowerItem.SK.exists())
                if dropped:
                    tx.delete(ResidentItem(f"TOWN#{town_id}#RESIDENT#{dropped}",
                                           f"FOLLOW#{request_id}"))
        except TransactWriteError as e:
            codes = [r.code if r else None for r in e.cancellation_reasons]
            if codes and codes[0] == "ConditionalCheckFailed":
                raise NotFound("this follower stopped following") from e
            raise _storage_error(e) from e
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def save_link(self, town_id: str, secret_hash: str, request_id: str, follower_id: str,
                  channel: str, expires_at: int) -> None:
        try:
            LinkItem(f"TOWN#{town_id}#LINK#{secret_hash}", "LINK", request_id=request_id,
                     follower_id=follower_id, channel=channel, expires_at=expires_at).save()
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def take_link(self, town_id: str, secret_hash: str,
                  now: int) -> tuple[str, str, str] | None:
        """(request, follower, channel) of a confirm link, removed as it is used; None if
        there is none, it expired, or someone used it a moment earlier."""
        pk = f"TOWN#{town_id}#LINK#{secret_hash}"
        try:
            item = LinkItem.get(pk, "LINK", consistent_read=True)
        except LinkItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e
        if not _written_if(lambda: item.delete(condition=LinkItem.PK.exists())):
            return None
        if int(item.expires_at) < now:
            return None
        return item.request_id, item.follower_id, item.channel

    def request_id_for_tracking(self, town_id: str, tracking_number: str) -> str | None:
        try:
            return TrackItem.get(_track_pk(town_id, tracking_number), "TRACK").request_id
        except TrackItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def sla_due(self, bucket_hour: datetime, now: datetime,
                limit: int) -> list[tuple[str, str]]:
        """(town, request id) of open requests whose next SLA step, in that UTC hour, is
        due by ``now``: one Query of the sparse by_sla index."""
        try:
            items = RequestItem.by_sla.query(
                sla_bucket(bucket_hour), sort_time(now) + "~" >= RequestItem.GSI5SK,
                limit=limit)
            found = []
            for item in items:
                _, town, request_id = (item.GSI5SK or "").rsplit("#", 2)
                found.append((town, request_id))
            return found
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def sla_cursor(self) -> datetime | None:
        """The oldest hour the SLA sweep has not finished (None: it never ran)."""
        try:
            return parse_sort_time(OptOutItem.get("SLA#SWEEP", "CURSOR").at)
        except OptOutItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def save_sla_cursor(self, hour: datetime) -> None:
        try:
            OptOutItem("SLA#SWEEP", "CURSOR", at=sort_time(hour)).save()
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def tallies(self, town_id: str, prefix: str) -> dict[str, int]:
        """The town's counters whose names start with ``prefix`` (e.g. "disputes#")."""
        try:
            return {raw["SK"]["S"].removeprefix("TALLY#"): int(raw["count"]["N"])
                    for raw in _query_items(town_pk(town_id), f"TALLY#{prefix}")
                    if "count" in raw}
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def forget_resident(self, town_id: str, contact_hash: str, request_ids: list[str]) -> None:
        try:
            with ResidentItem.batch_write() as batch:
                for rid in request_ids:
                    batch.delete(ResidentItem(f"TOWN#{town_id}#RESIDENT#{contact_hash}",
                                              f"REQ#{rid}"))
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def record_change(self, request: ServiceRequest, event: TimelineEvent,
                      once: str | None = None, tally: dict[str, int] | None = None) -> None:
        """Write a changed request with the timeline event that says why, atomically, if
        nobody else changed it since it was read (``request.version``); else Conflict.
        With ``once`` (an external update id), the same key can never apply twice:
        AlreadyApplied. ``tally`` adds to the town's named counters in the same write."""
        item = _request_item(request)
        item.version = request.version
        try:
            with self._transaction() as tx:
                tx.save(item)
                tx.save(_event_item(request.town_id, request.request_id, event))
                if once is not None:
                    tx.save(_Table(request_pk(request.town_id, request.request_id),
                                   f"ONCE#{once}"), condition=_Table.SK.does_not_exist())
                for name, amount in (tally or {}).items():
                    tx.update(TallyItem(town_pk(request.town_id), f"TALLY#{name}"),
                              actions=[TallyItem.count.add(amount)])
        except TransactWriteError as e:
            codes = [r.code if r else None for r in e.cancellation_reasons]
            if once is not None and len(codes) == 3 and codes[2] == "ConditionalCheckFailed":
                raise AlreadyApplied("this update was applied before") from e
            if "ConditionalCheckFailed" in codes:
                raise Conflict("the request changed meanwhile; read it again") from e
            raise _storage_error(e) from e
        except PynamoDBException as e:
            raise _storage_error(e) from e
        request.version += 1

    def get(self, town_id: str, request_id: str, *, with_timeline: bool) -> ServiceRequest | None:
        pk = request_pk(town_id, request_id)
        try:
            if not with_timeline:
                return _service_request(RequestItem.get(pk, "META"))
            meta: RequestItem | None = None
            events: list[TimelineEvent] = []
            # EVENT#… < META < ONCE#… < SUB#…: the request and its timeline, never its
            # followers (a request may have hundreds).
            for raw in _query_items(pk, sk_upto="META"):
                sk = raw["SK"]["S"]
                if sk == "META":
                    meta = RequestItem.from_raw_data(raw)
                elif sk.startswith("EVENT#"):
                    events.append(_timeline_event(EventItem.from_raw_data(raw)))
        except RequestItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e
        return _service_request(meta, sorted(events, key=lambda e: (e.at, e.event_id))) \
            if meta is not None else None

    def get_many(self, town_id: str, request_ids: list[str]) -> list[ServiceRequest]:
        keys = [(request_pk(town_id, rid), "META") for rid in dict.fromkeys(request_ids)]
        try:
            found = {i.request_id: _service_request(i) for i in RequestItem.batch_get(keys)}
        except PynamoDBException as e:
            raise _storage_error(e) from e
        return [found[rid] for rid in dict.fromkeys(request_ids) if rid in found]

    def request_id_for_token_hash(self, town_id: str, token_hash: str) -> str | None:
        try:
            return TokenItem.get(_token_pk(town_id, token_hash), "TOKEN").request_id
        except TokenItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def find(self, town_id: str, query: RequestQuery) -> RequestPage:
        """One page of a town's requests, newest first, for Open311's ``GET requests``."""
        condition = None
        if query.statuses:
            condition = RequestItem.status.is_in(*query.statuses)
        if query.service_codes:
            c = RequestItem.service_code.is_in(*query.service_codes)
            condition = c if condition is None else condition & c
        if query.departments:
            c = RequestItem.department.is_in(*query.departments)
            condition = c if condition is None else condition & c
        if query.zone:
            c = RequestItem.zone == query.zone
            condition = c if condition is None else condition & c
        if query.text:
            c = RequestItem.search_text.contains(query.text.lower())
            condition = c if condition is None else condition & c
        if query.by_updated:
            index: Any = RequestItem.by_updated
            key = RequestItem.GSI2SK.between(sort_time(query.start), sort_time(query.end) + "~")
        else:
            index = RequestItem.by_requested
            key = RequestItem.GSI1SK.between(sort_time(query.start), sort_time(query.end) + "~")
            if query.updated_start is not None or query.updated_end is not None:
                c = RequestItem.updated_at.between(
                    sort_time(query.updated_start or datetime(2000, 1, 1, tzinfo=UTC)),
                    sort_time(query.updated_end or datetime(2999, 1, 1, tzinfo=UTC)))
                condition = c if condition is None else condition & c
        skip = (query.page - 1) * query.page_size
        wanted = skip + query.page_size
        try:
            results: Iterator[RequestItem] = index.query(
                town_pk(town_id), key, filter_condition=condition, scan_index_forward=False,
                page_size=min(wanted + 1, 1000))
            items: list[ServiceRequest] = []
            more = False
            for n, item in enumerate(results):
                if n < skip:
                    continue
                if len(items) == query.page_size:
                    more = True
                    break
                items.append(_service_request(item))
        except PynamoDBException as e:
            raise _storage_error(e) from e
        return RequestPage(items=items, has_more=more)


class DynamoResidentAccess:
    """Residents' sign-in codes and sessions, keyed by the hash of their contact:
    PK=TOWN#t#RESIDENT#<hash>, SK=CODE; PK=TOWN#t#RSESSION#<sha256(session)>, SK=SESSION."""

    def save_code(self, town_id: str, contact_hash: str, code_hash: str, expires_at: int,
                  not_before: int) -> bool:
        """Store a fresh code unless one was issued after ``not_before`` (anti-flooding)."""
        item = ResidentCodeItem(f"TOWN#{town_id}#RESIDENT#{contact_hash}", "CODE",
                                code_hash=code_hash, attempts=0, expires_at=expires_at)
        return _written_if(lambda: item.save(
            condition=ResidentCodeItem.PK.does_not_exist()
            | (ResidentCodeItem.expires_at < not_before)))

    def take_code(self, town_id: str, contact_hash: str,
                  max_tries: int) -> tuple[str, int, int] | None:
        """Count one try at the stored code, in the same write that checks the tries left
        (so concurrent guesses cannot share a try): its hash, expiry and tries so far, or
        None when there is no code or its tries are spent."""
        item = ResidentCodeItem(f"TOWN#{town_id}#RESIDENT#{contact_hash}", "CODE")
        if not _written_if(lambda: item.update(
                actions=[ResidentCodeItem.attempts.add(1)],
                condition=ResidentCodeItem.PK.exists()
                & (ResidentCodeItem.attempts < max_tries))):
            return None
        return item.code_hash, int(item.expires_at), int(item.attempts)

    def drop_code(self, town_id: str, contact_hash: str) -> None:
        """The code no longer works (used, or its tries spent); the item stays until it
        expires, so that the one-a-minute resend timer still holds."""
        item = ResidentCodeItem(f"TOWN#{town_id}#RESIDENT#{contact_hash}", "CODE")
        _written_if(lambda: item.update(actions=[ResidentCodeItem.code_hash.set("")],
                                        condition=ResidentCodeItem.PK.exists()))

    def save_session(self, town_id: str, session_hash: str, contact_hash: str,
                     expires_at: int) -> None:
        try:
            ResidentSessionItem(f"TOWN#{town_id}#RSESSION#{session_hash}", "SESSION",
                                contact_hash=contact_hash, expires_at=expires_at).save()
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def session_contact(self, town_id: str, session_hash: str) -> tuple[str, int] | None:
        try:
            item = ResidentSessionItem.get(f"TOWN#{town_id}#RSESSION#{session_hash}", "SESSION")
        except ResidentSessionItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e
        return item.contact_hash, int(item.expires_at)


class DynamoNoticeBook:
    """Who said stop, which messages were sent, and texts waiting for the morning."""

    def stopped(self, town_id: str, contact_hashes: list[str],
                phone_hashes: list[str]) -> tuple[set[str], set[str]]:
        keys = [(f"TOWN#{town_id}#OPTOUT#{h}", "OPTOUT") for h in contact_hashes]
        keys += [(f"PLATFORM#SMSOPTOUT#{h}", "OPTOUT") for h in phone_hashes]
        town_stops: set[str] = set()
        text_stops: set[str] = set()
        if not keys:
            return town_stops, text_stops
        try:
            for item in OptOutItem.batch_get(keys):
                found = text_stops if item.PK.startswith("PLATFORM#") else town_stops
                found.add(item.PK.rsplit("#", 1)[-1])
        except PynamoDBException as e:
            raise _storage_error(e) from e
        return town_stops, text_stops

    @staticmethod
    def _stop_pk(town_id: str | None, contact_hash: str) -> str:
        # STOP to the shared number is about the number, not a town: it covers them all.
        return f"TOWN#{town_id}#OPTOUT#{contact_hash}" if town_id else \
            f"PLATFORM#SMSOPTOUT#{contact_hash}"

    def stop(self, town_id: str | None, contact_hash: str, at: datetime) -> None:
        try:
            OptOutItem(self._stop_pk(town_id, contact_hash), "OPTOUT", at=sort_time(at)).save()
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def restart(self, town_id: str | None, contact_hash: str) -> None:
        try:
            OptOutItem(self._stop_pk(town_id, contact_hash), "OPTOUT").delete()
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def claim(self, town_id: str, event_id: str, key: str, expires_at: int,
              stop_hash: str | None = None, request_id: str | None = None) -> bool:
        claim = NoticeClaimItem(f"TOWN#{town_id}#NOTICE#{event_id}", key,
                                expires_at=expires_at, stop_hash=stop_hash,
                                request_id=request_id)
        return _written_if(lambda: claim.save(condition=NoticeClaimItem.SK.does_not_exist()))

    def stop_link(self, town_id: str, event_id: str, key: str) -> tuple[str, str] | None:
        """(stop secret's hash, request) of the message sent for ``event_id`` to ``key``."""
        try:
            item = NoticeClaimItem.get(f"TOWN#{town_id}#NOTICE#{event_id}", key)
        except NoticeClaimItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e
        if not item.stop_hash or not item.request_id:
            return None
        return item.stop_hash, item.request_id

    def release(self, town_id: str, event_id: str, key: str) -> None:
        try:
            NoticeClaimItem(f"TOWN#{town_id}#NOTICE#{event_id}", key).delete()
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def defer(self, town_id: str, send_at: datetime, key: str, body: str) -> None:
        try:
            DeferredNoticeItem(DEFERRED, f"{sort_time(send_at)}#{town_id}#{key}",
                               town_id=town_id, body=body).save()
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def deferred_until(self, now: datetime, limit: int) -> list[tuple[str, str, str]]:
        try:
            return [(i.SK, i.town_id, i.body) for i in DeferredNoticeItem.query(
                DEFERRED, sort_time(now) + "~" >= DeferredNoticeItem.SK, limit=limit)]
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def drop_deferred(self, key: str) -> None:
        try:
            DeferredNoticeItem(DEFERRED, key).delete()
        except PynamoDBException as e:
            raise _storage_error(e) from e


DEFERRED = "NOTICE#DEFERRED"


# --- what strangers can make the town send, and the town's monthly texts -----------------
#
# - a budget of one window: UpdateItem PK=TOWN#t#LIMIT#<name>#<window>, SK=LIMIT, a
#   conditional add (TTL removes old windows)
# - tallies that only grow (refusals per day, texts per month): UpdateItem PK=TOWN#t,
#   SK=TALLY#<name>; read with Query SK begins_with TALLY#<prefix>


class LimitItem(_Table):
    count = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)


ITEM_CLASSES = (*ITEM_CLASSES, LimitItem)


class DynamoLimits:
    def take(self, town_id: str, name: str, window: int, limit: int, expires_at: int,
             amount: int = 1) -> bool:
        item = LimitItem(f"TOWN#{town_id}#LIMIT#{name}#{window}", "LIMIT")
        return _written_if(lambda: item.update(
            actions=[LimitItem.count.add(amount), LimitItem.expires_at.set(expires_at)],
            condition=LimitItem.count.does_not_exist() | (LimitItem.count <= limit - amount)))

    def add(self, town_id: str, name: str, amount: int) -> None:
        item = TallyItem(town_pk(town_id), f"TALLY#{name}")
        try:
            item.update(actions=[TallyItem.count.add(amount)])
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def totals(self, town_id: str, prefix: str) -> dict[str, int]:
        try:
            return {raw["SK"]["S"].removeprefix("TALLY#"): int(raw.get("count", {"N": "0"})["N"])
                    for raw in _query_items(town_pk(town_id), f"TALLY#{prefix}")}
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def spend_sms(self, town_id: str, month: str, segments: int, cap: int) -> bool:
        item = TallyItem(town_pk(town_id), f"TALLY#sms#{month}")
        return _written_if(lambda: item.update(
            actions=[TallyItem.count.add(segments)],
            condition=TallyItem.count.does_not_exist() | (TallyItem.count <= cap - segments)))


# --- emergency alert subscribers ---------------------------------------------------------
#
# - a subscriber: GetItem PK=TOWN#t#ALERTSUB#<id>, SK=SUB
# - one subscription per contact and town: PK=TOWN#t#ALERTCONTACT#<contact hash>, SK=SUB
# - who an alert reaches: Query PK=TOWN#t#AUDIENCE#<zone> (or AUDIENCE#* for the whole
#   town); active subscribers only, each item carrying the contact, language and channels,
#   so choosing recipients is one Query per zone and nothing else
# - STOP to the shared number: Query PK=PLATFORM#ALERTPHONE#<phone hash> (every town)


class SubscriberItem(_Table):
    language = UnicodeAttribute()
    zones = JSONAttribute(default=list)
    created_at = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    code_hash = UnicodeAttribute(null=True)
    code_expires = NumberAttribute(default=0)
    tries = NumberAttribute(default=0)
    stop_key = UnicodeAttribute(default="")
    home = JSONAttribute(null=True)


class AudienceItem(_Table):
    subscriber_id = UnicodeAttribute()
    language = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    stop_key = UnicodeAttribute(default="")
    home = JSONAttribute(null=True)


class SubscriberPointer(_Table):
    town_id = UnicodeAttribute()
    subscriber_id = UnicodeAttribute()


ITEM_CLASSES = (*ITEM_CLASSES, SubscriberItem, AudienceItem, SubscriberPointer)


def _subscriber_pk(town_id: str, subscriber_id: str) -> str:
    return f"TOWN#{town_id}#ALERTSUB#{subscriber_id}"


def _audiences(s: Subscriber) -> list[str]:
    return ["*", *s.zones]


class DynamoSubscribers:
    def _transaction(self) -> TransactWrite:
        return TransactWrite(connection=SubscriberItem._get_connection().connection)

    def get(self, town_id: str, subscriber_id: str) -> Subscriber | None:
        try:
            item = SubscriberItem.get(_subscriber_pk(town_id, subscriber_id), "SUB")
        except SubscriberItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e
        return Subscriber(
            town_id=town_id, subscriber_id=subscriber_id, language=item.language,
            zones=tuple(item.zones or ()), created_at=parse_sort_time(item.created_at),
            phone=item.phone, email=item.email, status=item.status, code_hash=item.code_hash,
            code_expires=int(item.code_expires or 0), tries=int(item.tries or 0),
            stop_key=item.stop_key, home=tuple(item.home) if item.home else None)

    def find_by_contact(self, town_id: str, contact_hash: str) -> str | None:
        try:
            return SubscriberPointer.get(f"TOWN#{town_id}#ALERTCONTACT#{contact_hash}",
                                         "SUB").subscriber_id
        except SubscriberPointer.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def save(self, s: Subscriber) -> None:
        """Write a subscriber (pending or active) with its contact pointers, and, when
        active, its audience entries and the STOP pointer, in one transaction."""
        try:
            with self._transaction() as tx:
                tx.save(SubscriberItem(
                    _subscriber_pk(s.town_id, s.subscriber_id), "SUB", language=s.language,
                    zones=list(s.zones), created_at=sort_time(s.created_at), phone=s.phone,
                    email=s.email, status=s.status, code_hash=s.code_hash,
                    code_expires=s.code_expires, tries=s.tries, stop_key=s.stop_key,
                    home=list(s.home) if s.home else None))
                if s.status == "active":
                    # Only a confirmed subscription is the contact's: a pending sign-up
                    # (perhaps a stranger's, with this contact) points nowhere.
                    for h in s.contact_hashes:
                        tx.save(SubscriberPointer(f"TOWN#{s.town_id}#ALERTCONTACT#{h}", "SUB",
                                                  town_id=s.town_id,
                                                  subscriber_id=s.subscriber_id))
                    for zone in _audiences(s):
                        tx.save(AudienceItem(
                            f"TOWN#{s.town_id}#AUDIENCE#{zone}", f"SUB#{s.subscriber_id}",
                            subscriber_id=s.subscriber_id, language=s.language,
                            phone=s.phone, email=s.email, stop_key=s.stop_key,
                            home=list(s.home) if s.home else None))
                    for h in followers.contact_hashes(None, s.phone):
                        tx.save(SubscriberPointer(f"PLATFORM#ALERTPHONE#{h}",
                                                  f"{s.town_id}#{s.subscriber_id}",
                                                  town_id=s.town_id,
                                                  subscriber_id=s.subscriber_id))
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def remove(self, s: Subscriber) -> None:
        """Forget a subscriber everywhere at once (STOP, the link, or their own delete)."""
        try:
            with self._transaction() as tx:
                tx.delete(SubscriberItem(_subscriber_pk(s.town_id, s.subscriber_id), "SUB"))
                if s.status != "active":
                    return  # a pending sign-up has nothing else
                for h in s.contact_hashes:
                    tx.delete(SubscriberPointer(f"TOWN#{s.town_id}#ALERTCONTACT#{h}", "SUB"))
                for zone in _audiences(s):
                    tx.delete(AudienceItem(f"TOWN#{s.town_id}#AUDIENCE#{zone}",
                                           f"SUB#{s.subscriber_id}"))
                for h in followers.contact_hashes(None, s.phone):
                    tx.delete(SubscriberPointer(f"PLATFORM#ALERTPHONE#{h}",
                                                f"{s.town_id}#{s.subscriber_id}"))
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def take_try(self, town_id: str, subscriber_id: str, max_tries: int) -> bool:
        """Count one try at a pending sign-up's code, in the write that checks the tries
        left: False when none is left (or it is not pending)."""
        item = SubscriberItem(_subscriber_pk(town_id, subscriber_id), "SUB")
        return _written_if(lambda: item.update(
            actions=[SubscriberItem.tries.add(1)],
            condition=SubscriberItem.PK.exists() & (SubscriberItem.status == "pending")
            & (SubscriberItem.tries < max_tries)))

    def subscriptions_of_phone(self, phone_hash: str) -> list[tuple[str, str]]:
        try:
            return [(raw["town_id"]["S"], raw["subscriber_id"]["S"])
                    for raw in _query_items(f"PLATFORM#ALERTPHONE#{phone_hash}")]
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def audience(self, town_id: str, zone: str) -> Iterator[dict[str, Any]]:
        """Active subscribers of one zone ("*": the whole town), page by page."""
        try:
            for raw in _query_items(f"TOWN#{town_id}#AUDIENCE#{zone}"):
                item = AudienceItem.from_raw_data(raw)
                yield {"subscriber_id": item.subscriber_id, "language": item.language,
                       "phone": item.phone, "email": item.email, "stop_key": item.stop_key,
                       "home": item.home}
        except PynamoDBException as e:
            raise _storage_error(e) from e


# --- emergency alerts ------------------------------------------------------------------
#
# - a town's alerts: Query PK=TOWN#t, SK begins_with ALERT# (one item each, versioned)
# - an alert's progress: Query PK=TOWN#t#ALERT#<id>, SK begins_with TALLY# (strongly
#   consistent: the worker that settles the last message must see every other settlement)
# - one message per recipient and channel: PK=TOWN#t#ALERT#<id>#DELIVERY,
#   SK=<subscriber>#<channel>, written (conditionally) before the send


class AlertItem(_Table):
    doc = JSONAttribute()
    status = UnicodeAttribute()
    version = VersionAttribute()


class DeliveryItem(_Table):
    state = UnicodeAttribute()  # sending, then sent, opted_out, over_cap, off_test_list
    expires_at = NumberAttribute(null=True)
    stop_hash = UnicodeAttribute(null=True)  # an e-mail's own stop link (its secret, hashed)


ITEM_CLASSES = (*ITEM_CLASSES, AlertItem, DeliveryItem)


def _alert_doc(a: Alert) -> dict[str, Any]:
    return {"title": a.title, "body": a.body, "fallback": a.fallback_language,
            "severity": a.severity, "category": a.category,
            "expires_at": sort_time(a.expires_at), "zones": list(a.zones),
            "created_by": a.created_by, "created_at": sort_time(a.created_at), "test": a.test,
            "approved_by": a.approved_by, "cancelled_by": a.cancelled_by,
            "sent_at": sort_time(a.sent_at) if a.sent_at else None, "corrects": a.corrects,
            "area": a.area,
            "cancelled_at": sort_time(a.cancelled_at) if a.cancelled_at else None}


def _alert(town_id: str, item: AlertItem) -> Alert:
    d = item.doc
    return Alert(
        town_id=town_id, alert_id=item.SK.removeprefix("ALERT#"), title=d["title"],
        body=d["body"], fallback_language=d["fallback"], severity=d["severity"],
        category=d["category"], expires_at=parse_sort_time(d["expires_at"]),
        zones=tuple(d["zones"]), created_by=d["created_by"],
        created_at=parse_sort_time(d["created_at"]), test=bool(d.get("test")),
        status=item.status, approved_by=d.get("approved_by"),
        cancelled_by=d.get("cancelled_by"),
        sent_at=parse_sort_time(d["sent_at"]) if d.get("sent_at") else None,
        version=int(item.version or 1), corrects=d.get("corrects"), area=d.get("area"),
        cancelled_at=parse_sort_time(d["cancelled_at"]) if d.get("cancelled_at") else None)


class DynamoAlerts:
    """Alerts, their progress counts and their one-message-per-recipient records."""

    def save(self, alert: Alert, new: bool = False) -> None:
        """Store an alert; an existing one only if nobody changed it since it was read."""
        item = AlertItem(town_pk(alert.town_id), f"ALERT#{alert.alert_id}",
                         doc=_alert_doc(alert), status=alert.status)
        if not new and alert.version:
            item.version = alert.version
        try:
            item.save()
        except PutError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict("the alert changed meanwhile; read it again") from e
            raise _storage_error(e) from e
        except PynamoDBException as e:
            raise _storage_error(e) from e
        alert.version = int(item.version or 1)

    def get(self, town_id: str, alert_id: str) -> Alert | None:
        try:
            item = AlertItem.get(town_pk(town_id), f"ALERT#{alert_id}")
        except AlertItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e
        alert = _alert(town_id, item)
        alert.counts = self.counts(town_id, alert_id)
        return alert

    def list(self, town_id: str) -> list[Alert]:
        try:
            found = [_alert(town_id, AlertItem.from_raw_data(raw))
                     for raw in _query_items(town_pk(town_id), "ALERT#")]
        except PynamoDBException as e:
            raise _storage_error(e) from e
        return sorted(found, key=lambda a: a.created_at, reverse=True)

    # Progress counters are spread over shards: tens of thousands of messages adding to
    # one item would exceed what a single DynamoDB item takes per second.
    SHARDS = 10

    def count(self, town_id: str, alert_id: str, outcome: str, amount: int = 1) -> None:
        import random

        shard = random.randrange(self.SHARDS)  # noqa: S311 - spreading writes, not a secret
        try:
            TallyItem(f"TOWN#{town_id}#ALERT#{alert_id}", f"TALLY#{outcome}#{shard}").update(
                actions=[TallyItem.count.add(amount)])
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def counts(self, town_id: str, alert_id: str) -> dict[str, int]:
        """The alert's tallies, summed over their shards, read strongly consistent."""
        totals: dict[str, int] = {}
        connection = _Table._get_connection()
        start: dict[str, Any] | None = None
        try:
            while True:
                page = connection.query(f"TOWN#{town_id}#ALERT#{alert_id}",
                                        range_key_condition=_Table.SK.startswith("TALLY#"),
                                        consistent_read=True, exclusive_start_key=start)
                for raw in page.get("Items", []):
                    if "count" in raw:
                        name = raw["SK"]["S"].removeprefix("TALLY#").split("#")[0]
                        totals[name] = totals.get(name, 0) + int(raw["count"]["N"])
                start = page.get("LastEvaluatedKey")
                if not start:
                    return totals
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def plan(self, town_id: str, alert_id: str, tallies: dict[str, int]) -> None:
        """Set (not add) what the fan-out planned, e.g. recipients and messages: a
        retried fan-out writes the same numbers again instead of doubling them."""
        try:
            for name, value in tallies.items():
                TallyItem(f"TOWN#{town_id}#ALERT#{alert_id}", f"TALLY#{name}",
                          count=value).save()
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def mark_sent(self, town_id: str, alert_id: str) -> bool:
        """sending → sent, only if it is still sending (a cancel meanwhile wins); moves the
        version on, so a cancel read before this refuses instead of overwriting it."""
        connection = _Table._get_connection()
        return _written_if(lambda: connection.update_item(
            town_pk(town_id), f"ALERT#{alert_id}",
            actions=[AlertItem.status.set("sent"), AlertItem.version.add(1)],
            condition=AlertItem.status == "sending"))

    def delivered_to(self, town_id: str, alert_id: str) -> set[str]:
        """The subscribers an alert reached (on any channel)."""
        try:
            return {raw["SK"]["S"].split("#")[0] for raw in _query_items(
                f"TOWN#{town_id}#ALERT#{alert_id}#DELIVERY")
                if raw.get("state", {}).get("S") == "sent"}
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def take_sms_slot(self, town_id: str, second: int, per_second: int) -> bool:
        """One of the town's texts for this second, if any is left (a token bucket of
        one-second windows; TTL removes old windows)."""
        item = TallyItem(f"TOWN#{town_id}#SMSRATE#{second}", "TALLY")
        return _written_if(lambda: item.update(
            actions=[TallyItem.count.add(1)],
            condition=TallyItem.count.does_not_exist() | (TallyItem.count < per_second)))

    def claim(self, town_id: str, alert_id: str, key: str, expires_at: int,
              stop_hash: str | None = None) -> bool:
        claim = DeliveryItem(f"TOWN#{town_id}#ALERT#{alert_id}#DELIVERY", key,
                             state="sending", expires_at=expires_at, stop_hash=stop_hash)
        return _written_if(lambda: claim.save(condition=DeliveryItem.SK.does_not_exist()))

    def stop_hash(self, town_id: str, alert_id: str, key: str) -> str | None:
        """The hash of the stop link's secret in the message of ``alert_id`` to ``key``."""
        try:
            return DeliveryItem.get(f"TOWN#{town_id}#ALERT#{alert_id}#DELIVERY",
                                    key).stop_hash
        except DeliveryItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def settle(self, town_id: str, alert_id: str, key: str, state: str | None,
               tally: str | None = None) -> bool:
        """Record how a claimed message ended and add one to ``tally``, in one transaction
        that only a message still being sent passes: a message is counted once however
        often its batch is retried. None gives the claim back (the send failed and will be
        retried). False: it was already settled, nothing counted."""
        item = DeliveryItem(f"TOWN#{town_id}#ALERT#{alert_id}#DELIVERY", key)
        try:
            if state is None:
                item.delete()
                return True
            if tally is None:
                item.update(actions=[DeliveryItem.state.set(state)],
                            condition=DeliveryItem.state == "sending")
                return True
        except UpdateError as e:
            if e.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise _storage_error(e) from e
        except PynamoDBException as e:
            raise _storage_error(e) from e
        import random

        for _ in range(8):
            # Two transactions on one tally shard at once conflict: another shard, again.
            shard = random.randrange(self.SHARDS)  # noqa: S311 - spreading writes
            try:
                with TransactWrite(connection=_Table._get_connection().connection) as tx:
                    tx.update(item, actions=[DeliveryItem.state.set(state)],
                              condition=DeliveryItem.state == "sending")
                    tx.update(TallyItem(f"TOWN#{town_id}#ALERT#{alert_id}",
                                        f"TALLY#{tally}#{shard}"),
                              actions=[TallyItem.count.add(1)])
                return True
            except TransactWriteError as e:
                reasons = [r.code for r in e.cancellation_reasons or [] if r]
                if "ConditionalCheckFailed" in reasons:
                    return False
                if "TransactionConflict" not in reasons:
                    raise _storage_error(e) from e
            except PynamoDBException as e:
                raise _storage_error(e) from e
        raise StorageUnavailable("the alert's progress is too busy; retried")


# --- one-off migrations (operator-run; never on a resident's or a schedule's path) ---------


class DynamoPhoneMigration:
    """What rewriting typed phones as E.164 needs beyond the request store: every request
    id of a town (a Query of ``by_requested`` over all time), the reporter's phone on its
    own, and index entries under the new hash."""

    def request_ids(self, town_id: str) -> Iterator[str]:
        try:
            for item in RequestItem.by_requested.query(town_pk(town_id),
                                                       attributes_to_get=["request_id"]):
                yield item.request_id
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def set_reporter_phone(self, town_id: str, request_id: str, reporter: Reporter) -> None:
        document = json.dumps({k: v for k, v in vars(reporter).items()
                               if v is not None and v != ""})
        item = RequestItem(request_pk(town_id, request_id), "META")
        try:
            item.update(actions=[RequestItem.reporter.set(document)],
                        condition=RequestItem.PK.exists(), add_version_condition=False)
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def add_resident_entry(self, town_id: str, contact_hash: str, entry: str) -> None:
        try:
            ResidentItem(f"TOWN#{town_id}#RESIDENT#{contact_hash}", entry).save()
        except PynamoDBException as e:
            raise _storage_error(e) from e
