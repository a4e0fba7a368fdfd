"""What a department's own systems receive when a request is assigned to it.

``RequestAssigned`` is a published contract: the body of every message on a department's
SQS queue and of every webhook POST, byte for byte. Version 1 may gain fields (receivers
ignore what they do not know); removing a field or changing its meaning makes version 2.
``RequestAssigned.model_json_schema()`` is its JSON Schema.

It carries the request as Open311 shows it, never the reporter's contact details: a
work-order system learns what and where, not who.

``WebhookDelivery`` is internal: what the webhook queue carries between the router and the
function that POSTs (the department's URL and secret are read when it sends, not stored
in the message).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    Field,
    PlainSerializer,
)

from chalicelib.domain.catalogue import Department
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.schemas.model import WireModel
from chalicelib.schemas.open311_documents import media_url

SCHEMA_VERSION: Literal[1] = 1


def _whole_utc_seconds(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


def _utc_text(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# ISO 8601 in UTC, whole seconds: "2026-11-20T15:30:00Z" (what is sent is what is held).
UtcTime = Annotated[AwareDatetime, AfterValidator(_whole_utc_seconds),
                    PlainSerializer(_utc_text, return_type=str)]


class _Part(WireModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class AssignedTown(_Part):
    jurisdiction_id: str


class AssignedDepartment(_Part):
    code: str
    name: str


class AssignedServiceRequest(_Part):
    """The request as Open311 ``GET requests/{id}`` shows it (every key present, null when
    empty), times in UTC, with the resident's answers."""

    service_request_id: str
    service_code: str
    service_name: str
    description: str | None
    status: Literal["open", "closed"]
    lat: float | None
    long: float | None
    address: str | None
    address_id: str | None
    requested_datetime: UtcTime
    attributes: dict[str, str | list[str]]
    media_url: str | None
    agency_responsible: str | None


class AssignmentLinks(_Part):
    """Paths on the deployment's base URL."""

    open311: str = Field(description="the request on the town's Open311 base")
    staff: str = Field(description="the request in the staff API, with its whole timeline")


class RequestAssigned(_Part):
    """Version 1: a request was assigned to the department. ``delivery_id`` is the same on
    every delivery of one assignment (delivery is at least once): receivers dedupe by it.

    ``event`` is "test" for a test delivery an admin sent from the console: the same
    document, signed and sent the same way, about no real request (its
    ``service_request_id`` is its ``delivery_id``, starting ``test-``)."""

    model_config = ConfigDict(frozen=True, extra="ignore", title="Town311RequestAssigned")

    schema_version: Literal[1] = SCHEMA_VERSION
    delivery_id: str = Field(min_length=1, max_length=64)
    event: Literal["assigned", "test"] = "assigned"
    town: AssignedTown
    department: AssignedDepartment
    service_request: AssignedServiceRequest
    assigned_at: UtcTime
    links: AssignmentLinks

    @classmethod
    def of(cls, town_id: str, department: Department, request: ServiceRequest,
           event: TimelineEvent, root: str = "") -> RequestAssigned:
        """The message for ``event`` (the routing, hand-off or decline that gave
        ``request`` to ``department``); ``root`` prefixes stored photo paths."""
        place = request.place
        return cls(
            delivery_id=event.event_id,
            town=AssignedTown(jurisdiction_id=town_id),
            department=AssignedDepartment(code=department.code, name=department.name),
            service_request=AssignedServiceRequest(
                service_request_id=request.request_id,
                service_code=request.service_code,
                service_name=request.service_name,
                description=request.description,
                status=request.status,
                lat=place.lat, long=place.long,
                address=place.address, address_id=place.address_id,
                requested_datetime=request.requested_at,
                attributes=dict(request.answers),
                media_url=media_url(request.media_url, root),
                agency_responsible=department.name,
            ),
            assigned_at=event.at,
            links=AssignmentLinks(
                open311=f"/towns/{town_id}/open311/v2/requests/{request.request_id}.json",
                staff=f"/staff/requests/{request.request_id}",
            ),
        )

    @classmethod
    def test(cls, town_id: str, department: Department, delivery_id: str,
             at: datetime) -> RequestAssigned:
        """A test delivery: clearly marked (``event`` "test", a service named "Test
        delivery"), about no request, and carrying nobody's details."""
        return cls(
            delivery_id=delivery_id, event="test",
            town=AssignedTown(jurisdiction_id=town_id),
            department=AssignedDepartment(code=department.code, name=department.name),
            service_request=AssignedServiceRequest(
                service_request_id=delivery_id, service_code="test",
                service_name="Test delivery",
                description="A test delivery sent from the Town311 console: not a request.",
                status="open", lat=None, long=None, address=None, address_id=None,
                requested_datetime=at, attributes={}, media_url=None,
                agency_responsible=department.name),
            assigned_at=at,
            links=AssignmentLinks(
                open311=f"/towns/{town_id}/open311/v2/services.json",
                staff=f"/console/admin/departments/edit/{department.code}"),
        )

    def body(self) -> bytes:
        """The exact bytes queued and POSTed (and signed): compact UTF-8 JSON."""
        return self.model_dump_json().encode("utf-8")


class WebhookDelivery(WireModel):
    """Version 1 of the webhook queue's message: whose webhook, and what to POST."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    version: Literal[1] = 1
    town_id: str = Field(min_length=1, max_length=100)
    department: str = Field(min_length=1, max_length=100)
    assignment: RequestAssigned
