"""Texts to a town's number: reports by conversation, STATUS, HELP, and today's STOP/START.

A text arrives from the inbound SNS topic (``events.notices.receive_sms``). In order:

1. STOP (and the carrier's other opt-out words) and START work as they always did
   (``services.notices.text_back``), whatever number was texted, and end the phone's
   conversation; they are never rate limited and never answered.
2. The town is the one whose SMS number was texted (one GetItem); an unknown number, a
   phone of a country the town does not text, a phone that said STOP, a text seen before
   (SNS redelivers: ``inboundMessageId``), a phone over its hourly budget of texts: each is
   a recorded refusal, and nothing is sent (over the budget: one "too many messages"
   reply, then silence).
3. The conversation (``domain.sms_intake``) reads the text and says what to reply; a
   report it completes is filed here with channel ``sms`` and the phone as its reporter
   (proved: it texted us), and the receipt carries a one-time link to add a photo.

Every reply goes through the town's ``MeteredMessenger``: counted in its monthly SMS cap
and usage; past the cap it is a recorded refusal. Nothing here raises to the handler for
a resident's text: a bad text is refused, never retried.

The town's services, their questions and list values are named in the conversation's
language (``SmsPorts.words``: the words the resident pages use for the packs' services; a
town's own words without a translation as written); the guess itself reads the town's
catalogue as written, whose Spanish synonyms find a Spanish text.

The answer hook: ``SmsPorts.answer`` — a question that is not a report ("when is leaf
pickup?") is offered to it with the town, the text and the language; what it returns is
sent as the reply. ``no_answer`` (the default) answers nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain import sms_intake
from chalicelib.domain.errors import (
    InvalidInput,
    NotFound,
    StorageUnavailable,
    Town311Error,
)
from chalicelib.domain.followers import contact_hashes, new_secret, secret_hash
from chalicelib.domain.sms_intake import Conversation, FoundPlace, Question, ServiceChoice
from chalicelib.domain.sms_wording import MAX_SEGMENTS, phrase, say, segments, step_words
from chalicelib.domain.towns import ACTIVE, Town

if TYPE_CHECKING:
    from chalicelib.domain.catalogue import Catalogue
    from chalicelib.domain.requests import ServiceRequest
    from chalicelib.schemas.sms import InboundSms
    from chalicelib.services.gazetteer import Geocoder
    from chalicelib.services.intake import IntakePorts
    from chalicelib.services.ports import (
        CatalogueWords,
        Limits,
        Messenger,
        NoticeBook,
        RequestStore,
        SmsConversations,
        SubscriberStore,
        TownDirectory,
    )

log = logging.getLogger(__name__)

HOUR = 3600
TEXTS_PER_HOUR = 20  # from one phone to one town; a conversation needs about six
STATUS_PER_HOUR = 10  # STATUS answers from one phone to one town
MESSAGE_SECONDS = 2 * 86400  # SNS redelivers within minutes; kept two days
PHOTO_LINK_SECONDS = 24 * HOUR
START_ONLY = frozenset({"START", "UNSTOP"})

# (town id, the text, the conversation's language, a mark naming this text once — what
# counts the question answered only once when the text is delivered again) → one reply
# text, or None.
Answerer = Callable[[str, str, str, str], str | None]


def no_answer(town_id: str, text: str, language: str, mark: str) -> str | None:
    """The answer hook until a knowledge base is wired in: nothing to say."""
    return None


@dataclass(frozen=True)
class SmsPorts:
    towns: TownDirectory
    conversations: SmsConversations
    book: NoticeBook
    subscribers: SubscriberStore  # emergency alert subscribers (STOP ends them too)
    messenger: Messenger  # metered: the town's SMS cap and usage
    limits: Limits
    requests: RequestStore
    geocoder: Geocoder
    intake: IntakePorts
    now: Callable[[], datetime]
    words: CatalogueWords  # services, questions and list values in the texter's language
    base_url: str = ""
    # ANSWER HOOK: a question that is not a report is offered here before the report
    # flow (chalicelib.services.knowledge.answer_for_text, wired in bootstrap.sms_ports).
    answer: Answerer = no_answer


# --- the town, as the conversation sees it ----------------------------------------------


class TownFacts:
    """``domain.sms_intake.TownFacts`` for one town: its category guess, gazetteer,
    catalogue questions, and the answer hook."""

    def __init__(self, ports: SmsPorts, town: Town, catalogue: Catalogue,
                 mark: str = "") -> None:
        self._ports = ports
        self._town = town
        self._catalogue = catalogue
        self._mark = mark  # this text, once (see Answerer)

    @property
    def name(self) -> str:
        return self._town.branding.display_name or self._town.name

    def guess(self, text: str, language: str) -> tuple[list[ServiceChoice], bool]:
        from chalicelib.domain.category_guess import is_confident
        from chalicelib.services.category_guess import guess_for_town

        guesses = guess_for_town(self._ports.requests, self._town.town_id, self._catalogue,
                                 text, self._ports.now(), 3)
        named = self._ports.words.words(language)
        return ([ServiceChoice(g.service.code, named(g.service.name)) for g in guesses],
                is_confident(guesses))

    def find_place(self, text: str) -> FoundPlace | None:
        from chalicelib.domain.place_words import find_place

        entry = find_place(text, lambda words, limit: self._ports.geocoder.suggest(
            self._town.town_id, words, limit)).entry
        return FoundPlace(entry.label, entry.lat, entry.long) if entry else None

    def questions(self, service_code: str, language: str) -> list[Question]:
        service = self._catalogue.service(service_code)
        if service is None:
            return []
        named = self._ports.words.words(language)
        return [Question(q.code, q.datatype, named(q.description),
                         tuple((c.key, named(c.name)) for c in q.values))
                for q in sorted(service.questions, key=lambda q: (q.order, q.code))
                if q.required and q.variable]

    def answer(self, text: str, language: str) -> str | None:
        try:
            return self._ports.answer(self._town.town_id, text, language, self._mark)
        except Town311Error:
            log.exception("the answer hook failed; the text is read as a report")
            return None


# --- one text -------------------------------------------------------------------------------


def receive(ports: SmsPorts, text: InboundSms) -> str:
    """Handle one inbound text; returns what became of it (for the log)."""
    from chalicelib.domain.phones import e164_or_none
    from chalicelib.services.notices import STOP_WORDS, text_back

    phone = e164_or_none(text.origination)
    word = (text.body or "").strip().split(" ")[0].upper().strip(".!")
    town = _town_of(ports, text.destination)
    if word in STOP_WORDS or word in START_ONLY:
        # As the gateway gave it: text_back reads any number it can (today's behaviour).
        try:
            outcome = text_back(ports.book, ports.subscribers, text.origination, text.body,
                                ports.now())
        except InvalidInput:
            log.warning("STOP or START from something that is not a phone number; dropped")
            return "refused:not_a_phone"
        if town is not None and phone is not None:
            ports.conversations.end_conversation(town.town_id,
                                                 contact_hashes(None, phone)[0])
        return outcome or "ignored"
    if phone is None:
        log.warning("inbound SMS from something that is not a phone number; dropped")
        return "refused:not_a_phone"
    phone_hash = contact_hashes(None, phone)[0]
    if word in sms_intake.YES_WORDS:
        text_back(ports.book, ports.subscribers, phone, text.body, ports.now())  # as START
    if town is None:
        log.warning("inbound SMS to a number no town has; not answered",
                    extra={"destination": (text.destination or "")[:32]})
        return "refused:unknown_number"
    refusal = _refusal(ports, town, phone, phone_hash, text.message_id)
    if refusal is not None:
        return refusal
    # The gateway's message id names the text once; without one (never from SNS), the
    # phone and the minute do.
    mark = f"sms#{text.message_id}" if text.message_id else \
        f"sms#{phone_hash[:32]}#{ports.now().isoformat(timespec='minutes')}"
    return _converse(ports, town, phone, phone_hash, text.body, mark)


def _town_of(ports: SmsPorts, destination: str | None) -> Town | None:
    from chalicelib.domain.phones import e164_or_none

    number = e164_or_none(destination)
    town_id = ports.towns.town_at_number(number) if number else None
    town = ports.towns.get_town(town_id) if town_id else None
    if town is None or town.sms_number != number or town.status != ACTIVE:
        return None
    return town


def _refusal(ports: SmsPorts, town: Town, phone: str, phone_hash: str,
             message_id: str | None) -> str | None:
    """Why this text gets no conversation, recorded; None when it may have one."""
    from chalicelib.services.outreach import CountryNotServed, phone_for

    try:
        phone_for(town, phone)
    except CountryNotServed:
        return _refused(ports, town, "country")
    now = int(ports.now().timestamp())
    if message_id is None:
        log.warning("inbound SMS without an inboundMessageId: a redelivery cannot be told")
    elif not ports.conversations.claim_message(town.town_id, message_id,
                                               now + MESSAGE_SECONDS):
        log.info("inbound SMS already handled (redelivered)", extra={"town": town.town_id})
        return "duplicate"
    _, texts_stopped = ports.book.stopped(town.town_id, [phone_hash], [phone_hash])
    if phone_hash in texts_stopped:
        return _refused(ports, town, "stopped")
    hour = now // HOUR
    if not ports.limits.take(town.town_id, f"smsin#{phone_hash}", hour, TEXTS_PER_HOUR,
                             (hour + 1) * HOUR + 86400):
        # One "too many" reply in the hour, then silence: a flood costs the town one text.
        if ports.limits.take(town.town_id, f"smsin#told#{phone_hash}", hour, 1,
                             (hour + 1) * HOUR + 86400):
            language = _language_of(ports, town, phone_hash)
            _send(ports, town, phone, [say(language, "too_many", town=_name(town))])
        return _refused(ports, town, "flood")
    return None


def _refused(ports: SmsPorts, town: Town, reason: str) -> str:
    from chalicelib.services.outreach import OutreachPorts, record_refusal

    record_refusal(OutreachPorts(limits=ports.limits, now=ports.now), town, "sms_in", reason)
    return f"refused:{reason}"


def _name(town: Town) -> str:
    return town.branding.display_name or town.name


def _default_language(town: Town) -> str:
    return town.locale.split("-")[0].lower()


def _language_of(ports: SmsPorts, town: Town, phone_hash: str) -> str:
    stored = ports.conversations.conversation(town.town_id, phone_hash)
    return stored.language if stored else _default_language(town)


def _converse(ports: SmsPorts, town: Town, phone: str, phone_hash: str, body: str,
              mark: str = "") -> str:
    from chalicelib.services.directory import catalogue_of

    now = ports.now()
    stored = ports.conversations.conversation(town.town_id, phone_hash)
    facts = TownFacts(ports, town, catalogue_of(ports.towns, town), mark)
    outcome = sms_intake.receive(stored, body, now, facts, _default_language(town))
    replies = list(outcome.replies)
    language = (outcome.conversation.language if outcome.conversation
                else sms_intake.detect_language(body, _default_language(town)))
    if outcome.action == sms_intake.STATUS:
        replies.append(_status(ports, town, phone_hash, outcome.argument, language))
    if outcome.action == sms_intake.FILE and outcome.conversation is not None:
        ports.conversations.end_conversation(town.town_id, phone_hash)
        replies.extend(_file(ports, town, facts, phone, outcome.conversation))
        label = "filed"
    elif outcome.conversation is None:
        if stored is not None:
            ports.conversations.end_conversation(town.town_id, phone_hash)
        label = "cancelled" if outcome.ended else "answered"
    else:
        # A fresh start over an expired one takes the stored version (the save's check).
        talk = outcome.conversation
        if stored is not None and talk.version != stored.version:
            talk = replace(talk, version=stored.version)
        if not ports.conversations.save_conversation(town.town_id, phone_hash, talk):
            log.warning("another text from the phone moved the conversation first; this "
                        "one is not answered", extra={"town": town.town_id})
            return "conflict"
        label = talk.step
    _send(ports, town, phone, replies)
    return label


def _send(ports: SmsPorts, town: Town, phone: str, replies: list[str]) -> None:
    from chalicelib.services.outreach import CountryNotServed, SmsCapReached

    for reply in replies:
        try:
            ports.messenger.send(town_id=town.town_id, email=None, phone=phone,
                                 subject=_name(town), text=reply)
        except SmsCapReached:
            _refused(ports, town, "cap")
            return
        except CountryNotServed:
            _refused(ports, town, "country")
            return
        except StorageUnavailable:
            log.error("an SMS reply could not be sent", extra={"town": town.town_id})
            return


# --- STATUS ---------------------------------------------------------------------------------


def _status(ports: SmsPorts, town: Town, phone_hash: str, number: str, language: str) -> str:
    """A request's public status for anyone who knows its number (public in Open311 too):
    the status, the expected date while open, and the latest public note."""
    from chalicelib.services.tracking import find_by_number

    hour = int(ports.now().timestamp()) // HOUR
    if not ports.limits.take(town.town_id, f"smsstatus#{phone_hash}", hour, STATUS_PER_HOUR,
                             (hour + 1) * HOUR + 86400):
        return say(language, "too_many", town=_name(town))
    if not number.strip():
        return say(language, "status_how")
    try:
        request = find_by_number(ports.requests, town, number)
    except InvalidInput:
        return say(language, "status_how")
    except NotFound:
        return say(language, "status_unknown", number=number[:20], town=_name(town))
    notes = sorted(request.public_notes, key=lambda e: e.at)
    # A note's words are its description; other events (routed, closed) say it in the
    # summary, and their description is staff detail ("the service's own department").
    latest = ((notes[-1].description or notes[-1].summary) if notes[-1].kind == "note"
              else step_words(language, notes[-1].kind, notes[-1].summary)
              ).strip() if notes else ""
    return say(language, "status", number=request.tracking_number or number,
               service=ports.words.words(language)(request.service_name), place="",
               status=phrase(language, "status_open" if request.status == "open"
                             else "status_closed"),
               expected=_expected(town, request, language),
               note=phrase(language, "status_note", note=latest[:200]) if latest else "")


def _expected(town: Town, request: ServiceRequest, language: str) -> str:
    if request.expected_at is None or request.status != "open":
        return ""
    from babel.dates import format_date

    day = format_date(request.expected_at.astimezone(town.zone).date(), "medium",
                      locale=language)
    return phrase(language, "expected", day=day)


# --- filing ---------------------------------------------------------------------------------


def _file(ports: SmsPorts, town: Town, facts: TownFacts, phone: str,
          talk: Conversation) -> list[str]:
    """File the conversation's report (channel sms, the phone as its proved reporter) and
    say so with its tracking number, expected date and a one-time photo link: one reply,
    or two when the link would not fit in the first."""
    from pydantic import ValidationError

    from chalicelib.schemas.open311 import NewServiceRequest
    from chalicelib.services import intake
    from chalicelib.services.directory import catalogue_of

    place = talk.place or FoundPlace("")
    fields: dict[str, object] = {
        "service_code": talk.service_code or "", "description": talk.description or None,
        "address_string": place.label or None, "phone": phone, "language": talk.language,
        "attributes": {code: value if isinstance(value, list) else [value]
                       for code, value in talk.answers.items()}}
    if place.lat is not None and place.long is not None:
        fields.update(lat=place.lat, long=place.long)
    try:
        form = NewServiceRequest.model_validate(fields)
        receipt = intake.submit_request(form, town, catalogue_of(ports.towns, town), None,
                                        ports.intake, channel="sms", replies_itself=True)
    except (ValidationError, Town311Error):
        log.exception("a report by text could not be filed", extra={"town": town.town_id})
        return [say(talk.language, "not_filed", town=_name(town))]
    number = receipt.tracking_number or receipt.service_request_id
    request = ports.requests.get(town.town_id, receipt.service_request_id,
                                 with_timeline=False)
    expected = _expected(town, request, talk.language) if request is not None else ""
    link = _photo_link(ports, town, number, receipt.token)
    if link is None:
        return [say(talk.language, "filed_no_link", number=number,
                    service=talk.service_name, expected=expected)]
    said = phrase(talk.language, "filed", number=number, service=talk.service_name,
                  expected=expected, link=link)
    if segments(said) <= MAX_SEGMENTS:
        return [said]
    # A receipt with a letter outside the GSM alphabet (Spanish's "está", "semáforo") goes
    # as UCS-2, 134 characters in two segments: the link, cut off, would be useless. It
    # goes in a text of its own instead.
    return [say(talk.language, "filed_no_link", number=number, service=talk.service_name,
                expected=expected),
            say(talk.language, "add_photo", number=number, link=link)]


def _photo_link(ports: SmsPorts, town: Town, number: str, token: str) -> str | None:
    """A one-time link that opens the report's "add a photo" page in a browser: random,
    kept only as its hash, holding the request's token sealed with it, for a day."""
    if not ports.base_url:
        return None
    secret = new_secret()
    expires = int(ports.now().timestamp()) + PHOTO_LINK_SECONDS
    try:
        ports.conversations.save_photo_link(town.town_id, secret_hash(secret), number,
                                            _seal(token, secret), expires)
    except StorageUnavailable:
        log.error("photo link not stored", extra={"town": town.town_id})
        return None
    return f"{ports.base_url.rstrip('/')}/towns/{town.town_id}/p/{secret}"


