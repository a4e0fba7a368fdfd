"""A service request's items and their mappers: the request (``META``) with its five
indexes, its timeline events, and its lookups by token and by tracking number.

A request's partition is ``PK=TOWN#<town>#REQ#<id>``: ``EVENT#<at>#<id>`` < ``META`` <
``ONCE#…`` < ``SUB#…`` (followers, followers.py), so one Query up to ``META`` reads a
request with its timeline and never its followers. ``by_place``, ``by_department`` and
``by_sla`` are sparse: only open requests carry their keys.
"""

from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.keys import parse_sort_time, sort_time
from chalicelib.adapters.dynamodb.table import TableItem
from chalicelib.domain.geo import cell_of
from chalicelib.domain.requests import (
    IntakeGuess,
    Place,
    Reporter,
    RequestPhoto,
    ServiceRequest,
    TimelineEvent,
)
from chalicelib.domain.sla import SlaTarget


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


class RequestItem(TableItem):
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
    # An e-mail draft waiting for staff to confirm it, and what was guessed (absent on
    # every other request, and on items stored before drafts existed: read as False).
    needs_confirmation = BooleanAttribute(default=False)
    intake_guess = JSONAttribute(null=True)
    GSI5PK = UnicodeAttribute(null=True)
    GSI5SK = UnicodeAttribute(null=True)

    by_requested = ByRequested()
    by_updated = ByUpdated()
    by_place = ByPlace()
    by_department = ByDepartment()
    by_sla = BySla()


class EventItem(TableItem):
    at = UnicodeAttribute()
    event_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    summary = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    public = BooleanAttribute(default=True)
    actor_role = UnicodeAttribute(default="system")
    # What the town's figures need of the request as it was when this happened (its
    # service, department, zone, due time...): the table's stream hands the figures
    # updater this item alone, and the backfill replays it (figures.py). Absent on events
    # stored before figures were kept: those are read with the request as it is now.
    facts = JSONAttribute(null=True)


class TokenItem(TableItem):
    request_id = UnicodeAttribute()


class TrackItem(TableItem):
    request_id = UnicodeAttribute()


class RequestCounters(TableItem):
    """The counters of a request's META item, changed without rewriting the request: a
    follow adds one and moves the version on, so a staff change read before it retries
    on the new count instead of writing the old one back."""

    followers = NumberAttribute(null=True)
    version = NumberAttribute(null=True)
    status = UnicodeAttribute(null=True)


# --- mappers --------------------------------------------------------------------------------


def reporter_doc(reporter: Reporter) -> str:
    """The reporter's stored JSON: only the fields they gave."""
    return json.dumps({k: v for k, v in vars(reporter).items() if v is not None and v != ""})


def request_item(r: ServiceRequest) -> RequestItem:
    requested, updated = sort_time(r.requested_at), sort_time(r.updated_at)
    item = RequestItem(
        keys.request_pk(r.town_id, r.request_id), keys.META_SK,
        town_id=r.town_id, request_id=r.request_id, token_hash=r.token_hash,
        service_code=r.service_code, service_name=r.service_name, status=r.status,
        lifecycle=r.lifecycle, resolution=r.resolution,
        status_notes=r.status_notes, description=r.description,
        agency_responsible=r.agency_responsible, department=r.department,
        service_notice=r.service_notice, requested_at=requested, updated_at=updated,
        expected_at=sort_time(r.expected_at) if r.expected_at else None,
        lat=r.place.lat, long=r.place.long, address=r.place.address,
        address_id=r.place.address_id, zipcode=r.place.zipcode, media_url=r.media_url,
        answers=r.answers, channel=r.channel,
        reporter=None if r.reporter.is_empty() else reporter_doc(r.reporter),
        api_key_id=r.api_key_id, entered_by=r.entered_by,
        parent_request_id=r.parent_request_id, zone=r.zone,
        search_text=" ".join(p for p in (r.service_name, r.description, r.place.address) if p
                             ).lower()[:4500],
        notes=[_note_doc(e) for e in r.timeline if e.public],
        tracking_number=r.tracking_number, followers=r.followers,
        closed_at=sort_time(r.closed_at) if r.closed_at else None, disputed=r.disputed,
        rating=r.rating, rating_comment=r.rating_comment,
        photos=[_photo_doc(p) for p in r.photos],
        sla=_sla_doc(r),
        needs_confirmation=r.needs_confirmation,
        intake_guess=_guess_doc(r.intake_guess),
        GSI1PK=keys.town_pk(r.town_id), GSI1SK=keys.requested_key(r.requested_at, r.request_id),
        GSI2PK=keys.town_pk(r.town_id), GSI2SK=keys.updated_key(r.updated_at, r.request_id),
    )
    if r.status == "open" and r.department is None:
        item.GSI4PK = keys.UNROUTED
        item.GSI4SK = keys.unrouted_key(r.requested_at, r.town_id, r.request_id)
    elif r.status == "open":
        item.GSI4PK = keys.department_key(r.town_id, r.department or "")
        item.GSI4SK = keys.requested_key(r.requested_at, r.request_id)
    if r.status == "open" and r.next_sla_at is not None:
        item.GSI5PK = keys.sla_bucket(r.next_sla_at)
        item.GSI5SK = keys.sla_key(r.next_sla_at, r.town_id, r.request_id)
    if r.place.has_point and r.status == "open":
        cell = cell_of(r.place.lat, r.place.long)  # type: ignore[arg-type]
        item.GSI3PK = keys.place_key(r.town_id, r.service_code, cell)
        item.GSI3SK = keys.requested_key(r.requested_at, r.request_id)
    return item


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


