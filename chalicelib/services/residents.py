"""Residents' contact details: kept private, and erased everywhere when they ask.

A resident asks the town (by phone, e-mail or at the counter) to forget them; a town admin
erases their e-mail, phone, names and device ids from every request they reported. The
requests stay, anonymised, so the town's records and statistics are not lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.errors import InvalidInput, Problem, Throttled, Unauthenticated
from chalicelib.domain.requests import Reporter, ServiceRequest, TimelineEvent
from chalicelib.domain.towns import Town
from chalicelib.services.admin import AdminPorts, record
from chalicelib.services.outreach import (
    OutreachPorts,
    allow_anonymous_send,
    allow_guess,
    email_for,
    phone_for,
)
from chalicelib.services.retries import retry_on_conflict

if TYPE_CHECKING:
    from chalicelib.services.ports import Messenger, RequestStore, ResidentAccess


@dataclass(frozen=True)
class Erasure:
    requests_anonymised: int


def erase_contact(ports: AdminPorts, store: RequestStore, who: Principal,
                  email: str | None, phone: str | None) -> Erasure:
    require(who, Permission.ERASE_RESIDENT_CONTACT, who.town_id)
    town_id = who.town_id or ""
    town = ports.towns.get_town(town_id)
    hashes = _hashes_as_stored(email, phone, town.region if town else "US")
    if not hashes:
        raise InvalidInput.of([Problem("email", "give the resident's e-mail or phone")])
    anonymised = _erase(ports, store, town_id, hashes)
    # The audit entry says how many, never whose: the contact itself is what was erased.
    record(ports, who, town_id, "resident.contact_erased", f"{anonymised} requests")
    return Erasure(anonymised)


def _hashes_as_stored(email: str | None, phone: str | None, region: str) -> list[str]:
    """The contact's hashes: its E.164 phone's, and (until every town has been through
    ``services.migrations``) the phone's digits as typed, which older records used."""
    from chalicelib.domain.followers import contact_hashes as hashed
    from chalicelib.domain.phones import e164

    number = e164(phone, region) if phone and phone.strip() else None
    found = hashed(email.strip() if email else None, number)
    if phone and phone.strip():
        found += [h for h in hashed(None, phone) if h not in found]
    return found


def _erase(ports: AdminPorts, store: RequestStore, town_id: str, hashes: list[str]) -> int:
    """Anonymise every request reported with one of ``hashes``; returns how many changed.

    Every contact the requests carried is forgotten, not only the one asked about: the
    phone left with a report is as much the resident's as the e-mail they named."""
    from chalicelib.domain.followers import contact_hashes as hashed

    def contact_hashes(reporter: Reporter) -> list[str]:
        return hashed(reporter.email, reporter.phone)

    request_ids = sorted({rid for h in hashes for rid in store.requests_of_resident(town_id, h)})
    forgotten: dict[str, list[str]] = {h: list(request_ids) for h in hashes}
    anonymised = 0
    for request_id in request_ids:
        erased = _anonymise(ports, store, town_id, request_id, contact_hashes)
        anonymised += erased is not None
        for h in erased or ():
            forgotten.setdefault(h, []).append(request_id)
    for h, ids in forgotten.items():
        store.forget_resident(town_id, h, sorted(set(ids)))
    _stop_following(store, town_id, set(hashes) | set(forgotten), request_ids)
    return anonymised


def _stop_following(store: RequestStore, town_id: str, hashes: set[str],
                    reported: list[str]) -> None:
    """Their follower entries (as reporter or "me too") go too: they held the contact."""
    followed = {rid for h in hashes for rid in store.requests_followed_by(town_id, h)}
    for request_id in sorted(followed | set(reported)):
        for follower in list(store.followers_of(town_id, request_id)):
            if hashes & set(follower.contact_hashes):
                store.unfollow(town_id, request_id, follower)


def _anonymise(ports: AdminPorts, store: RequestStore, town_id: str, request_id: str,
               contact_hashes: Callable[[Reporter], list[str]]) -> list[str] | None:
    """Clear one request's reporter; returns the contacts it carried, None if none."""
    def attempt(_: int) -> list[str] | None:
        # A concurrent status change wins; read again and retry.
        request = store.get(town_id, request_id, with_timeline=False)
        if request is None or request.reporter.is_empty():
            return None
        carried = contact_hashes(request.reporter)
        request.reporter = Reporter()
        event = TimelineEvent(at=ports.now(), event_id=ports.new_id(), kind="contact_erased",
                              summary="Reporter's contact details erased on request",
                              public=False)
        request.updated_at = event.at
        store.record_change(request, event)
        return carried

    return retry_on_conflict(attempt,
                             gave_up="the request kept changing; try the erasure again")


# --- residents on their own: sign in with a one-time code, follow, erase --------------------

CODE_SECONDS, SESSION_SECONDS, MAX_TRIES, RESEND_SECONDS = 15 * 60, 3600, 5, 60


