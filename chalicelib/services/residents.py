"""Residents' contact details: kept private, and erased everywhere when they ask.

A resident asks the town (by phone, e-mail or at the counter) to forget them; a town admin
erases their e-mail, phone, names and device ids from every request they reported. The
requests stay, anonymised, so the town's records and statistics are not lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.errors import Conflict, InvalidInput, Problem
from chalicelib.domain.requests import Reporter, TimelineEvent
from chalicelib.services.admin import AdminPorts, record
from chalicelib.services.ports import RequestStore


@dataclass(frozen=True)
class Erasure:
    requests_anonymised: int


def erase_contact(ports: AdminPorts, store: RequestStore, who: Principal,
                  email: str | None, phone: str | None) -> Erasure:
    from chalicelib.adapters.dynamodb import contact_hashes

    require(who, Permission.ERASE_RESIDENT_CONTACT, who.town_id)
    town_id = who.town_id or ""
    hashes = contact_hashes(Reporter(email=email, phone=phone))
    if not hashes:
        raise InvalidInput.of([Problem("email", "give the resident's e-mail or phone")])
    request_ids = sorted({rid for h in hashes for rid in store.requests_of_resident(town_id, h)})
    # Every contact the requests carried is forgotten, not only the one asked about: the
    # phone left with a report is as much the resident's as the e-mail they named.
    forgotten: dict[str, list[str]] = {h: list(request_ids) for h in hashes}
    anonymised = 0
    for request_id in request_ids:
        erased = _anonymise(ports, store, town_id, request_id, contact_hashes)
        anonymised += erased is not None
        for h in erased or ():
            forgotten.setdefault(h, []).append(request_id)
    for h, ids in forgotten.items():
        store.forget_resident(town_id, h, sorted(set(ids)))
    # The audit entry says how many, never whose: the contact itself is what was erased.
    record(ports, who, town_id, "resident.contact_erased", f"{anonymised} requests")
    return Erasure(anonymised)


def _anonymise(ports: AdminPorts, store: RequestStore, town_id: str, request_id: str,
               contact_hashes: Callable[[Reporter], list[str]]) -> list[str] | None:
    """Clear one request's reporter; returns the contacts it carried, None if none."""
    for _ in range(3):  # a concurrent status change wins; read again and retry
        request = store.get(town_id, request_id, with_timeline=False)
        if request is None or request.reporter.is_empty():
            return None
        carried = contact_hashes(request.reporter)
        request.reporter = Reporter()
        event = TimelineEvent(at=ports.now(), event_id=ports.new_id(), kind="contact_erased",
                              summary="Reporter's contact details erased on request",
                              public=False)
        request.updated_at = event.at
        try:
            store.record_change(request, event)
            return carried
        except Conflict:
            continue
    raise Conflict("the request kept changing; try the erasure again")
