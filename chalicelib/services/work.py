"""A department works its requests: acknowledge, accept, hold, note, decline, hand off,
close with a resolution, reopen.

Each action is one conditional write (on the request's version) with its timeline event.
If someone else changed the request meanwhile, the action is tried again on what they
wrote (and refused if it no longer makes sense), so two departments acting at once never
lose an update.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chalicelib.domain import lifecycle
from chalicelib.domain.access import Principal, require_work
from chalicelib.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    Problem,
    StorageUnavailable,
)
from chalicelib.domain.queries import RequestPage
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.domain.routing import RoutingRules
from chalicelib.services.notices import announce
from chalicelib.services.routing import RoutingPorts, assign
from chalicelib.services.service_levels import clock_step

log = logging.getLogger(__name__)
TRIES = 3


@dataclass(frozen=True)
class Action:
    """What a department asked for, already validated at the edge."""

    name: str  # acknowledge, accept, hold, decline, note, hand_off, close, reopen
    note: str | None = None
    public: bool = True
    department: str | None = None  # hand_off: where to
    resolution: str | None = None  # close: why


def department_queue(ports: RoutingPorts, who: Principal, department: str, state: str | None,
                     page_size: int, after: str | None) -> RequestPage:
    """The department's open work, oldest first (the console inbox)."""
    require_work(who, department, who.town_id)
    if state is not None and state not in lifecycle.OPEN_STATES:
        raise InvalidInput.of([Problem("status", f"must be one of "
                                                 f"{', '.join(sorted(lifecycle.OPEN_STATES))}")])
    return ports.store.department_work(who.town_id or "", department, state,
                                       min(max(page_size, 1), 200), after)


def act(ports: RoutingPorts, who: Principal, department: str, request_id: str,
        action: Action) -> ServiceRequest:
    require_work(who, department, who.town_id)
    town_id = who.town_id or ""
    for attempt in range(TRIES):
        request = ports.store.get(town_id, request_id, with_timeline=False)
        if request is None or request.department != department:
            raise NotFound(f"no service request {request_id[:64]!r} in {department}")
        try:
            _apply(ports, who, request, action)
            return request
        except Conflict:
            if attempt == TRIES - 1:
                raise
    raise Conflict("the request kept changing; try again")  # pragma: no cover


def _apply(ports: RoutingPorts, who: Principal, request: ServiceRequest, action: Action) -> None:
    role = who.public_role
    if action.name in ("hand_off", "decline"):
        _reassign(ports, who, request, action)
        return
    if action.name == "note":
        _record(ports, request, "note", "Note added" if action.public else "Internal note",
                action.note, action.public, role)
        return
    target = lifecycle.next_state(request.lifecycle, action.name)
    summary = {
        "acknowledge": f"Acknowledged by {request.agency_responsible}",
        "accept": "Work started",
        "hold": "On hold",
        "close": f"Closed: {(action.resolution or 'fixed').replace('_', ' ')}",
        "reopen": "Reopened",
    }[action.name]
    request.lifecycle = target
    request.status = lifecycle.public_status(target)
    if action.name == "close":
        request.resolution = action.resolution
        request.status_notes = action.note or summary
        request.closed_at = ports.now()
        request.disputed = False
    elif action.name == "reopen":
        request.resolution = None
        request.status_notes = action.note
    kind = {"acknowledge": "acknowledged", "accept": "in_progress", "hold": "on_hold",
            "close": "closed", "reopen": "reopened"}[action.name]
    moved = clock_step(request, action.name, ports.towns.get_town(request.town_id),
                       ports.now())
    if moved:
        summary = f"{summary}; {moved}"
    _record(ports, request, kind, summary, action.note, True, role)


def _reassign(ports: RoutingPorts, who: Principal, request: ServiceRequest,
              action: Action) -> None:
    town = ports.towns.get_town(request.town_id)
    if town is None:
        raise NotFound("your town no longer exists")
    catalogue = ports.towns.get_catalogue(town.town_id, town.changeset)
    lifecycle.next_state(request.lifecycle, action.name)
    if action.name == "decline":
        target = (catalogue.routing or RoutingRules()).triage
        kind, summary = "declined", f"Declined by {request.agency_responsible}"
    else:
        target = action.department or ""
        kind = "handed_off"
        summary = f"Handed off from {request.agency_responsible}"
    destination = catalogue.department(target)
    if destination is None:
        raise InvalidInput.of([Problem("department", f"no department {target!r}")])
    if destination.code == request.department:
        raise InvalidInput.of([Problem("department", "is already the request's department")])
    event = assign(request, destination.code, destination.name, kind,
                   f"{summary} to {destination.name}", action.note, ports,
                   actor_role=who.public_role)
    if ports.channels is not None:
        try:
            ports.channels.deliver(request.town_id, destination, request, event)
        except StorageUnavailable:
            # The hand-off is stored and shows in the department's inbox; only the copy to
            # its own channels is missing, which must not turn the hand-off into an error.
            log.error("hand-off stored but not delivered to the department's channels",
                      extra={"town": request.town_id, "service_request_id": request.request_id})


def _record(ports: RoutingPorts, request: ServiceRequest, kind: str, summary: str,
            note: str | None, public: bool, role: str) -> None:
    now = ports.now()
    event = TimelineEvent(at=now, event_id=ports.new_id(), kind=kind, summary=summary,
                          description=note, public=public, actor_role=role)
    request.updated_at = now
    request.timeline.append(event)
    ports.store.record_change(request, event)
    announce(ports.notices, request, event)