@dataclass(frozen=True)
class ResidentSession:
    token: str
    expires_in: int


@dataclass(frozen=True)
class SignInPorts:
    access: ResidentAccess
    messenger: Messenger
    outreach: OutreachPorts
    now: Callable[[], datetime]


def _one_contact(town: Town, email: str | None, phone: str | None) -> tuple[str, str | None]:
    """The contact's hash and its E.164 phone (a 400 for a number the town cannot text)."""
    from chalicelib.domain.followers import contact_hashes

    number = phone_for(town, phone)
    hashes = contact_hashes(email_for(email), number)
    if len(hashes) != 1:
        raise InvalidInput.of([Problem("email", "give either your e-mail or your phone")])
    return hashes[0], number


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def send_sign_in_code(ports: SignInPorts, town: Town, email: str | None, phone: str | None,
                      source_ip: str | None) -> None:
    """Send a six-digit code to the resident's e-mail or phone. The answer never says
    whether that contact has requests, so nobody can probe who reported what. One code a
    minute per contact, and every send within the anonymous budgets (services.outreach)."""
    import secrets

    contact, number = _one_contact(town, email, phone)
    code = f"{secrets.randbelow(1_000_000):06d}"
    epoch = int(ports.now().timestamp())
    fresh = ports.access.save_code(town.town_id, contact, _sha(f"{contact}:{code}"),
                                   epoch + CODE_SECONDS,
                                   not_before=epoch + CODE_SECONDS - RESEND_SECONDS)
    if not fresh:
        raise Throttled("a code was sent less than a minute ago", retry_after_seconds=60)
    allow_anonymous_send(ports.outreach, town, email=email_for(email), phone=number,
                         source_ip=source_ip, purpose="sign_in")
    ports.messenger.send(town_id=town.town_id, email=email_for(email) if not number else None,
                         phone=number, subject=f"{town.name} 311 sign-in code",
                         text=f"Your {town.name} 311 code is {code}. It expires in 15 "
                              "minutes.")


def open_session(ports: SignInPorts, town: Town, email: str | None, phone: str | None,
                 code: str, source_ip: str | None) -> ResidentSession:
    """A session for the holder of the code. Every try is counted before it is judged,
    against the code (5), the contact's day and the caller's hour (services.outreach):
    asking for a new code brings no new guesses."""
    import secrets

    contact, _ = _one_contact(town, email, phone)
    allow_guess(ports.outreach, town, contact, source_ip)
    stored = ports.access.take_code(town.town_id, contact, MAX_TRIES)
    epoch = int(ports.now().timestamp())
    if stored is None or stored[1] < epoch or not stored[0]:
        raise Unauthenticated("that code is not valid; ask for a new one")
    code_hash, _, tries = stored
    if not secrets.compare_digest(code_hash, _sha(f"{contact}:{code.strip()}")):
        if tries >= MAX_TRIES:
            ports.access.drop_code(town.town_id, contact)
        raise Unauthenticated("that code is not valid; ask for a new one")
    ports.access.drop_code(town.town_id, contact)
    token = secrets.token_urlsafe(32)
    ports.access.save_session(town.town_id, _sha(token), contact, epoch + SESSION_SECONDS)
    return ResidentSession(token, SESSION_SECONDS)


def _session_contact(access: ResidentAccess, town: Town, token: str | None,
                     now: datetime) -> str:
    found = access.session_contact(town.town_id, _sha(token)) if token else None
    if found is None or found[1] < int(now.timestamp()):
        raise Unauthenticated("sign in again: your session is not valid")
    return found[0]


def own_requests(access: ResidentAccess, store: RequestStore, town: Town, token: str | None,
                 now: datetime) -> list[ServiceRequest]:
    """The requests the signed-in resident reported, newest first."""
    contact = _session_contact(access, town, token, now)
    ids = store.requests_of_resident(town.town_id, contact)
    found = store.get_many(town.town_id, ids[-100:])
    return sorted(found, key=lambda r: r.requested_at, reverse=True)


def erase_own_contact(ports: AdminPorts, access: ResidentAccess, store: RequestStore,
                      town: Town, token: str | None, source_ip: str | None) -> Erasure:
    """The signed-in resident erases their own contact details from all their requests."""
    contact = _session_contact(access, town, token, ports.now())
    anonymised = _erase(ports, store, town.town_id, [contact])
    resident = Principal(subject="resident", town_id=town.town_id, kind="resident",
                         source_ip=source_ip)
    record(ports, resident, town.town_id, "resident.contact_erased", f"{anonymised} requests",
           {"by": "the resident"})
    return Erasure(anonymised)


def signed_in_contact(access: ResidentAccess, town: Town, token: str | None,
                      now: datetime) -> str:
    """The contact hash of the signed-in resident (Unauthenticated if not signed in)."""
    return _session_contact(access, town, token, now)
