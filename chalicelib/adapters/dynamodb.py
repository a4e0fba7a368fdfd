"""DynamoDB storage for towns, catalogues, API keys and service requests (pynamodb).

One table holds everything; every partition key starts with the town, so no call can be
written without one. The access patterns, and what serves each (no Scan anywhere):

- a town by jurisdiction_id: GetItem PK=TOWN#t, SK=TOWN
- a town's catalogue (services, departments): Query PK=TOWN#t, SK begins_with CAT#
- an API key by its hash, within its town: GetItem PK=TOWN#t, SK=APIKEY#<sha256>
- a request by id, fields only: GetItem PK=TOWN#t#REQ#id, SK=META
- a request with its whole timeline: Query PK=TOWN#t#REQ#id (META and EVENT#<at>#<id>)
- several requests by id (Open311 id list): BatchGetItem of META items
- a request by its Open311 token: GetItem PK=TOWN#t#TOKEN#<token>, SK=TOKEN
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

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.domain.catalogue import (
    AttributeChoice,
    Catalogue,
    Department,
    Service,
    ServiceQuestion,
)
from chalicelib.domain.errors import Conflict, InvalidInput, Problem, StorageUnavailable
from chalicelib.domain.geo import cell_of
from chalicelib.domain.requests import Place, Reporter, ServiceRequest, TimelineEvent
from chalicelib.domain.towns import ApiKey, Town
from chalicelib.services.ports import RequestPage, RequestQuery

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


class DepartmentItem(_Table):
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute(null=True)


class ApiKeyItem(_Table):
    key_id = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UnicodeAttribute()
    revoked = BooleanAttribute(default=False)


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


class RequestItem(_Table):
    town_id = UnicodeAttribute()
    request_id = UnicodeAttribute()
    token = UnicodeAttribute()
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

    by_requested = ByRequested()
    by_updated = ByUpdated()
    by_place = ByPlace()


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


ITEM_CLASSES: tuple[type[_Table], ...] = (
    _Table, TownItem, ServiceItem, DepartmentItem, ApiKeyItem, RequestItem, EventItem, TokenItem,
)


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


def _query_items(pk: str, sk_prefix: str | None = None) -> Iterator[dict[str, Any]]:
    """Every item of one partition (optionally one kind), as raw DynamoDB maps.

    Items of different kinds share a partition (a request and its timeline), so the raw
    map is read once and handed to the class its sort key names.
    """
    connection = _Table._get_connection()
    condition = _Table.SK.startswith(sk_prefix) if sk_prefix else None
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


# --- towns, catalogues, keys ---------------------------------------------------------


def _town(item: TownItem) -> Town:
    contact = json.loads(item.contact) if item.contact else {}
    return Town(
        town_id=item.PK.removeprefix("TOWN#"), name=item.name, timezone=item.timezone,
        locale=item.locale, status=item.status, changeset=item.changeset,
        contact_email=contact.get("email"), contact_phone=contact.get("phone"),
        contact_url=contact.get("url"), key_service=item.key_service,
    )


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
    )


def _question_doc(q: ServiceQuestion) -> dict[str, Any]:
    return {
        "code": q.code, "datatype": q.datatype, "description": q.description,
        "required": q.required, "variable": q.variable, "order": q.order,
        "datatype_description": q.datatype_description,
        "values": [{"key": v.key, "name": v.name} for v in q.values],
    }


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class DynamoTownDirectory:
    """Towns, their catalogues and their API keys."""

    def get_town(self, town_id: str) -> Town | None:
        try:
            return _town(TownItem.get(town_pk(town_id), "TOWN"))
        except TownItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def get_catalogue(self, town_id: str, changeset: str) -> Catalogue:
        services: list[tuple[float, Service]] = []
        departments: list[Department] = []
        try:
            for raw in _query_items(town_pk(town_id), "CAT#"):
                kind = raw["SK"]["S"].split("#")[1]
                if kind == "SERVICE":
                    service = ServiceItem.from_raw_data(raw)
                    services.append((service.position, _service(service)))
                elif kind == "DEPT":
                    dept = DepartmentItem.from_raw_data(raw)
                    departments.append(Department(dept.code, dept.name, dept.email))
        except PynamoDBException as e:
            raise _storage_error(e) from e
        services.sort(key=lambda pair: pair[0])
        return Catalogue(tuple(s for _, s in services), tuple(departments), changeset)

    def find_api_key(self, town_id: str, secret: str) -> ApiKey | None:
        try:
            item = ApiKeyItem.get(town_pk(town_id), f"APIKEY#{key_hash(secret)}")
        except ApiKeyItem.DoesNotExist:
            return None
        except PynamoDBException as e:
            raise _storage_error(e) from e
        return ApiKey(town_id=town_id, key_id=item.key_id, name=item.name, revoked=item.revoked)

    def save_town(self, town: Town, catalogue: Catalogue, api_keys: Iterable[tuple[str, str, str]],
                  ) -> None:
        """Write a town with its catalogue and keys ``(key_id, name, secret)`` (onboarding)."""
        contact = {"email": town.contact_email, "phone": town.contact_phone,
                   "url": town.contact_url}
        pk = town_pk(town.town_id)
        try:
            with TownItem.batch_write() as batch:
                batch.save(TownItem(pk, "TOWN", name=town.name, timezone=town.timezone,
                                    locale=town.locale, status=town.status,
                                    changeset=town.changeset, contact=json.dumps(contact),
                                    key_service=town.key_service))
                for position, s in enumerate(catalogue.services):
                    batch.save(ServiceItem(  # type: ignore[arg-type]
                        pk, f"CAT#SERVICE#{s.code}", code=s.code, name=s.name,
                        description=s.description, group=s.group, keywords=list(s.keywords),
                        type=s.type, department=s.department, active=s.active,
                        position=position, questions=[_question_doc(q) for q in s.questions]))
                for d in catalogue.departments:
                    batch.save(DepartmentItem(  # type: ignore[arg-type]
                        pk, f"CAT#DEPT#{d.code}", code=d.code, name=d.name, email=d.email))
                for key_id, name, secret in api_keys:
                    batch.save(ApiKeyItem(  # type: ignore[arg-type]
                        pk, f"APIKEY#{key_hash(secret)}", key_id=key_id, name=name,
                        created_at=town.changeset))
        except PynamoDBException as e:
            raise _storage_error(e) from e


# --- service requests ----------------------------------------------------------------


def _place_key(town_id: str, service_code: str, geohash: str) -> str:
    return f"TOWN#{town_id}#SVC#{service_code}#{geohash}"


def _request_item(r: ServiceRequest) -> RequestItem:
    requested, updated = sort_time(r.requested_at), sort_time(r.updated_at)
    reporter = None if r.reporter.is_empty() else json.dumps(
        {k: v for k, v in vars(r.reporter).items() if v})
    item = RequestItem(
        request_pk(r.town_id, r.request_id), "META",
        town_id=r.town_id, request_id=r.request_id, token=r.token,
        service_code=r.service_code, service_name=r.service_name, status=r.status,
        status_notes=r.status_notes, description=r.description,
        agency_responsible=r.agency_responsible, department=r.department,
        service_notice=r.service_notice, requested_at=requested, updated_at=updated,
        expected_at=sort_time(r.expected_at) if r.expected_at else None,
        lat=r.place.lat, long=r.place.long, address=r.place.address,
        address_id=r.place.address_id, zipcode=r.place.zipcode, media_url=r.media_url,
        answers=r.answers, channel=r.channel, reporter=reporter, api_key_id=r.api_key_id,
        parent_request_id=r.parent_request_id, zone=r.zone,
        notes=[_note_doc(e) for e in r.timeline if e.public],
        GSI1PK=town_pk(r.town_id), GSI1SK=f"{requested}#{r.request_id}",
        GSI2PK=town_pk(r.town_id), GSI2SK=f"{updated}#{r.request_id}",
    )
    if r.place.has_point and r.status == "open":
        cell = cell_of(r.place.lat, r.place.long)  # type: ignore[arg-type]
        item.GSI3PK = _place_key(r.town_id, r.service_code, cell)
        item.GSI3SK = f"{requested}#{r.request_id}"
    return item


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
        town_id=item.town_id, request_id=item.request_id, token=item.token,
        service_code=item.service_code, service_name=item.service_name,
        requested_at=parse_sort_time(item.requested_at),
        updated_at=parse_sort_time(item.updated_at),
        place=Place(lat=item.lat, long=item.long, address=item.address,
                    address_id=item.address_id, zipcode=item.zipcode),
        description=item.description, status=item.status, status_notes=item.status_notes,
        agency_responsible=item.agency_responsible, department=item.department,
        service_notice=item.service_notice,
        expected_at=parse_sort_time(item.expected_at) if item.expected_at else None,
        media_url=item.media_url, answers=dict(item.answers or {}), channel=item.channel,
        reporter=reporter, api_key_id=item.api_key_id,
        parent_request_id=item.parent_request_id, zone=item.zone,
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

    def add(self, request: ServiceRequest, first_event: TimelineEvent) -> None:
        """Write a new request, its first timeline event and its token in one transaction."""
        item = _request_item(request)
        try:
            with self._transaction() as tx:
                tx.save(item, condition=RequestItem.PK.does_not_exist())
                tx.save(_event_item(request.town_id, request.request_id, first_event))
                tx.save(TokenItem(f"TOWN#{request.town_id}#TOKEN#{request.token}", "TOKEN",
                                  request_id=request.request_id),
                        condition=TokenItem.PK.does_not_exist())
        except TransactWriteError as e:
            codes = [r.code for r in e.cancellation_reasons if r is not None]
            if "ConditionalCheckFailed" in codes:
                raise Conflict("a request with this id already exists") from e
            raise _storage_error(e) from e
        except PynamoDBException as e:
            raise _storage_error(e) from e

    def record_change(self, request: ServiceRequest, event: TimelineEvent) -> None:
        """Write a changed request with the timeline event that says why, atomically, if
        nobody else changed it since it was read (``request.version``); else Conflict."""
        item = _request_item(request)
        item.version = request.version
        try:
            with self._transaction() as tx:
                tx.save(item)
                tx.save(_event_item(request.town_id, request.request_id, event))
        except TransactWriteError as e:
            codes = [r.code for r in e.cancellation_reasons if r is not None]
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
            for raw in _query_items(pk):
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

    def request_id_for_token(self, town_id: str, token: str) -> str | None:
        try:
            return TokenItem.get(f"TOWN#{town_id}#TOKEN#{token}", "TOKEN").request_id
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
