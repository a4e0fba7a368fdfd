"""A resident reporting a problem on the town's own pages, one screen at a time.

The flow keeps its state in the form itself (hidden fields carried from screen to screen),
so nothing is stored until the resident submits, and it needs no secret. Each screen's
answers are checked by the same ``intake.read_submission`` the Open311 POST uses; its
problems are sorted to the screen whose fields they name. The submission goes through
``intake.submit_request_once`` on the ``web`` channel, made safe against a double click by
an idempotency key drawn when "check your answers" is shown, and within a per-address
budget, because the web report is anonymous (no API key and its rate).

Screens, in order: questions (the service's Open311 attributes and a description),
location (typed text), place (the gazetteer's suggestions to pick from; skipped when the
browser's script picked one already), duplicates (open reports of the same service
nearby; skipped when there are none), contact (optional), review; then the confirmation.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import ConfigDict, Field

from chalicelib.domain.catalogue import LIST_DATATYPES, Catalogue, Service
from chalicelib.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    Problem,
    RetryLater,
    StorageUnavailable,
    Throttled,
)
from chalicelib.domain.service_search import find_services, grouped
from chalicelib.schemas.model import WireModel

if TYPE_CHECKING:
    from chalicelib.domain.duplicates import DuplicateCheck
    from chalicelib.domain.gazetteer import GazetteerEntry
    from chalicelib.domain.knowledge import Ranked
    from chalicelib.domain.requests import ServiceRequest
    from chalicelib.domain.towns import Town
    from chalicelib.services.gazetteer import Geocoder
    from chalicelib.services.intake import IntakePorts, Receipt
    from chalicelib.services.knowledge import KnowledgePorts
    from chalicelib.services.photos import PhotoWork
    from chalicelib.services.ports import (
        IdempotencyGuard,
        Limits,
        NearbyRequests,
        PhotoInbox,
        PhotoUploads,
        RequestStore,
        TownDirectory,
    )

log = logging.getLogger(__name__)

WEB_CHANNEL = "web"
SCREENS = ("questions", "location", "place", "duplicates", "contact", "review")
# A household or an office behind one address reports a few problems an hour; a script
# flooding the town from one address is stopped here (API keys have their own rate).
PER_SOURCE_REPORTS_PER_HOUR = 20
HOUR = 3600
SUGGESTIONS_SHOWN = 8
NOT_LISTED = "typed"
# Which screen's fields each Open311 parameter is.
_LOCATION = frozenset({"lat", "long", "address_string", "address_id", "zipcode"})
_CONTACT = frozenset({"email", "phone", "language", "notify", "first_name", "last_name"})
_TEXT_LIMITS = {"string": 255, "text": 4000}


class ReportDraft(WireModel):
    """What the resident has answered so far, as the form carries it (raw text: every
    value is checked by ``intake.read_submission``, which says what is wrong with it)."""

    model_config = ConfigDict(extra="ignore")

    description: Annotated[str, Field(max_length=20_000)] = ""
    attributes: dict[Annotated[str, Field(max_length=100)],
                     Annotated[list[Annotated[str, Field(max_length=5000)]],
                               Field(max_length=50)]] = Field(default_factory=dict,
                                                              max_length=100)
    place_text: Annotated[str, Field(max_length=1000)] = ""  # what they typed
    address_string: Annotated[str, Field(max_length=1000)] = ""
    lat: Annotated[str, Field(max_length=40)] = ""
    long: Annotated[str, Field(max_length=40)] = ""
    email: Annotated[str, Field(max_length=1000)] = ""
    phone: Annotated[str, Field(max_length=100)] = ""
    language: Annotated[str, Field(max_length=10)] = ""
    notify: Annotated[str, Field(max_length=5)] = ""  # "yes" / "no" once asked
    reviewing: Annotated[str, Field(max_length=1)] = ""  # "1": back to review after a change
    idempotency_key: Annotated[str, Field(max_length=64)] = ""

    def answers(self) -> dict[str, list[str]]:
        return {code: [v for v in values if v.strip()]
                for code, values in self.attributes.items()}

    def has_point(self) -> bool:
        return bool(self.lat.strip() and self.long.strip())

    def open311_fields(self, service_code: str, language: str) -> dict[str, str]:
        """The draft as the fields of an Open311 POST (what ``read_submission`` reads)."""
        return {"service_code": service_code, "description": self.description,
                "address_string": self.address_string, "lat": self.lat, "long": self.long,
                "email": self.email, "phone": self.phone,
                "language": self.language or language,
                "notify": {"yes": "true", "no": "false"}.get(self.notify, "")}


@dataclass(frozen=True)
class FieldError:
    """A problem with one field, named by kind so the page words it in the resident's
    language (``required``, ``number``, ``datetime``, ``choice``, ``text``, ``place``,
    ``pick``, ``email``, ``phone``, ``invalid``)."""

    field: str  # the form field's name: "attribute[size]", "description", "email", ...
    kind: str
    question: str | None = None  # the question's text, for attributes
    limit: int | None = None


@dataclass
class Screen:
    """The next screen to show: its name, the draft, what is wrong, and what it lists."""

    name: str
    draft: ReportDraft
    errors: list[FieldError] = field(default_factory=list)
    suggestions: list[GazetteerEntry] = field(default_factory=list)
    duplicates: DuplicateCheck | None = None
    service: Service | None = None  # the town's own text (the page translates it)


@dataclass(frozen=True)
class ReportPorts:
    towns: TownDirectory
    geocoder: Geocoder
    nearby: NearbyRequests
    intake: IntakePorts
    idempotency: IdempotencyGuard
    limits: Limits
    now: Callable[[], datetime]
    new_key: Callable[[], str] = lambda: secrets.token_urlsafe(18)
    sleep: Callable[[float], None] = time.sleep


# --- the catalogue in the resident's language ---------------------------------------------


def matching_services(services: Sequence[Service], search: str) -> list[Service]:
    """The services a resident's search names, those the category guess ranks first
    before the others ("el semáforo no cambia": the traffic signal before "Basura no
    recogida", which only shares "no"); when it names none ("my bin was skipped"), the
    guess's first few (chalicelib.domain.category_guess)."""
    from chalicelib.domain.category_guess import guess_services

    found = find_services(services, search)
    guessed = [g.service for g in guess_services(services, search, limit=len(services))]
    if not found:
        return guessed[:3]
    rank = {s.code: i for i, s in enumerate(guessed)}
    return sorted(found, key=lambda s: rank.get(s.code, len(rank)))


def in_language(service: Service, translate: Callable[[str], str]) -> Service:
    """The service with its name, description, group and questions in the page's language
    (``translate``: the catalogue's gettext, which gives back the town's own text when
    it has no translation). Its words in both languages find it in a search."""
    questions = tuple(dataclasses.replace(
        q, description=translate(q.description),
        datatype_description=translate(q.datatype_description) if q.datatype_description
        else q.datatype_description,
        values=tuple(dataclasses.replace(v, name=translate(v.name)) for v in q.values))
        for q in service.questions)
    name = translate(service.name)
    return dataclasses.replace(
        service, name=name, description=translate(service.description),
        group=translate(service.group) if service.group else service.group,
        keywords=(*service.keywords, service.name, name), questions=questions)


@dataclass(frozen=True)
class ServiceChoice:
    groups: list[tuple[str, list[Service]]]
    matches: list[Service] | None  # None: nothing searched
    # The town's answers that fit the search (chalicelib.services.knowledge), best first.
    answers: tuple[Ranked, ...] = ()


def choose_service(towns: TownDirectory, town: Town, search: str,
                   translate: Callable[[str], str], knowledge: KnowledgePorts | None = None,
                   language: str = "en") -> ServiceChoice:
    """The town's services to choose from, in the page's language: grouped, and those
    matching the resident's words when they searched; with ``knowledge``, also the town's
    answers to those words (in ``language`` where written), so a question finds its
    answer rather than a work order."""
    from chalicelib.services.directory import catalogue_of

    services = [in_language(s, translate) for s in catalogue_of(towns, town).services]
    matches = matching_services(services, search) if search.strip() else None
    answers: tuple[Ranked, ...] = ()
    if knowledge is not None and search.strip():
        from chalicelib.services.knowledge import search as search_answers

        answers = tuple(search_answers(knowledge, town.town_id, search, language, 3))
    return ServiceChoice(grouped(services), matches, answers)


def service_of(towns: TownDirectory, town: Town, code: str) -> tuple[Catalogue, Service]:
    """The town's catalogue and its active service ``code`` (NotFound: a 404 page)."""
    from chalicelib.services.directory import catalogue_of

    catalogue = catalogue_of(towns, town)
    service = catalogue.service(code)
    if service is None:
        raise NotFound(f"{town.name} has no service {code[:40]!r} to report")
    return catalogue, service


# --- the screens ----------------------------------------------------------------------------


def answer(ports: ReportPorts, town: Town, code: str, draft: ReportDraft, answered: str,
           change: str, choice: str, language: str,
           source_ip: str | None, deadline: object = None) -> Receipt | Screen:
    """One screen's answers: "check your answers" sent without asking to change
    something submits the report; anything else leads to the next screen."""
    if answered == "review" and not change:
        return submit(ports, town, code, draft, language, source_ip, deadline)
    return next_screen(ports, town, code, draft, answered, change, choice, language)


def next_screen(ports: ReportPorts, town: Town, code: str, draft: ReportDraft, answered: str,
                change: str, choice: str, language: str) -> Screen:
    """After the resident sent screen ``answered``: that screen again with what is wrong,
    or the next one (``change``: the screen they asked to change from "check your
    answers"; ``choice``: the place picked from the suggestions)."""
    catalogue, service = service_of(ports.towns, town, code)
    screen = _next(ports, town, catalogue, service, draft, answered, change, choice,
                   language)
    screen.service = service
    return screen


def first_screen(towns: TownDirectory, town: Town, code: str) -> Screen:
    """The service's questions, nothing answered yet."""
    _, service = service_of(towns, town, code)
    return Screen("questions", ReportDraft(), service=service)


def _next(ports: ReportPorts, town: Town, catalogue: Catalogue, service: Service,
          draft: ReportDraft, answered: str, change: str, choice: str,
          language: str) -> Screen:
    code = service.code
    if change in SCREENS and change not in ("place", "duplicates", "review"):
        # From "check your answers", the changed screen leads back there.
        reviewing = "1" if answered == "review" else draft.reviewing
        return Screen(change, draft.model_copy(update={"reviewing": reviewing}))
    if answered not in SCREENS:
        return Screen("questions", draft)
    if answered == "place":
        draft, errors = _pick(draft, choice)
        if errors:
            return _place_screen(ports, town, draft, errors)
    elif answered == "location":
        draft = _typed_place(draft)
        errors = [] if draft.place_text.strip() else [FieldError("place_text", "place")]
        if errors:
            return Screen("location", draft, errors)
        if not draft.has_point():  # no script picked a place: offer the suggestions
            return _place_screen(ports, town, draft, [])
    errors = _errors_up_to(answered, service, town, catalogue, draft, language)
    if errors:
        return Screen(_first_screen_of(errors), draft, errors)
    if answered in ("location", "place"):
        found = _duplicates(ports, town, catalogue, code, draft)
        if found is not None and found.matches:
            return Screen("duplicates", draft, duplicates=found)
    if draft.reviewing == "1" or answered in ("contact", "review"):
        return review_screen(ports, draft)
    following = {"questions": "location", "location": "contact", "place": "contact",
                 "duplicates": "contact"}
    return Screen(following[answered], draft)


def review_screen(ports: ReportPorts, draft: ReportDraft) -> Screen:
    """"Check your answers", with a new idempotency key: the submit it carries is stored
    once however often it is sent; a changed answer brings a new key."""
    return Screen("review", draft.model_copy(update={"reviewing": "1",
                                                     "idempotency_key": ports.new_key()}))


def _typed_place(draft: ReportDraft) -> ReportDraft:
    # The page's script fills lat/long/address_string when a suggestion is picked, and
    # clears them when the text changes; without it they stay empty. A point is kept
    # only with the very text it was picked for.
    if draft.address_string.strip() and draft.address_string == draft.place_text \
            and draft.has_point():
        return draft
    return draft.model_copy(update={"address_string": "", "lat": "", "long": ""})


def _place_screen(ports: ReportPorts, town: Town, draft: ReportDraft,
                  errors: list[FieldError]) -> Screen:
    from chalicelib.services import gazetteer

    found = gazetteer.suggest(ports.geocoder, ports.towns, town.town_id,
                              draft.place_text[:100], SUGGESTIONS_SHOWN) \
        if len(draft.place_text.strip()) >= 2 else []
    return Screen("place", draft, errors, suggestions=found)


def place_choice(entry: GazetteerEntry) -> str:
    """A suggestion as its radio button's value: the point and the label."""
    return f"{entry.lat!r},{entry.long!r},{entry.label}"


def _pick(draft: ReportDraft, choice: str) -> tuple[ReportDraft, list[FieldError]]:
    if choice == NOT_LISTED:
        # Open311 takes an address without a point: the town's staff find the place.
        return draft.model_copy(update={"address_string": draft.place_text.strip(),
                                        "lat": "", "long": ""}), []
    lat, _, rest = choice.partition(",")
    long, _, label = rest.partition(",")
    if not (lat and long and label.strip()):
        return draft, [FieldError("place", "pick")]
    return draft.model_copy(update={"address_string": label.strip(), "lat": lat,
                                    "long": long, "place_text": label.strip()}), []


def _screen_of(name: str) -> str:
    if name.startswith("attribute[") or name == "description":
        return "questions"
    if name in _LOCATION:
        return "location"
    if name in _CONTACT:
        return "contact"
    return "questions"


def _first_screen_of(errors: list[FieldError]) -> str:
    return min((_screen_of(e.field) if e.field != "place_text" else "location"
                for e in errors), key=SCREENS.index)


def _errors_up_to(answered: str, service: Service, town: Town, catalogue: Catalogue,
                  draft: ReportDraft, language: str) -> list[FieldError]:
    """The problems ``read_submission`` finds in the screens answered so far (after the
    questions, the missing location is not yet a problem)."""
    from chalicelib.services.intake import read_submission

    done = SCREENS[:SCREENS.index(answered) + 1]
    if draft.reviewing == "1":
        done = SCREENS
    try:
        read_submission(draft.open311_fields(service.code, language), draft.answers(), town,
                        catalogue)
    except InvalidInput as e:
        return [error_of(p, service, draft) for p in e.problems
                if _screen_of(p.field) in done or p.field == "service_code"]
    return []


def error_of(problem: Problem, service: Service, draft: ReportDraft) -> FieldError:
    """A problem as the page words it: by the field and its question's datatype (never by
    the message's English)."""
    name = problem.field
    if name.startswith("attribute["):
        code = name[len("attribute["):].rstrip("]")
        question = next((q for q in service.questions if q.code == code), None)
        if question is None:
            return FieldError(name, "invalid")
        given = [v for v in draft.attributes.get(code, []) if v.strip()]
        kind = "required" if not given else {
            "number": "number", "datetime": "datetime", "singlevaluelist": "choice",
            "multivaluelist": "choice"}.get(question.datatype, "text")
        if kind == "required" and question.datatype in LIST_DATATYPES:
            kind = "required_choice"
        return FieldError(name, kind, question.description,
                          _TEXT_LIMITS.get(question.datatype))
    if name == "description":
        from chalicelib.domain.requests import DESCRIPTION_LIMIT

        return FieldError(name, "text", limit=DESCRIPTION_LIMIT)
    if name in _LOCATION:
        return FieldError("place_text", "place")
    if name in ("email", "phone"):
        return FieldError(name, name)
    return FieldError(name, "invalid")


def _duplicates(ports: ReportPorts, town: Town, catalogue: Catalogue, code: str,
                draft: ReportDraft) -> DuplicateCheck | None:
    from chalicelib.services.duplicates import possible_duplicates

    if not draft.has_point():
        return None
    try:
        lat, long = float(draft.lat), float(draft.long)
        return possible_duplicates(ports.nearby, town, catalogue, code, lat, long,
                                   ports.now(), limit=5)
    except (ValueError, InvalidInput):
        return None  # a point that is not one is reported on the review screen


# --- submitting -----------------------------------------------------------------------------


def submit(ports: ReportPorts, town: Town, code: str, draft: ReportDraft, language: str,
           source_ip: str | None, deadline: object = None) -> Receipt | Screen:
    """Make the request (the same intake as Open311's POST, channel ``web``, in the page's
    language), or the screen to fix first. Throttled past the address's hourly budget."""
    from chalicelib.services import intake

    catalogue, service = service_of(ports.towns, town, code)
    errors = _errors_up_to("review", service, town, catalogue, draft, language)
    if errors:
        return Screen(_first_screen_of(errors), draft, errors, service=service)
    if not draft.idempotency_key:
        screen = review_screen(ports, draft)
        screen.service = service
        return screen
    form = intake.read_submission(draft.open311_fields(code, language), draft.answers(),
                                  town, catalogue)
    _take_budget(ports, town, source_ip)
    for attempt in range(3):
        try:
            return intake.submit_request_once(
                f"web:{draft.idempotency_key}", ports.idempotency, form, town, catalogue,
                None, ports.intake, deadline=deadline, source_ip=source_ip,
                channel=WEB_CHANNEL)
        except RetryLater:
            # The first click is still being stored: its receipt will be there shortly.
            if attempt == 2:
                raise
            ports.sleep(0.5)
    raise AssertionError("unreachable")  # pragma: no cover


def _take_budget(ports: ReportPorts, town: Town, source_ip: str | None) -> None:
    import hashlib

    now = int(ports.now().timestamp())
    hour = now // HOUR
    source = hashlib.sha256(f"source:{source_ip or 'unknown'}".encode()).hexdigest()[:32]
    if not ports.limits.take(town.town_id, f"webreport#{source}", hour,
                             PER_SOURCE_REPORTS_PER_HOUR, (hour + 2) * HOUR):
        log.warning("web reports refused for an address", extra={"town": town.town_id})
        raise Throttled("too many reports were sent from your connection this hour; "
                        "try again later, or call the town",
                        retry_after_seconds=HOUR - now % HOUR)


# --- after submitting: the confirmation and photos -----------------------------------------


# A photo sent through the app rides in the Lambda's request: API Gateway hands a binary
# body over base64-encoded, inside the 6 MB invocation payload, so about 4.5 MB of file
# gets through; the page says so before trying rather than showing a gateway's 413.
THROUGH_APP_BYTES = 4 * 1024 * 1024
# Presigned forms for one request in an hour: a few photos, each retried a few times. Each
# form lets a browser put up to photos.MAX_BYTES in the bucket (and wake the photo worker).
PHOTO_FORMS_PER_HOUR = 20


@dataclass(frozen=True)
class Confirmation:
    request: ServiceRequest
    photos_allowed: int  # how many more photos may be added now (0 without the token)
    # Where the page's script sends photos straight to (for its Content-Security-Policy);
    # None when no photo may be added or the bucket cannot say.
    upload_origin: str | None = None


def confirmation(store: RequestStore, town: Town, number: str, token: str | None,
                 uploads: PhotoUploads | None = None) -> Confirmation:
    """The request just made, by its tracking number (NotFound: a 404 page), how many
    photos its submitter (holding its token) may still add, and where their browser
    sends them (``uploads``' origin)."""
    from chalicelib.domain.requests import token_matches
    from chalicelib.services.tracking import find_by_number

    request = find_by_number(store, town, number)
    room = max(0, town.photo_limit - len(request.photos)) \
        if token_matches(token, request.token_hash) else 0
    origin = None
    if room and uploads is not None:
        try:
            origin = uploads.upload_origin()
        except StorageUnavailable:
            # The page still works: the script's straight upload is then refused by the
            # browser and it posts the photo through the app instead.
            log.warning("photo upload origin unknown", extra={"town": town.town_id})
    return Confirmation(request, room, origin)


def photo_upload_form(work: PhotoWork, limits: Limits, town: Town, number: str,
                      token: str | None, content_type: str) -> dict[str, object]:
    """A presigned POST for the submitter's next photo, which their browser sends straight
    to the bucket (``photos.upload_form``: the token, the type and the room are checked
    there; the photo worker then treats it as any upload). Throttled past
    PHOTO_FORMS_PER_HOUR for the request, counted only once the token was accepted, so a
    stranger who knows the number cannot use up the submitter's budget."""
    from chalicelib.services import photos
    from chalicelib.services.tracking import find_by_number

    request = find_by_number(work.store, town, number)
    form = photos.upload_form(work, town, request.request_id, content_type, token=token)
    now = int(work.now().timestamp())
    hour = now // HOUR
    if not limits.take(town.town_id, f"photoforms#{request.request_id}", hour,
                       PHOTO_FORMS_PER_HOUR, (hour + 2) * HOUR):
        raise Throttled("too many photos were started for this report this hour; try "
                        "again later", retry_after_seconds=HOUR - now % HOUR)
    return form


def add_photo(work: PhotoWork, inbox: PhotoInbox, town: Town, number: str, token: str | None,
              content: bytes | None) -> FieldError | None:
    """Send the submitter's photo to the photo worker (``photos.receive_photo``: the
    bytes decide whether it is a photo; nothing is stored when it is not). None when
    it was received, else what to say next to the file field."""
    from chalicelib.services import photos
    from chalicelib.services.tracking import find_by_number

    if not content:
        return FieldError("media", "no_file")
    if photos.sniffed_type(content) is None:
        return FieldError("media", "not_image")
    if len(content) > photos.MAX_BYTES:
        return FieldError("media", "too_big", limit=photos.MAX_BYTES // 2**20)
    request = find_by_number(work.store, town, number)
    try:
        photos.receive_photo(work, inbox, town, request.request_id, token, content)
    except Conflict:
        return FieldError("media", "limit", limit=town.photo_limit)
    return None


def hidden_answers(draft: ReportDraft) -> Sequence[tuple[str, str]]:
    """The answers as hidden fields (name, value), every value its own field."""
    return [(f"attribute[{code}][]", value) for code, values in sorted(draft.attributes.items())
            for value in values]