def open_photo_link(conversations: SmsConversations, town: Town, secret: str,
                    now: datetime) -> tuple[str, str]:
    """A photo link was opened: (tracking number, the request's token), once; NotFound
    when it is not valid (used, expired, or never made)."""
    found = conversations.take_photo_link(town.town_id, secret_hash(secret or ""),
                                          int(now.timestamp())) if secret else None
    if found is None:
        raise NotFound("this link is not valid (it may have been used, or be too old)")
    number, sealed = found
    return number, _unseal(sealed, secret)


# The request's token rides in the photo link's item, XORed with a keystream drawn from the
# link's secret, which the table does not hold (only its hash): the link holder can open
# it, someone reading the table cannot.
_SEAL_LABEL = b"town311 sms photo link v1"


def _keystream(secret: str, length: int) -> bytes:
    key = hashlib.sha256(secret.encode()).digest()
    blocks = (hmac.new(key, _SEAL_LABEL + bytes([n]), hashlib.sha256).digest()
              for n in range(length // 32 + 1))
    return b"".join(blocks)[:length]


def _seal(token: str, secret: str) -> str:
    plain = token.encode()
    return bytes(a ^ b for a, b in zip(plain, _keystream(secret, len(plain)),
                                       strict=True)).hex()


def _unseal(sealed: str, secret: str) -> str:
    raw = bytes.fromhex(sealed)
    return bytes(a ^ b for a, b in zip(raw, _keystream(secret, len(raw)),
                                       strict=True)).decode()
