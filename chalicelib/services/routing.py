"""Sending a stored request to the department that fixes it.

The town's routing rules decide (service and zone, then service, then the service's own
department, then triage); the assignment is a conditional write with a timeline event, so
a redelivered message never assigns twice and a concurrent change is never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain import lifecycle
from chalicelib.domain.catalogue import Catalogue
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.domain.routing import RoutingDecision, RoutingRules, choose_department

if TYPE_CHECKING:
    from chalicelib.services.ports import (
        AssignmentChannels,
        NoticeQueue,
        RequestStore,
        RoutingQueue,
        TownDirectory,
    )

log = logging.getLogger(__name__)

# A request still unassigned this long after it was stored lost its routing message.
RESEND_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class RoutingPorts:
    towns: TownDirectory
    store: RequestStore
    new_id: Callable[[], str]
    now: Callable[[], datetime]
    channels: AssignmentChannels | None = None
    notices: NoticeQueue | None = None


def zones_of(catalogue: Catalogue, lat: float | None, long: float | None) -> list[str]:
    if not catalogue.zones or lat is None or long is None:
        return []
    from chalicelib.domain.zones import zones_containing

    return [z.code for z in zones_containing(catalogue.zones, lat, long)]


def decide(catalogue: Catalogue, service_code: str, lat: float | None,
           long: float | None) -> RoutingDecision:
    """Where a request would go: the router's rule, and the admin's dry run."""
    return choose_department(catalogue.routing or RoutingRules(),
                             catalogue.own_department(service_code), service_code,
                             zones_of(catalogue, lat, long))


def route_request(town_id: str, request_id: str, ports: RoutingPorts) -> str | None:
    """Assign the request to a department; returns its code, or None if there was nothing
    to do (unknown town or request, or already assigned by an earlier delivery)."""
    town = ports.towns.get_town(town_id)
    request = ports.store.get(town_id, request_id, with_timeline=False) if town else None
    if town is None or request is None:
        log.warning("routing message for an unknown request dropped",
                    extra={"town": town_id, "service_request_id": request_id})
        return None
    if request.department is not None:
        # Already assigned (a redelivered message): never assign twice, but deliver again,
        # since the first delivery may be what failed. Receivers dedupe by the event id.
        _redeliver(town_id, request, ports)
        return None
    if request.lifecycle not in (lifecycle.SUBMITTED, lifecycle.REOPENED):
        return None
    catalogue = ports.towns.get_catalogue(town_id, town.changeset)
    if request.needs_confirmation:
        # A draft (an e-mail) waits in triage for a person to confirm its guessed service
        # and place; confirming it routes it by the rules (services.drafts).
        decision = RoutingDecision((catalogue.routing or RoutingRules()).triage,
                                   "needs confirmation: triage")
    else:
        decision = decide(catalogue, request.service_code, request.place.lat,
                          request.place.long)
    department = catalogue.department(decision.department)
    if department is None:
        log.error("routing chose a department the town does not have",
                  extra={"town": town_id, "department": decision.department})
        return None
    event = assign(request, department.code, department.name, "routed",
                   f"Sent to {department.name}", decision.reason, ports)
    if ports.channels is not None:
        ports.channels.deliver(town_id, department, request, event)
    return department.code


def _redeliver(town_id: str, request: ServiceRequest, ports: RoutingPorts) -> None:
    routed = [e for e in request.timeline if e.kind in ("routed", "handed_off", "declined")]
    if ports.channels is None or request.lifecycle != lifecycle.ROUTED or not routed:
        return
    town = ports.towns.get_town(town_id)
    catalogue = ports.towns.get_catalogue(town_id, town.changeset) if town else None
    department = catalogue.department(request.department) if catalogue else None
    if department is not None:
        ports.channels.deliver(town_id, department, request, routed[-1])


def assign(request: ServiceRequest, department: str, agency: str, kind: str, summary: str,
           note: str | None, ports: RoutingPorts, *, public: bool = True,
           actor_role: str = "system") -> TimelineEvent:
    """Give the request to ``department`` (a routing, a hand-off or a decline)."""
    now = ports.now()
    event = TimelineEvent(at=now, event_id=ports.new_id(), kind=kind, summary=summary,
                          description=note, public=public, actor_role=actor_role)
    request.lifecycle = lifecycle.ROUTED
    request.status = lifecycle.public_status(request.lifecycle)
    request.department = department
    request.agency_responsible = agency
    request.updated_at = now
    request.timeline.append(event)
    ports.store.record_change(request, event)
    return event


def resend_unrouted(store: RequestStore, queue: RoutingQueue, now: datetime,
                    limit: int = 500) -> int:
    """Send again the routing message of every request stored more than RESEND_AFTER ago
    and still unassigned (its first send failed, or it is stuck). Reads only those."""
    stuck = store.unrouted_before(now - RESEND_AFTER, limit)
    for town_id, request_id in stuck:
        queue.request_submitted(town_id, request_id)
    if stuck:
        log.warning("routing messages sent again", extra={"count": len(stuck)})
    return len(stuck)
