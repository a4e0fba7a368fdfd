"""Status updates from a work-order system, in the shape FixMyStreet uses
(``servicerequestupdates``), and the same updates offered back for FixMyStreet to fetch.

An integration posts ``service_request_id``, ``update_id`` (its own id: the same one twice
changes nothing the second time), ``updated_datetime``, ``status`` and ``description``
with the town's API key. Statuses map onto the town's lifecycle; a status the request is
already in only adds the note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain import lifecycle
from chalicelib.domain.errors import (
    AccessDenied,
    AlreadyApplied,
    Conflict,
    InvalidInput,
    Problem,
    RequestNotFound,
)
from chalicelib.domain.queries import RequestQuery
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.domain.towns import SCOPE_UPDATES, ApiKey, Town
from chalicelib.services.notices import announce
from chalicelib.services.routing import RoutingPorts

# FixMyStreet's statuses → (lifecycle action, resolution when closing)
STATUSES: dict[str, tuple[str | None, str | None]] = {
    "OPEN": ("reopen", None),
    "INVESTIGATING": ("accept", None),
    "IN_PROGRESS": ("accept", None),
    "ACTION_SCHEDULED": ("accept", None),
    "FIXED": ("close", "fixed"),
    "CLOSED": ("close", "fixed"),
    "DUPLICATE": ("close", "duplicate"),
    "NOT_COUNCILS_RESPONSIBILITY": ("close", "not_ours"),
    "NO_FURTHER_ACTION": ("close", "no_action_needed"),
    "INTERNAL_REFERRAL": ("close", "referred"),
}


@dataclass(frozen=True)
class InboundUpdate:
    service_request_id: str
    update_id: str
    status: str
    description: str | None
    updated_at: datetime | None


def apply_update(ports: RoutingPorts, town: Town, key: ApiKey, update: InboundUpdate) -> str:
    """Apply one update once; returns the update id (as FixMyStreet expects back). The key
    needs the ``updates`` scope: an update closes requests and writes on the public
    timeline and in residents' messages."""
    if not key.allows(SCOPE_UPDATES):
        raise AccessDenied("this api_key may not post servicerequestupdates")
    if update.status not in STATUSES:
        raise InvalidInput.of([Problem("status", f"must be one of {', '.join(STATUSES)}")])
    action, resolution = STATUSES[update.status]
    once = f"{key.key_id}#{update.update_id}"
    for _ in range(3):
        request = ports.store.get(town.town_id, update.service_request_id, with_timeline=False)
        if request is None:
            raise RequestNotFound(f"no service request {update.service_request_id[:64]!r}")
        event = _change(ports, request, action, resolution, update)
        try:
            ports.store.record_change(request, event, once=once)
            announce(ports.notices, request, event)
            return update.update_id
        except AlreadyApplied:
            return update.update_id
        except Conflict:
            continue
    raise Conflict("the request kept changing; send the update again")


def _change(ports: RoutingPorts, request: ServiceRequest, action: str | None,
            resolution: str | None, update: InboundUpdate) -> TimelineEvent:
    moves = False
    if action is not None:
        target = lifecycle.TRANSITIONS[action][1]
        already = request.lifecycle == target or (
            action == "reopen" and request.lifecycle != lifecycle.CLOSED)
        if not already:
            lifecycle.next_state(request.lifecycle, action)  # a clear Conflict if illegal
            moves = True
    summary = "Update from the work-order system"
    if moves:
        request.lifecycle = target
        request.status = lifecycle.public_status(target)
        summary = {"reopen": "Reopened", "accept": "Work started",
                   "close": f"Closed: {(resolution or 'fixed').replace('_', ' ')}"}[action or ""]
        if action == "close":
            request.resolution = resolution
            request.status_notes = update.description or summary
            request.closed_at = ports.now()
            request.disputed = False
        elif action == "reopen":
            request.resolution = None
    now = ports.now()
    if moves and action:
        from chalicelib.services.service_levels import clock_step

        moved = clock_step(request, action, ports.towns.get_town(request.town_id), now)
        summary = f"{summary}; {moved}" if moved else summary
    event = TimelineEvent(at=now, event_id=ports.new_id(),
                          kind={"reopen": "reopened", "accept": "in_progress",
                                "close": "closed"}.get(action or "", "note") if moves else "note",
                          summary=summary, description=update.description, public=True,
                          actor_role="department")
    request.updated_at = now
    request.timeline.append(event)
    return event


def updates_between(ports: RoutingPorts, town: Town, start: datetime,
                    end: datetime) -> list[dict[str, object]]:
    """Public timeline events in a window, as FixMyStreet's ``request_update`` records."""
    page = ports.store.find(town.town_id, RequestQuery(start=start, end=end, by_updated=True,
                                                       page_size=500))
    updates: list[tuple[datetime, dict[str, object]]] = []
    for request in page.items:
        for note in request.public_notes:
            if start <= note.at <= end:
                updates.append((note.at, {
                    "update_id": note.event_id, "service_request_id": request.request_id,
                    "status": "closed" if note.kind == "closed" else "open",
                    "updated_datetime": note.at,
                    "description": " — ".join(p for p in (note.summary, note.description) if p),
                    "media_url": None}))
    return [update for _, update in sorted(updates, key=lambda u: u[0])]
