"""Open311 GeoReport v2 documents: what the API answers, built from the domain.

Kept apart from the request models of ``chalicelib.schemas.open311`` (pydantic), so that a
GET, which validates nothing but its path, renders without loading pydantic: the first GET
of a cold container is the one a resident waits for longest.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from chalicelib.domain.catalogue import Catalogue, Service, parse_datetime
from chalicelib.domain.requests import ServiceRequest
from chalicelib.domain.towns import Town

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ("application/json", "text/xml")


def update_document(update: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    return {**update, "updated_datetime": open311_time(update["updated_datetime"], zone)}


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
                     root: str = "", staff: bool = False) -> dict[str, Any]:
    """A request as Open311 shows it (``extensions``: with Town311's extended attributes).
    An e-mail draft's description is the resident's whole mail (their name, phone and
    signature may be in it): only staff (``staff``) see it until a member of staff has
    confirmed the draft and chosen what the public reads."""
    doc: dict[str, Any] = {
        "service_request_id": r.request_id,
        "status": r.status,
        "status_notes": r.status_notes,
        "service_name": r.service_name,
        "service_code": r.service_code,
        "description": r.description if staff or not r.needs_confirmation else None,
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
            # An e-mail draft: its service and place are Town311's guess until staff
            # confirm them (a draft whose mail named no place has no point at all).
            "needs_confirmation": r.needs_confirmation,
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
