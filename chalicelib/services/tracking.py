"""A request as residents follow it: look it up by tracking number, say "me too", dispute
a closure that did not fix anything, rate the work; and staff merging duplicates.

Every change here is one conditional write with its timeline event, then its messages go
on the notices queue (never sent inside the call).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain import lifecycle
from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.errors import (
    AccessDenied,
    Conflict,
    InvalidInput,
    NotFound,
    Problem,
    StorageUnavailable,
)
from chalicelib.domain.followers import (
    FOLLOWER,
    REPORTER,
    Follower,
    contact_hashes,
    tracking_key,
)
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.domain.towns import Town
from chalicelib.services.notices import NoticePorts, announce
from chalicelib.services.outreach import OutreachPorts
from chalicelib.services.retries import retry_on_conflict
from chalicelib.services.service_levels import clock_step

if TYPE_CHECKING:
    from chalicelib.services.ports import (
        AssignmentChannels,
        NoticeQueue,
        PhotoInbox,
        RequestStore,
        TownDirectory,
    )

log = logging.getLogger(__name__)
TRIES = 3


@dataclass(frozen=True)
class TrackingPorts:
    store: RequestStore
    towns: TownDirectory
    new_id: Callable[[], str]
    now: Callable[[], datetime]
    notices: NoticeQueue | None = None
    channels: AssignmentChannels | None = None
    photos: PhotoInbox | None = None
    outreach: OutreachPorts | None = None  # budgets of what anonymous callers may send
    messages: NoticePorts | None = None  # confirm links to a follower's addresses


def find_by_number(store: RequestStore, town: Town, number: str) -> ServiceRequest:
    """The request with this tracking number (as a person typed it), with its timeline."""
    key = tracking_key(number or "")
    if key is None:
        raise InvalidInput.of([Problem(
            "tracking_number", "is not a tracking number (8 letters and digits, e.g. "
                               "K7QD-3M2P)")])
    request_id = store.request_id_for_tracking(town.town_id, key)
    found = store.get(town.town_id, request_id, with_timeline=True) if request_id else None
    if found is None:
        raise NotFound(f"no request with tracking number {number[:20]!r} in {town.name}")
    return found


def find(store: RequestStore, town: Town, reference: str) -> ServiceRequest:
    """A request by its id or its tracking number, with its timeline."""
    found = store.get(town.town_id, reference[:64], with_timeline=True) \
        if len(reference) > 12 else None
    return found or find_by_number(store, town, reference)


def dispute_until(request: ServiceRequest, town: Town) -> datetime | None:
    """The last moment a closure may be disputed (None while the request is open)."""
    if request.lifecycle != lifecycle.CLOSED:
        return None
    closed_at = request.closed_at or request.updated_at
    return closed_at + timedelta(days=town.notices.dispute_window_days)


def dispute_refusal(request: ServiceRequest, role: str | None, town: Town,
                    now: datetime) -> str | None:
    """Why a resident (``role``: REPORTER, FOLLOWER, or None for anyone else) may not
    dispute this closure now, as a code; None when they may. ``dispute`` enforces it and
    the track page shows the form by it, so the two cannot disagree."""
    if role is None:
        return "not_following"
    return closure_refusal(request, town, now)


def closure_refusal(request: ServiceRequest, town: Town, now: datetime) -> str | None:
    """What in the request itself stops a dispute now: ``not_closed``, ``duplicate``
    (follow the request it repeats instead) or ``too_late`` (past the town's window)."""
    until = dispute_until(request, town)
    if until is None:
        return "not_closed"
    if request.resolution == "duplicate" and request.parent_request_id:
        return "duplicate"
    if now > until:
        return "too_late"
    return None


def rating_refusal(request: ServiceRequest, role: str | None) -> str | None:
    """Why a resident may not rate this request: ``not_reporter``, ``not_closed`` or
    ``rated_already``; None when they may (the reporter, once, after closure)."""
    if role != REPORTER:
        return "not_reporter"
    if request.status != "closed":
        return "not_closed"
    if request.rating is not None:
        return "rated_already"
    return None


@dataclass(frozen=True)
class Tracked:
    """A request as its track page shows it to one visitor: what they may do with it,
    by the same rules ``dispute`` and ``rate`` enforce (a page never decides them)."""

    request: ServiceRequest
    role: str | None  # the signed-in resident's: REPORTER, FOLLOWER, or None
    signed_in: bool
    dispute_refused: str | None  # dispute_refusal's code (``sign_in``: anyone may, once)
    rating_refused: str | None
    dispute_until: datetime | None


def track(ports: TrackingPorts, town: Town, number: str,
          contact_hash: str | None) -> Tracked:
    """The request with this tracking number, and what the visitor (the signed-in
    resident's contact hash, or None) may do with it."""
    request = find_by_number(ports.store, town, number)
    now = ports.now()
    if contact_hash is None:
        refused = closure_refusal(request, town, now)
        return Tracked(request, None, False, refused or "sign_in",
                       "not_closed" if request.status != "closed" else "sign_in",
                       dispute_until(request, town))
    role = ports.store.is_reporter_or_follower(town.town_id, request.request_id,
                                               contact_hash)
    return Tracked(request, role, True, dispute_refusal(request, role, town, now),
                   rating_refusal(request, role), dispute_until(request, town))


@dataclass(frozen=True)
class Following:
    followers: int
    new: bool


def follow(ports: TrackingPorts, town: Town, reference: str, email: str | None,
           phone: str | None, language: str | None, *, signed_in: str | None = None,
           source_ip: str | None = None) -> Following:
    """"Me too": follow an open request with an e-mail and/or phone (kept private).

    An address is only ever messaged once it is proved: the signed-in resident's own
    contact (``signed_in``, its hash) is proved already; any other gets one message with
    a confirm link, within the anonymous budgets (services.outreach)."""
    if not (email or phone):
        raise InvalidInput.of([Problem("email", "give an e-mail or a phone to be told "
                                                "when it moves")])
    from chalicelib.services.outreach import allow_anonymous_send, email_for, phone_for

    number, email = phone_for(town, phone), email_for(email)
    request = find(ports.store, town, reference)
    if request.status != "open":
        raise Conflict("this request is closed; report it again if the problem is back")
    proved = tuple(c for c, v in (("email", email), ("sms", number))
                   if v and signed_in is not None and contact_hashes(
                       v if c == "email" else None, v if c == "sms" else None) == [signed_in])
    follower = Follower.make(FOLLOWER, ports.now(), email, number, language, proved)
    unproved = [c for c in follower.channels if c not in proved]
    if unproved and ports.outreach is not None:
        allow_anonymous_send(ports.outreach, town, email=email if "email" in unproved else None,
                             phone=number if "sms" in unproved else None,
                             source_ip=source_ip, purpose="follow")
    new = ports.store.follow(town.town_id, request.request_id, follower)
    if unproved and ports.messages is not None:
        stored = follower if new else ports.store.get_follower(
            town.town_id, request.request_id, follower.follower_id)
        if stored is not None:
            from chalicelib.services.notices import ask_to_confirm

            ask_to_confirm(ports.messages, town, request, stored)
    current = ports.store.get(town.town_id, request.request_id, with_timeline=False)
    return Following(current.followers if current else request.followers, new)


def dispute(ports: TrackingPorts, town: Town, reference: str, contact_hash: str,
            note: str, photo: tuple[bytes, str] | None = None) -> ServiceRequest:
    """"It is not fixed": the reporter or a follower reopens a closure within the town's
    window; it goes back to the same department, flagged, and its supervisors are told."""
    if not note or not note.strip():
        raise InvalidInput.of([Problem("note", "say what is still wrong")])
    def attempt(n: int) -> ServiceRequest:
        request = find(ports.store, town, reference)
        role = ports.store.is_reporter_or_follower(town.town_id, request.request_id,
                                                   contact_hash)
        refused = dispute_refusal(request, role, town, ports.now())
        if refused == "not_following":
            raise AccessDenied("only the reporter or a follower of this request can "
                               "dispute its closure")
        if refused == "not_closed":
            raise Conflict("this request is not closed")
        if refused == "duplicate":
            raise Conflict("this report was closed as a duplicate: follow the request it "
                           "repeats instead")
        if refused == "too_late":
            raise Conflict(f"a closure can be disputed for "
                           f"{town.notices.dispute_window_days} days; this one was closed "
                           "earlier: please report it again")
        target = lifecycle.next_state(request.lifecycle, "reopen")
        media_key = None
        if photo is not None and ports.photos is not None and n == 0:
            from chalicelib.services.intake import Photo, _check_photo

            _check_photo(Photo(photo[0], photo[1]))
            media_key = ports.photos.receive_upload(town.town_id, request.request_id,
                                                    ports.new_id(), photo[0], photo[1])
        now = ports.now()
        request.lifecycle = target
        moved = clock_step(request, "dispute", town, now)
        event = TimelineEvent(
            at=now, event_id=ports.new_id(), kind="disputed",
            summary="Reopened: a resident says it is not fixed"
            + (" (with a photo)" if media_key else "") + (f"; {moved}" if moved else ""),
            description=note.strip(), public=True, actor_role="resident")
        request.lifecycle, request.status = target, lifecycle.public_status(target)
        request.resolution, request.disputed = None, True
        request.status_notes, request.updated_at = note.strip(), now
        request.timeline.append(event)
        ports.store.record_change(request, event,
                                  tally={f"disputes#{request.department or 'none'}": 1})
        announce(ports.notices, request, event)
        announce(ports.notices, request, event, kind="dispute_alert")
        _back_to_department(ports, town, request, event)
        return request

    return retry_on_conflict(attempt, tries=TRIES)


def _back_to_department(ports: TrackingPorts, town: Town, request: ServiceRequest,
                        event: TimelineEvent) -> None:
    """The department's own queue or webhook hears about the dispute as it heard about the
    assignment; its console inbox has it already (the request is open again)."""
    if ports.channels is None or not request.department:
        return
    department = ports.towns.get_catalogue(town.town_id, town.changeset).department(
        request.department)
    if department is None:
        return
    try:
        ports.channels.deliver(town.town_id, department, request, event)
    except StorageUnavailable:
        log.error("dispute stored but not delivered to the department's channels",
                  extra={"town": town.town_id, "service_request_id": request.request_id})


def rate(ports: TrackingPorts, town: Town, reference: str, contact_hash: str, score: int,
         comment: str | None) -> ServiceRequest:
    """The reporter rates a closed request, once: 1 (poor) to 5 (excellent)."""

    def attempt(_: int) -> ServiceRequest:
        request = find(ports.store, town, reference)
        refused = rating_refusal(request, ports.store.is_reporter_or_follower(
            town.town_id, request.request_id, contact_hash))
        if refused == "not_reporter":
            raise AccessDenied("only the resident who reported it can rate it")
        if refused == "not_closed":
            raise Conflict("a request can be rated once it is closed")
        if refused == "rated_already":
            raise Conflict("you rated this request already")
        now = ports.now()
        event = TimelineEvent(at=now, event_id=ports.new_id(), kind="rated",
                              summary=f"Rated {score} of 5 by the reporter",
                              description=comment, public=False, actor_role="resident")
        request.rating, request.rating_comment = score, comment
        request.timeline.append(event)
        department = request.department or "none"
        ports.store.record_change(request, event, tally={
            f"ratings#{department}#count": 1, f"ratings#{department}#points": score})
        return request

    return retry_on_conflict(attempt, tries=TRIES)


@dataclass(frozen=True)
class Merge:
    duplicate: ServiceRequest
    parent: ServiceRequest
    followers_moved: int


def merge(ports: TrackingPorts, who: Principal, duplicate_id: str, parent_id: str,
          note: str | None) -> Merge:
    """Close ``duplicate_id`` as a duplicate of ``parent_id``: its reporter and followers
    follow the parent from now on, and both timelines say so. Safe to repeat."""
    require(who, Permission.MERGE_REQUESTS, who.town_id)
    town_id = who.town_id or ""
    if duplicate_id == parent_id:
        raise InvalidInput.of([Problem("into", "a request cannot be merged into itself")])
    duplicate = ports.store.get(town_id, duplicate_id[:64], with_timeline=False)
    parent = ports.store.get(town_id, parent_id[:64], with_timeline=False)
    if duplicate is None:
        raise NotFound(f"no service request {duplicate_id[:64]!r}")
    if parent is None:
        raise InvalidInput.of([Problem("into", f"no service request {parent_id[:64]!r}")])
    if parent.parent_request_id == duplicate.request_id:
        raise InvalidInput.of([Problem("into", "that request was merged into this one")])
    already = duplicate.resolution == "duplicate" \
        and duplicate.parent_request_id == parent.request_id
    if parent.status != "open" and not already:
        raise Conflict("merge into an open request: the one given is closed")
    if duplicate.status != "open" and not already:
        raise Conflict("this request is closed already")
    moved = 0
    for person in list(ports.store.followers_of(town_id, duplicate.request_id)):
        # The duplicate's reporter becomes a follower of the parent (counted, as a "me too").
        if ports.store.follow(town_id, parent.request_id, replace(person, role=FOLLOWER)):
            moved += 1
    parent_number = parent.tracking_number or parent.request_id
    if not already:
        duplicate = _close_as_duplicate(ports, who, town_id, duplicate.request_id, parent,
                                        parent_number, note)
        parent = _note_merge(ports, who, town_id, parent.request_id, duplicate)
    return Merge(duplicate, parent, moved)


def _close_as_duplicate(ports: TrackingPorts, who: Principal, town_id: str, request_id: str,
                        parent: ServiceRequest, parent_number: str,
                        note: str | None) -> ServiceRequest:
    def attempt(_: int) -> ServiceRequest:
        request = ports.store.get(town_id, request_id, with_timeline=False)
        if request is None:
            raise NotFound(f"no service request {request_id!r}")
        target = lifecycle.next_state(request.lifecycle, "close")
        now = ports.now()
        event = TimelineEvent(at=now, event_id=ports.new_id(), kind="closed",
                              summary=f"Closed: duplicate of {parent_number}",
                              description=note, public=True, actor_role=who.public_role)
        request.lifecycle, request.status = target, lifecycle.public_status(target)
        request.resolution, request.parent_request_id = "duplicate", parent.request_id
        request.next_sla_at = None  # closed: out of the SLA sweep
        request.status_notes = f"Duplicate of {parent_number}"
        request.closed_at = request.updated_at = now
        request.timeline.append(event)
        ports.store.record_change(request, event)
        announce(ports.notices, request, event)
        return request

    return retry_on_conflict(attempt, tries=TRIES)


def _note_merge(ports: TrackingPorts, who: Principal, town_id: str, parent_id: str,
                duplicate: ServiceRequest) -> ServiceRequest:
    number = duplicate.tracking_number or duplicate.request_id

    def attempt(_: int) -> ServiceRequest:
        parent = ports.store.get(town_id, parent_id, with_timeline=False)
        if parent is None:
            raise NotFound(f"no service request {parent_id!r}")
        now = ports.now()
        event = TimelineEvent(at=now, event_id=ports.new_id(), kind="merged",
                              summary=f"Report {number} merged into this one",
                              public=True, actor_role=who.public_role)
        parent.updated_at = now
        parent.timeline.append(event)
        ports.store.record_change(parent, event)
        return parent

    return retry_on_conflict(attempt, tries=TRIES)


@dataclass(frozen=True)
class DepartmentFeedback:
    department: str
    disputes: int
    ratings: int
    average_rating: float | None


def feedback_by_department(store: RequestStore, who: Principal) -> list[DepartmentFeedback]:
    """Disputed closures and residents' ratings per department, for reporting."""
    require(who, Permission.READ_REQUESTS, who.town_id)
    town_id = who.town_id or ""
    disputes = store.tallies(town_id, "disputes#")
    ratings = store.tallies(town_id, "ratings#")
    departments = {k.split("#")[1] for k in [*disputes, *ratings]}
    found = []
    for d in sorted(departments):
        count = ratings.get(f"ratings#{d}#count", 0)
        points = ratings.get(f"ratings#{d}#points", 0)
        found.append(DepartmentFeedback(d, disputes.get(f"disputes#{d}", 0), count,
                                        round(points / count, 2) if count else None))
    return found