def _guess_doc(g: IntakeGuess | None) -> dict[str, Any] | None:
    if g is None:
        return None
    return {"services": list(g.services), "place_text": g.place_text,
            "place_label": g.place_label, "lat": g.lat, "long": g.long}


def _guess(doc: dict[str, Any] | None) -> IntakeGuess | None:
    if not doc:
        return None
    return IntakeGuess(services=tuple(doc.get("services") or ()),
                       place_text=doc.get("place_text"), place_label=doc.get("place_label"),
                       lat=doc.get("lat"), long=doc.get("long"))


def _photo_doc(p: RequestPhoto) -> dict[str, Any]:
    return {"id": p.photo_id, "display": p.display_key, "thumbnail": p.thumbnail_key,
            "width": p.width, "height": p.height, "at": sort_time(p.added_at),
            "by": p.added_by, "hidden": p.hidden}


def _photo(doc: dict[str, Any]) -> RequestPhoto:
    return RequestPhoto(photo_id=doc["id"], display_key=doc["display"],
                        thumbnail_key=doc["thumbnail"], width=int(doc["width"]),
                        height=int(doc["height"]), added_at=parse_sort_time(doc["at"]),
                        added_by=doc.get("by", "resident"), hidden=bool(doc.get("hidden")))


def _note_doc(e: TimelineEvent) -> dict[str, Any]:
    return {"at": sort_time(e.at), "id": e.event_id, "kind": e.kind, "summary": e.summary,
            "description": e.description, "actor_role": e.actor_role}


def _note(doc: dict[str, Any]) -> TimelineEvent:
    return TimelineEvent(at=parse_sort_time(doc["at"]), event_id=doc["id"], kind=doc["kind"],
                         summary=doc["summary"], description=doc.get("description"),
                         actor_role=doc.get("actor_role", "system"))


def event_item(town_id: str, request_id: str, e: TimelineEvent,
               request: ServiceRequest | None = None) -> EventItem:
    return EventItem(
        keys.request_pk(town_id, request_id), keys.event_sk(e.at, e.event_id),
        at=sort_time(e.at), event_id=e.event_id, kind=e.kind, summary=e.summary,
        description=e.description, public=e.public, actor_role=e.actor_role,
        facts=facts_doc(request) if request is not None else None,
    )


def facts_doc(r: ServiceRequest) -> dict[str, Any]:
    """The request's figures facts (chalicelib.domain.figures.RequestFacts), stored on
    each of its timeline events."""
    return {"service": r.service_code, "department": r.department, "zone": r.zone,
            "channel": r.channel, "requested": sort_time(r.requested_at),
            "expected": sort_time(r.expected_at) if r.expected_at else None,
            "rating": r.rating, "resolution": r.resolution}


def service_request(item: RequestItem, timeline: list[TimelineEvent] | None = None,
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
        needs_confirmation=bool(item.needs_confirmation),
        intake_guess=_guess(item.intake_guess),
        version=int(item.version or 1),
        timeline=timeline if timeline is not None else [_note(n) for n in item.notes or []],
    )


def timeline_event(item: EventItem) -> TimelineEvent:
    return TimelineEvent(
        at=parse_sort_time(item.at), event_id=item.event_id, kind=item.kind,
        summary=item.summary, description=item.description, public=item.public,
        actor_role=item.actor_role,
    )
