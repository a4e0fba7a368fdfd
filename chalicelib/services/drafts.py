"""A member of staff confirms an e-mail draft: its service and place, then the normal
routing rules send it on.

An e-mail becomes a draft in triage with the service and place Town311 guessed
(chalicelib.services.mail_intake). Whoever works triage (its department's workers,
supervisors, administrators: ``require_work`` on the department holding it) checks them:
the confirmation sets the service and the place (a point: the routing rules and the map
need one), clears the flag, restarts the service-level clock if the service changed,
and is one conditional write with its timeline event, audited. The router's rules then
decide the department, as for any new request (``routing.decide``), and the request is
assigned there (a second write, with its own event) and delivered to its channels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.domain.access import Permission, Principal, require, require_work
from chalicelib.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    Problem,
    StorageUnavailable,
)
from chalicelib.domain.requests import Place, ServiceRequest, TimelineEvent
from chalicelib.domain.towns import AuditEntry
from chalicelib.services.retries import retry_on_conflict

if TYPE_CHECKING:
    from chalicelib.domain.catalogue import Catalogue, Service
    from chalicelib.services.ports import AuditLog
    from chalicelib.services.routing import RoutingPorts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DraftPorts:
    routing: RoutingPorts
    audit: AuditLog


@dataclass(frozen=True)
class Confirmation:
    """What the member of staff chose (validated at the edge: coordinates in range)."""

    service_code: str
    lat: float | None
    long: float | None
    address: str | None = None
    # What the public reads as the request's description from now on (the mail with the
    # resident's name, phone and signature taken out); None keeps the mail's words.
    description: str | None = None


def services_to_confirm(catalogue: Catalogue, request: ServiceRequest) -> list[Service]:
    """The services a draft may be confirmed as: the guessed ones first (best first),
    then the others in the catalogue's order."""
    guessed = request.intake_guess.services if request.intake_guess else ()
    first = [s for code in guessed if (s := catalogue.service(code)) is not None]
    if not first and catalogue.service(request.service_code) is not None:
        first = [catalogue.service(request.service_code)]  # type: ignore[list-item]
    return first + [s for s in catalogue.services if s.active and s not in first]


def confirm_draft(ports: DraftPorts, who: Principal, request_id: str,
                  choice: Confirmation) -> ServiceRequest:
    """Confirm the draft ``request_id`` as ``choice`` and route it by the town's rules.

    InvalidInput names every problem (an unknown service, no place); Conflict if it was
    confirmed already (by someone else, meanwhile). The e-mail answered none of the
    service's questions: the answers stay empty (the resident's words are the
    description)."""
    from chalicelib.services.routing import assign, decide, zones_of
    from chalicelib.services.service_levels import start_clock, target_for

    r = ports.routing
    town_id = who.town_id or ""
    require(who, Permission.WORK_REQUESTS, town_id)
    town = r.towns.get_town(town_id)
    if town is None:
        raise NotFound("your town no longer exists")
    catalogue = r.towns.get_catalogue(town_id, town.changeset)
    problems: list[Problem] = []
    service = catalogue.service(choice.service_code)
    if service is None:
        problems.append(Problem("service_code", f"{choice.service_code[:100]!r} is not a "
                                                f"service of {town.name}"))
    if choice.lat is None or choice.long is None:
        problems.append(Problem("place", "choose the place: an address of the town or a "
                                         "point on the map"))
    if problems or service is None or choice.lat is None or choice.long is None:
        raise InvalidInput.of(problems)
    lat, long = choice.lat, choice.long
    address = (choice.address or "").strip() or None
    zones = zones_of(catalogue, lat, long)

    def confirm(_: int) -> ServiceRequest:
        request = r.store.get(town_id, request_id, with_timeline=False)
        if request is None:
            raise NotFound(f"no service request {request_id[:64]!r}")
        require_work(who, request.department, town_id)
        if not request.needs_confirmation:
            raise Conflict("this request's service and place were confirmed already")
        now = r.now()
        if request.service_code != service.code:
            start_clock(request, target_for(service, town, {}), town, request.requested_at)
        request.service_code, request.service_name = service.code, service.name
        request.place = Place(lat=lat, long=long, address=address)
        request.zone = zones[0] if zones else None
        request.needs_confirmation = False
        if choice.description is not None:
            request.description = choice.description.strip() or None
        where = address or f"{lat:.5f}, {long:.5f}"
        event = TimelineEvent(at=now, event_id=r.new_id(), kind="confirmed",
                              summary=f"Confirmed as {service.name} at {where}",
                              actor_role=who.public_role)
        request.updated_at = now
        request.timeline.append(event)
        r.store.record_change(request, event)
        return request

    request = retry_on_conflict(confirm)
    ports.audit.record(AuditEntry(
        town_id=town_id, at=r.now(), entry_id=r.new_id(), actor=who.actor,
        actor_kind=who.kind, action="request.confirmed", target=request.request_id,
        source_ip=who.source_ip,
        details={"service_code": service.code, "lat": lat, "long": long}))
    decision = decide(catalogue, service.code, lat, long)
    department = catalogue.department(decision.department)
    if department is None or department.code == request.department:
        return request

    def route(n: int) -> ServiceRequest:
        current = request if n == 0 else r.store.get(town_id, request.request_id,
                                                     with_timeline=False)
        if current is None or current.department == department.code:
            return current or request
        event = assign(current, department.code, department.name, "routed",
                       f"Sent to {department.name}", decision.reason, r,
                       actor_role=who.public_role)
        if r.channels is not None:
            try:
                r.channels.deliver(town_id, department, current, event)
            except StorageUnavailable:
                # Stored and in the department's inbox; only its own channel's copy is
                # missing, which must not turn the confirmation into an error.
                log.error("confirmed draft routed but not delivered to the department's "
                          "channels", extra={"town": town_id,
                                             "service_request_id": current.request_id})
        return current

    return retry_on_conflict(route)


def open_draft(ports: DraftPorts, who: Principal, request_id: str) -> ServiceRequest:
    """The draft to confirm, for whoever may confirm it (``require_work`` on its
    department); NotFound for a request that needs no confirmation."""
    r = ports.routing
    town_id = who.town_id or ""
    require(who, Permission.WORK_REQUESTS, town_id)
    request = r.store.get(town_id, request_id[:64], with_timeline=False) if town_id else None
    if request is None:
        raise NotFound(f"no service request {request_id[:64]!r}")
    require_work(who, request.department, town_id)
    if not request.needs_confirmation:
        raise NotFound(f"service request {request_id[:64]!r} needs no confirmation")
    return request
