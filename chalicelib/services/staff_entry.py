"""An agent entering a request for a resident, on one console screen.

The resident is on the phone or at the counter, so everything is on one form: the
channel, the service's questions, the place (typed, then picked from the gazetteer's
suggestions without any script, as on the resident's report flow), the resident's
contact. The form is checked by the same ``intake.read_submission`` the Open311 POST
uses, its problems worded per field by ``web_reports.error_of``; the request is made by
``staff.enter_request``, the very service of POST /staff/requests, which checks the
permission and records the channel and the agent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from pydantic import ConfigDict, Field

from chalicelib.domain.access import Permission, require
from chalicelib.domain.errors import InvalidInput
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
    from chalicelib.domain.gazetteer import GazetteerEntry
    from chalicelib.domain.requests import ServiceRequest
    from chalicelib.domain.towns import Town
    from chalicelib.services.gazetteer import Geocoder
    from chalicelib.services.intake import IntakePorts, Receipt
    from chalicelib.services.ports import RequestStore, TownDirectory

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


@dataclass(frozen=True)
class EntryPorts:
    towns: TownDirectory
    geocoder: Geocoder
    intake: IntakePorts


@dataclass
class EntryForm:
    """The form to show (again): the service, what was typed, what is wrong, and the
    places to pick from when the typed one was looked up."""

    service: Service
    draft: EntryDraft
    errors: list[FieldError] = field(default_factory=list)
    suggestions: list[GazetteerEntry] | None = None  # None: not looked up


def _own_town(towns: TownDirectory, who: Principal) -> Town:
    from chalicelib.services.directory import find_town

    require(who, Permission.ENTER_REQUESTS, who.town_id)
    return find_town(towns, who.town_id or "")


def services_to_enter(towns: TownDirectory, who: Principal,
                      translate: Callable[[str], str]) -> ServiceChoice:
    """The town's services, grouped, for someone who may enter requests."""
    from chalicelib.services.web_reports import choose_service

    return choose_service(towns, _own_town(towns, who), "", translate)


def blank_form(towns: TownDirectory, who: Principal, code: str) -> EntryForm:
    from chalicelib.services.web_reports import service_of

    _, service = service_of(towns, _own_town(towns, who), code)
    return EntryForm(service, EntryDraft(channel="phone", notify="yes"))


def enter(ports: EntryPorts, who: Principal, code: str, draft: EntryDraft,
          looking_up: bool) -> Receipt | EntryForm:
    """The request, entered; or the form again: with the suggestions for the typed place
    (``looking_up``, or a place typed but not yet picked), or with what is wrong."""
    from chalicelib.services.intake import read_submission
    from chalicelib.services.web_reports import service_of

    town = _own_town(ports.towns, who)
    catalogue, service = service_of(ports.towns, town, code)
    draft = _placed(draft)
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
    return _submit(ports, who, code, draft)


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
    return staff.enter_request(ports.towns, ports.intake, who, body)


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

