"""An agent entering a request for a resident, on one console screen.

The resident is on the phone or at the counter, so everything is on one form: the
channel, the service's questions, the place (typed, then picked from the gazetteer's
suggestions without any script, as on the resident's report flow), the resident's
contact. The form is checked by the same ``intake.read_submission`` the Open311 POST
uses, its problems worded per field by ``web_reports.error_of``; the request is made by
``staff.enter_request``, the very service of POST /staff/requests, which checks the
permission and records the channel and the agent.

Before the request is made, the open requests of the same service near the place
(``duplicates.possible_duplicates``, the resident report's check) are shown once per
place: the agent may add the caller as a follower of one of them instead
(``tracking.follow``, the resident's "me too"), or enter the request anyway. The form
carries an idempotency key drawn when it is first shown, so a double click (or a reload
of the post) files one request.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import ConfigDict, Field

from chalicelib.domain.access import Permission, require
from chalicelib.domain.errors import Conflict, InvalidInput, Problem, RetryLater
from chalicelib.services.web_reports import (
    NOT_LISTED,
    SUGGESTIONS_SHOWN,
    FieldError,
    ReportDraft,
    ServiceChoice,
    error_of,
)

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
    from chalicelib.domain.catalogue import Service
    from chalicelib.domain.duplicates import DuplicateCheck
    from chalicelib.domain.gazetteer import GazetteerEntry
    from chalicelib.domain.requests import ServiceRequest
    from chalicelib.domain.towns import Town
    from chalicelib.services.gazetteer import Geocoder
    from chalicelib.services.intake import IntakePorts, Receipt
    from chalicelib.services.knowledge import KnowledgePorts
    from chalicelib.services.ports import (
        IdempotencyGuard,
        NearbyRequests,
        RequestStore,
        TownDirectory,
    )
    from chalicelib.services.tracking import TrackingPorts

# What POST /staff/requests accepts, in the order the form offers them.
CHANNELS = ("phone", "counter", "walk_in", "email", "field", "social")
NAME_LIMIT = 100


class EntryDraft(ReportDraft):
    """The entry form as posted: the report's fields, plus how the resident reached the
    town and their name (raw text; every value is checked when it is sent)."""

    model_config = ConfigDict(extra="ignore")

    channel: Annotated[str, Field(max_length=40)] = ""
    first_name: Annotated[str, Field(max_length=1000)] = ""
    last_name: Annotated[str, Field(max_length=1000)] = ""
    place: Annotated[str, Field(max_length=1100)] = ""  # the suggestion picked, if any
    # The point whose nearby requests the agent was shown ("lat,long"): shown once per
    # place, so "enter the request" after seeing them enters it.
    checked_near: Annotated[str, Field(max_length=100)] = ""


@dataclass(frozen=True)
class EntryPorts:
    towns: TownDirectory
    geocoder: Geocoder
    intake: IntakePorts
    nearby: NearbyRequests
    idempotency: IdempotencyGuard
    tracking: TrackingPorts
    now: Callable[[], datetime]
    sleep: Callable[[float], None] = time.sleep

    def new_key(self) -> str:
        return new_entry_key(self.now())


@dataclass(frozen=True)
class Followed:
    """The caller added as a follower of an open request instead of a new one."""

    request_id: str
    tracking_number: str | None


@dataclass
class EntryForm:
    """The form to show (again): the service, what was typed, what is wrong, and the
    places to pick from when the typed one was looked up."""

    service: Service
    draft: EntryDraft
    errors: list[FieldError] = field(default_factory=list)
    suggestions: list[GazetteerEntry] | None = None  # None: not looked up
    duplicates: DuplicateCheck | None = None  # open requests nearby, shown before entering


def _own_town(towns: TownDirectory, who: Principal) -> Town:
    from chalicelib.services.directory import find_town

    require(who, Permission.ENTER_REQUESTS, who.town_id)
    return find_town(towns, who.town_id or "")


def services_to_enter(towns: TownDirectory, who: Principal,
                      translate: Callable[[str], str], describe: str = "",
                      knowledge: KnowledgePorts | None = None,
                      language: str = "en") -> ServiceChoice:
    """The town's services, grouped, for someone who may enter requests; with those the
    caller's own words ``describe`` suggest (the category guess), when typed, and the
    town's answers to them (with ``knowledge``): a caller's question answered on the
    phone needs no request."""
    from chalicelib.services.web_reports import choose_service

    return choose_service(towns, _own_town(towns, who), describe, translate, knowledge,
                          language)


def blank_form(towns: TownDirectory, who: Principal, code: str, now: datetime) -> EntryForm:
    """The empty form, with the idempotency key its entry will be sent with."""
    from chalicelib.services.web_reports import service_of

    _, service = service_of(towns, _own_town(towns, who), code)
    return EntryForm(service, EntryDraft(channel="phone", notify="yes",
                                         idempotency_key=new_entry_key(now)))


def enter(ports: EntryPorts, who: Principal, code: str, draft: EntryDraft,
          looking_up: bool, follow: str | None = None) -> Receipt | Followed | EntryForm:
    """The request, entered; or the caller following the open request ``follow`` instead;
    or the form again: with the suggestions for the typed place (``looking_up``, or a
    place typed but not yet picked), with what is wrong, or with the open requests of the
    service near the place, shown once before entering a new one."""
    from chalicelib.services.intake import read_submission
    from chalicelib.services.web_reports import service_of

    town = _own_town(ports.towns, who)
    catalogue, service = service_of(ports.towns, town, code)
    draft = _placed(draft)
    if not draft.idempotency_key:  # a form from before keys: this one carries one
        draft = draft.model_copy(update={"idempotency_key": ports.new_key()})
    if follow:
        return _follow_instead(ports, who, town, service, draft, follow[:64])
    if looking_up or (draft.place_text.strip() and not draft.address_string.strip()):
        return _suggestions(ports, town, service, draft, looking_up)
    fields = draft.open311_fields(code, town.locale)
    errors: list[FieldError] = []
    try:
        read_submission(fields, draft.answers(), town, catalogue)
    except InvalidInput as e:
        errors = [error_of(p, service, draft) for p in e.problems]
    if draft.channel not in CHANNELS:
        errors.insert(0, FieldError("channel", "channel"))
    for name in ("first_name", "last_name"):
        value = getattr(draft, name)
        if len(value) > NAME_LIMIT or any(ord(c) < 32 for c in value):
            errors.append(FieldError(name, "text", limit=NAME_LIMIT))
    if errors:
        return EntryForm(service, draft, _unique(errors))
    point = f"{draft.lat.strip()},{draft.long.strip()}" if draft.has_point() else ""
    if point and draft.checked_near != point:
        from chalicelib.services.duplicates import possible_duplicates

        found = possible_duplicates(ports.nearby, town, catalogue, code, float(draft.lat),
                                    float(draft.long), ports.now(), limit=5)
        draft = draft.model_copy(update={"checked_near": point})
        found = replace(found, matches=[(r, d) for r, d in found.matches
                                        if not _made_by(r, who, draft)])
        if found.matches:
            return EntryForm(service, draft, duplicates=found)
    try:
        return _submit(ports, who, code, draft)
    except Conflict:
        # The key was used for other answers (the form sent, then changed and sent
        # again): a new key, and the agent confirms this is a second request.
        return EntryForm(service, draft.model_copy(update={"idempotency_key": ports.new_key()}),
                         [FieldError("idempotency_key", "sent_before")])


def _made_by(request: ServiceRequest, who: Principal, draft: EntryDraft) -> bool:
    """Whether ``request`` may be this very entry, made by the first of a double click:
    the second click carries the same form (and key), so it must reach the idempotent
    submit, which answers the first receipt, rather than offer the request the first made
    as a duplicate. The guard's record cannot be read without running it; the key says
    when its form was drawn, and a request this agent entered since then is the form's
    own (a second caller's entry starts from a new form, drawn after the first request)."""
    drawn = drawn_at(draft.idempotency_key)
    return drawn is not None and request.entered_by == who.actor \
        and request.requested_at >= drawn


def new_entry_key(now: datetime) -> str:
    """A form's idempotency key: when it was drawn (in milliseconds: a request entered
    the moment before is not this form's), and 18 random bytes."""
    return f"{int(now.timestamp() * 1000)}-{secrets.token_urlsafe(18)}"


def drawn_at(key: str) -> datetime | None:
    """When the form carrying ``key`` was drawn (None: not a key ``new_entry_key`` made)."""
    from datetime import UTC

    millis, _, rest = key.partition("-")
    if not (millis.isdigit() and len(millis) <= 15 and rest):
        return None
    return datetime.fromtimestamp(int(millis) / 1000, UTC)


def _follow_instead(ports: EntryPorts, who: Principal, town: Town, service: Service,
                    draft: EntryDraft, request_id: str) -> Followed | EntryForm:
    """The caller follows an open request of the service (the resident's "me too", with
    its budgets and a message to confirm the contact), instead of a new request."""
    from chalicelib.services import tracking

    request = tracking.find(ports.tracking.store, town, request_id)
    if request.service_code != service.code:
        raise InvalidInput.of([Problem("follow", "is not a request of this service")])
    if not (draft.email.strip() or draft.phone.strip()):
        return EntryForm(service, draft, [FieldError("email", "follow_contact")])
    try:
        tracking.follow(ports.tracking, town, request.request_id, draft.email.strip() or None,
                        draft.phone.strip() or None, draft.language.strip() or None,
                        # A signed-in agent is not an anonymous caller: a busy desk behind
                        # one address must not spend the per-address budget meant for
                        # strangers. The contact's and the town's budgets still hold.
                        source_ip=None)
    except InvalidInput as e:
        return EntryForm(service, draft, _unique([error_of(p, service, draft)
                                                  for p in e.problems]))
    except Conflict:  # closed meanwhile: enter the request instead
        return EntryForm(service, draft.model_copy(update={"checked_near": ""}),
                         [FieldError("follow", "closed_meanwhile")])
    return Followed(request.request_id, request.tracking_number)


def _submit(ports: EntryPorts, who: Principal, code: str, draft: EntryDraft) -> Receipt:
    from chalicelib.schemas.admin import StaffRequestIn
    from chalicelib.services import staff

    def given(value: str) -> str | None:
        return value.strip() or None

    body = StaffRequestIn(
        channel=draft.channel, service_code=code,
        lat=float(draft.lat) if draft.has_point() else None,
        long=float(draft.long) if draft.has_point() else None,
        address_string=given(draft.address_string), description=given(draft.description),
        attributes={k: v for k, v in draft.answers().items() if v},
        email=given(draft.email), phone=given(draft.phone),
        first_name=given(draft.first_name), last_name=given(draft.last_name),
        notify=draft.notify != "no", language=given(draft.language))
    for attempt in range(3):
        try:
            return staff.enter_request(ports.towns, ports.intake, who, body,
                                       once=(ports.idempotency, draft.idempotency_key))
        except RetryLater:
            # The first click is still being stored: its receipt will be there shortly.
            if attempt == 2:
                raise
            ports.sleep(0.5)
    raise AssertionError("unreachable")  # pragma: no cover


def _placed(draft: EntryDraft) -> EntryDraft:
    """The place picked from the suggestions (the radio's value: point and label), or
    "not listed" (the typed text alone: staff find the place later). A point is kept only
    with the very text it was picked for."""
    if draft.place == NOT_LISTED:
        return draft.model_copy(update={"address_string": draft.place_text.strip(),
                                        "lat": "", "long": ""})
    lat, _, rest = draft.place.partition(",")
    long, _, label = rest.partition(",")
    if lat and long and label.strip():
        return draft.model_copy(update={"address_string": label.strip(), "lat": lat,
                                        "long": long, "place_text": label.strip()})
    if draft.address_string.strip() and draft.address_string == draft.place_text.strip():
        return draft
    return draft.model_copy(update={"address_string": "", "lat": "", "long": ""})


def _suggestions(ports: EntryPorts, town: Town, service: Service, draft: EntryDraft,
                 looking_up: bool) -> EntryForm:
    from chalicelib.services import gazetteer

    typed = draft.place_text.strip()
    if len(typed) < 2:
        return EntryForm(service, draft, [FieldError("place_text", "place")], [])
    found = gazetteer.suggest(ports.geocoder, ports.towns, town.town_id, typed[:100],
                              SUGGESTIONS_SHOWN)
    # Sent without looking up first: ask to pick one, next to the list.
    errors = [] if looking_up else [FieldError("place", "pick")]
    return EntryForm(service, draft.model_copy(update={"address_string": "", "lat": "",
                                                       "long": ""}), errors, found)


def _unique(errors: list[FieldError]) -> list[FieldError]:
    seen: dict[str, FieldError] = {}
    for e in errors:
        seen.setdefault(e.field, e)
    return list(seen.values())


def entered(store: RequestStore, who: Principal, request_id: str) -> ServiceRequest:
    """The request just entered, for its confirmation (the staff API's own read)."""
    from chalicelib.services import staff

    return staff.open_request(store, who, request_id)

