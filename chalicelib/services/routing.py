"""Sending a stored request to the department that fixes it.

The foundation rule: the service's department from the town's catalogue, or the town's
triage department when the service names none. Redelivered messages do not assign twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.requests import TimelineEvent
from chalicelib.services.ports import RequestStore, TownDirectory

log = logging.getLogger(__name__)
TRIAGE = "triage"


@dataclass(frozen=True)
class RoutingPorts:
    towns: TownDirectory
    store: RequestStore
    new_id: Callable[[], str]
    now: Callable[[], datetime]


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
        return None
    catalogue = ports.towns.get_catalogue(town_id, town.changeset)
    service = catalogue.by_code.get(request.service_code)
    department = catalogue.department(service.department if service else None) \
        or catalogue.department(TRIAGE)
    if department is None:
        log.error("town has no department for this service and no triage department",
                  extra={"town": town_id, "service_code": request.service_code})
        return None
    now = ports.now()
    event = TimelineEvent(at=now, event_id=ports.new_id(), kind="routed",
                          summary=f"Sent to {department.name}", actor_role="system")
    request.department = department.code
    request.agency_responsible = department.name
    request.updated_at = now
    request.timeline.append(event)
    ports.store.record_change(request, event)
    return department.code
