"""Towns, their API keys and staff, in each town's own partition (``PK=TOWN#<town>``), and
the platform's list of towns (``PK=PLATFORM``); ``DynamoTownDirectory`` also writes the
catalogue (catalogue.py).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any, cast

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.catalogue import (
    department_item,
    read_catalogue,
    routing_item,
    service_item,
    zone_item,
)
from chalicelib.adapters.dynamodb.errors import (
    CONDITION_FAILED,
    condition_failed,
    get_or_none,
    reasons,
    storage_errors,
)
from chalicelib.adapters.dynamodb.service_requests import RequestItem
from chalicelib.adapters.dynamodb.table import TableItem, query_items, transaction
from chalicelib.domain.catalogue import Catalogue, Department, Service
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.notices import NoticeSettings, Wording
from chalicelib.domain.routing import RoutingRules
from chalicelib.domain.sla import SlaTarget
from chalicelib.domain.towns import (
    DEFAULT_SCOPES,
    ApiKey,
    Branding,
    BusinessCalendar,
    StaffMember,
    Town,
)
from chalicelib.domain.zones import Zone


class TownItem(TableItem):
    name = UnicodeAttribute()
    timezone = UnicodeAttribute()
    locale = UnicodeAttribute(default="en-US")
    status = UnicodeAttribute(default="active")
    changeset = UnicodeAttribute()
    contact = UnicodeAttribute(null=True)
    key_service = UnicodeAttribute(null=True)
    settings = UnicodeAttribute(null=True)  # JSON: locales, branding, calendar


class PlatformTownItem(TableItem):
    town_id = UnicodeAttribute()
    name = UnicodeAttribute()


class WebDomainItem(TableItem):
    """A web address and the town whose pages it serves."""

    town_id = UnicodeAttribute()


class SmsNumberItem(TableItem):
    """A town's SMS number (E.164) and the town: an inbound text finds its town with one
    GetItem."""

    town_id = UnicodeAttribute()


class ApiKeyItem(TableItem):
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


class StaffItem(TableItem):
    user_id = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    roles = JSONAttribute(default=list)
    departments = JSONAttribute(default=list)
    active = BooleanAttribute(default=True)


# --- mappers --------------------------------------------------------------------------------


def _town(item: TownItem) -> Town:
    contact = json.loads(item.contact) if item.contact else {}
    settings = json.loads(item.settings) if item.settings else {}
    calendar = settings.get("calendar") or {}
    return Town(
        town_id=keys.town_of(item.PK), name=item.name, timezone=item.timezone,
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
        web_domain=settings.get("web_domain"),
        **_open_data_settings(settings.get("open_data")),
        **_sla_settings(settings.get("sla")),
        **_alert_settings(settings.get("alerts")),
        **_messaging_settings(settings.get("messaging")),
    )


def _alert_settings(doc: dict[str, Any] | None) -> dict[str, Any]:
    """Alerts' sending limits and test alerts' settings. Self-approval has its own key
    since it became opt-in: the old key holds the former default (on) for every town ever
    saved, which nobody chose, so it is not read."""
    doc = doc or {}
    return {**{k: v for k, v in doc.items()
               if k in ("alert_sms_per_second", "sms_monthly_cap_usd")},
            "alert_test_self_approval": doc.get("test_self_approval") is True,
            "alert_test_recipients": tuple(str(a) for a in doc.get("test_recipients") or ())}


def _messaging_settings(doc: dict[str, Any] | None) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in (doc or {}).items()
            if k in ("sms_countries", "anonymous_messages_per_hour", "sms_number",
                     "intake_email")}


def _open_data_settings(doc: dict[str, Any] | None) -> dict[str, Any]:
    if not doc:
        return {}
    return {"open_data_grid_m": int(doc.get("grid_m", 250)),
            "sensitive_services": tuple(str(c) for c in doc.get("sensitive_services") or ())}


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
        quiet_hours=tuple(quiet) if quiet else None,
        dispute_window_days=int(doc.get("dispute_window_days", 14)),
        templates={lang: {kind: Wording(w["subject"], w["text"]) for kind, w in kinds.items()}
                   for lang, kinds in (doc.get("templates") or {}).items()})


def _notice_settings_doc(n: NoticeSettings) -> dict[str, Any]:
    return {"quiet_hours": list(n.quiet_hours) if n.quiet_hours else None,
            "dispute_window_days": n.dispute_window_days,
            "templates": {lang: {kind: dataclasses.asdict(w) for kind, w in kinds.items()}
                          for lang, kinds in n.templates.items()}}


def town_item(town: Town) -> TownItem:
    contact = {"email": town.contact_email, "phone": town.contact_phone,
               "url": town.contact_url}
    settings = {
        "locales": list(town.locales),
        "branding": dataclasses.asdict(town.branding),
        "calendar": {"hours": {d: list(h) if h else None for d, h in town.calendar.hours.items()},
                     "holidays": [d.isoformat() for d in town.calendar.holidays]},
        "notices": _notice_settings_doc(town.notices),
        "photo_limit": town.photo_limit,
        "web_domain": town.web_domain,
        "open_data": {"grid_m": town.open_data_grid_m,
                      "sensitive_services": list(town.sensitive_services)},
        "alerts": {"alert_sms_per_second": town.alert_sms_per_second,
                   "sms_monthly_cap_usd": town.sms_monthly_cap_usd,
                   "test_self_approval": town.alert_test_self_approval,
                   "test_recipients": list(town.alert_test_recipients)},
        "messaging": {"sms_countries": list(town.sms_countries),
                      "anonymous_messages_per_hour": town.anonymous_messages_per_hour,
                      "sms_number": town.sms_number,
                      "intake_email": town.intake_email},
        "sla": {"ladder": [{"at": at, "notify": who} for at, who in town.sla_ladder],
                "emergency": {"active": town.emergency_active, "services": {
                    code: None if t is None else {"amount": t.amount, "unit": t.unit}
                    for code, t in _emergency_targets(town).items()}}},
    }
    return TownItem(keys.town_pk(town.town_id), keys.TOWN_SK, name=town.name,
                    timezone=town.timezone, locale=town.locale, status=town.status,
                    changeset=town.changeset, contact=json.dumps(contact),
                    key_service=town.key_service, settings=json.dumps(settings))


def _emergency_targets(town: Town) -> dict[str, SlaTarget | None]:
    return cast(dict[str, SlaTarget | None], town.emergency_services)


def platform_town_item(town: Town) -> PlatformTownItem:
    """The town's entry in the platform's list of towns."""
    return PlatformTownItem(keys.PLATFORM_PK, keys.platform_town_sk(town.town_id),
                            town_id=town.town_id, name=town.name)


def _api_key(town_id: str, item: ApiKeyItem) -> ApiKey:
    return ApiKey(town_id=town_id, key_id=item.key_id, name=item.name, revoked=item.revoked,
                  rate_limit_per_minute=int(item.rate_limit), prefix=item.prefix,
                  created_at=keys.parse_sort_time(item.created_at),
                  scopes=frozenset(item.scopes) if item.scopes else DEFAULT_SCOPES)


def _staff(item: StaffItem) -> StaffMember:
    return StaffMember(user_id=item.user_id, town_id=keys.staff_town(item.PK),
                       email=item.email, name=item.name, roles=tuple(item.roles),
                       departments=tuple(item.departments), active=item.active)


# --- the directory --------------------------------------------------------------------------


class DynamoTownDirectory:
    """Towns, their catalogues (services, departments, zones), keys and staff."""

    def get_town(self, town_id: str) -> Town | None:
        item = get_or_none(TownItem, keys.town_pk(town_id), keys.TOWN_SK)
        return _town(item) if item is not None else None

    def list_towns(self) -> list[str]:
        """Every hosted town's id, from the platform's own index partition."""
        with storage_errors():
            return [raw["town_id"]["S"]
                    for raw in query_items(keys.PLATFORM_PK, keys.TOWN_PREFIX)]

    def get_catalogue(self, town_id: str, changeset: str) -> Catalogue:
        with storage_errors():
            return read_catalogue(town_id, changeset)

    def find_api_key(self, town_id: str, secret: str) -> ApiKey | None:
        item = get_or_none(ApiKeyItem, keys.town_pk(town_id),
                           keys.key_hash_sk(keys.key_hash(secret)))
        return _api_key(town_id, item) if item is not None else None

    def create_town(self, town: Town, catalogue: Catalogue) -> None:
        """Write a new town with its starting catalogue; Conflict if the id is taken."""
        with storage_errors():
            try:
                with transaction() as tx:
                    tx.save(town_item(town), condition=TownItem.PK.does_not_exist())
                    tx.save(platform_town_item(town))
            except TransactWriteError as e:
                if CONDITION_FAILED in reasons(e):
                    raise Conflict(f"a town {town.town_id!r} already exists") from e
                raise
            with TownItem.batch_write() as batch:
                for position, s in enumerate(catalogue.services):
                    batch.save(service_item(town.town_id, s, position))
                for d in catalogue.departments:
                    batch.save(department_item(town.town_id, d))
                for z in catalogue.zones:
                    batch.save(zone_item(town.town_id, z))

    def save_town(self, town: Town) -> None:
        """Replace an existing town's settings (name, zone, locales, branding, calendar)."""
        with storage_errors():
            try:
                town_item(town).save(condition=TownItem.PK.exists())
            except PutError as e:
                if condition_failed(e):
                    raise NotFound(f"no town {town.town_id!r}") from e
                raise

    def town_at_domain(self, host: str) -> str | None:
        item = get_or_none(WebDomainItem, keys.web_domain_pk(host), keys.WEB_DOMAIN_SK)
        return item.town_id if item is not None else None

    def map_web_domain(self, town: Town, previous: str | None) -> None:
        """Save ``town`` with its new ``web_domain`` and move the address item with it, in
        one transaction; Conflict if another town has the address."""
        _save_with_pointer(town, WebDomainItem, keys.web_domain_pk, keys.WEB_DOMAIN_SK,
                           town.web_domain, previous, "address")

    def town_at_number(self, number: str) -> str | None:
        item = get_or_none(SmsNumberItem, keys.sms_number_pk(number), keys.SMS_NUMBER_SK)
        return item.town_id if item is not None else None

    def map_sms_number(self, town: Town, previous: str | None) -> None:
        """Save ``town`` with its new ``sms_number`` and move the number's pointer with it,
        in one transaction; Conflict if another town has the number."""
        _save_with_pointer(town, SmsNumberItem, keys.sms_number_pk, keys.SMS_NUMBER_SK,
                           town.sms_number, previous, "number")

    def _catalogue_change(self, town_id: str, changeset: str, put: TableItem | None = None,
                          delete_sk: str | None = None) -> None:
        """A catalogue item written or removed together with the town's new changeset, so
        Open311 clients that cache by changeset see every edit."""
        with storage_errors(), transaction() as tx:
            if put is not None:
                tx.save(put)
            if delete_sk is not None:
                tx.delete(TableItem(keys.town_pk(town_id), delete_sk))
            tx.update(TownItem(keys.town_pk(town_id), keys.TOWN_SK),
                      actions=[TownItem.changeset.set(changeset)],
                      condition=TownItem.PK.exists())

    def save_service(self, town_id: str, service: Service, position: int,
                     changeset: str) -> None:
        self._catalogue_change(town_id, changeset, put=service_item(town_id, service, position))

    def save_department(self, town_id: str, department: Department, changeset: str) -> None:
        self._catalogue_change(town_id, changeset, put=department_item(town_id, department))

    def delete_department(self, town_id: str, code: str, changeset: str) -> None:
        self._catalogue_change(town_id, changeset, delete_sk=keys.department_sk(code))

    def save_routing(self, town_id: str, routing: RoutingRules, changeset: str) -> None:
        self._catalogue_change(town_id, changeset, put=routing_item(town_id, routing))

    def save_zone(self, town_id: str, zone: Zone, changeset: str) -> None:
        self._catalogue_change(town_id, changeset, put=zone_item(town_id, zone))

    def delete_zone(self, town_id: str, code: str, changeset: str) -> None:
        self._catalogue_change(town_id, changeset, delete_sk=keys.zone_sk(code))

    def add_api_key(self, key: ApiKey, secret: str) -> None:
        """The key's record (listed by id) and its lookup by hash, written together."""
        created = keys.sort_time(key.created_at or datetime.now(UTC))
        common: dict[str, Any] = {"key_id": key.key_id, "name": key.name, "created_at": created,
                  "revoked": key.revoked, "rate_limit": key.rate_limit_per_minute,
                  "prefix": key.prefix, "secret_hash": keys.key_hash(secret),
                  "scopes": set(key.scopes) or set(DEFAULT_SCOPES)}
        pk = keys.town_pk(key.town_id)
        with storage_errors(), transaction() as tx:
            tx.save(ApiKeyItem(pk, keys.api_key_sk(key.key_id), **common),
                    condition=ApiKeyItem.PK.does_not_exist())
            tx.save(ApiKeyItem(pk, keys.key_hash_sk(common["secret_hash"]), **common),
                    condition=ApiKeyItem.PK.does_not_exist())

    def list_api_keys(self, town_id: str) -> list[ApiKey]:
        with storage_errors():
            return [_api_key(town_id, ApiKeyItem.from_raw_data(raw))
                    for raw in query_items(keys.town_pk(town_id), keys.API_KEY_PREFIX)]

    def revoke_api_key(self, town_id: str, key_id: str) -> ApiKey:
        pk = keys.town_pk(town_id)
        record = get_or_none(ApiKeyItem, pk, keys.api_key_sk(key_id))
        if record is None:
            raise NotFound(f"no API key {key_id!r}")
        with storage_errors(), transaction() as tx:
            for sk in (keys.api_key_sk(key_id), keys.key_hash_sk(record.secret_hash)):
                tx.update(ApiKeyItem(pk, sk), actions=[ApiKeyItem.revoked.set(True)],
                          condition=ApiKeyItem.PK.exists())
        return dataclasses.replace(_api_key(town_id, record), revoked=True)

    def save_staff(self, member: StaffMember) -> None:
        with storage_errors():
            StaffItem(keys.staff_pk(member.town_id), keys.staff_sk(member.user_id),
                      user_id=member.user_id, email=member.email, name=member.name,
                      roles=list(member.roles), departments=list(member.departments),
                      active=member.active).save()

    def list_staff(self, town_id: str) -> list[StaffMember]:
        with storage_errors():
            return [_staff(StaffItem.from_raw_data(raw))
                    for raw in query_items(keys.town_pk(town_id), keys.STAFF_PREFIX)]

    def get_staff(self, town_id: str | None, user_id: str) -> StaffMember | None:
        item = get_or_none(StaffItem, keys.staff_pk(town_id), keys.staff_sk(user_id))
        return _staff(item) if item is not None else None

    def export(self, town_id: str) -> Iterator[dict[str, Any]]:
        """Everything stored for a town, item by item: its own partition, then every
        request partition (found through the town's requests index, all time)."""
        from boto3.dynamodb.types import TypeDeserializer  # export only: not on cold start

        deserializer = TypeDeserializer()

        def plain(raw: dict[str, Any]) -> dict[str, Any]:
            item = {k: deserializer.deserialize(v) for k, v in raw.items()}
            if str(item.get("SK", "")).startswith(keys.ZONE_PREFIX):
                # Zones are stored compressed; an export carries the GeoJSON itself.
                item["geometry"] = json.loads(zlib.decompress(bytes(item["geometry"])))
            return {k: _jsonable(v) for k, v in item.items()}

        with storage_errors():
            for raw in query_items(keys.town_pk(town_id)):
                if not raw["SK"]["S"].startswith(keys.KEY_HASH_PREFIX):
                    yield plain(raw)
            for request in RequestItem.by_requested.query(keys.town_pk(town_id)):
                for raw in query_items(request.PK):
                    # A token opens the reporter's photos: neither it (older items) nor
                    # its hash leaves in an export.
                    yield {k: v for k, v in plain(raw).items()
                           if k not in ("token", "token_hash")}
            for raw in query_items(keys.audit_pk(town_id)):
                yield plain(raw)


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


def _save_with_pointer(town: Town, pointer: type[WebDomainItem] | type[SmsNumberItem],
                       pk_of: Callable[[str], str], sk: str, value: str | None,
                       previous: str | None, what: str) -> None:
    """Save ``town`` and point ``value`` (its web address, its SMS number) at it, dropping
    the ``previous`` value's pointer, in one transaction: two towns can never hold the
    same value, and a town is never saved pointing at a value another town holds
    (Conflict, as when the town is gone)."""
    with storage_errors():
        try:
            with transaction() as tx:
                if value is not None:
                    tx.save(pointer(pk_of(value), sk, town_id=town.town_id),
                            condition=pointer.PK.does_not_exist()
                            | (pointer.town_id == town.town_id))
                if previous is not None and previous != value:
                    tx.delete(TableItem(pk_of(previous), sk))
                tx.save(town_item(town), condition=TownItem.PK.exists())
        except TransactWriteError as e:
            if CONDITION_FAILED in reasons(e):
                raise Conflict(f"{value} is another town's {what}, or the town is "
                               "gone") from e
            raise
