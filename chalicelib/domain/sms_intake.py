"""A report by text message, as a conversation: the resident's texts in, the town's
replies out, one step at a time. Pure: no clock, no store, no gateway.

"pothole outside 12 Oak St" → the service and the place are guessed → "Pothole at 12 Oak
St? Reply YES, or send the right address" (the top three services by number when the
guess is not sure; the address or nearest corner asked for when there is none) → the
service's required questions one at a time → the report is filed (``Outcome.action``
``FILE``: the service files it and sends the receipt, with a link to add a photo).

Keywords work at any step and never advance a report: HELP/AYUDA, STATUS/ESTADO
<number> (``Outcome.action`` ``STATUS``: the service looks the number up), CANCELAR ends
the report. (STOP, CANCEL, START and the other opt-out words are the carrier's and today's
``services.notices.text_back``: the service handles them before a conversation sees them.)

A conversation lives ``CONVERSATION_MINUTES`` after the resident's last text; a text after
that starts afresh. Its language is chosen from the first text (Spanish words, or the
town's default) and kept.

What the machine needs to know about the town comes in as ``TownFacts`` (the category
guess, the gazetteer, the catalogue's questions, and an answer to a question that is not a
report), so every branch can be tested without a town. Services and questions are asked
for in the conversation's language: their names, prompts and list values come back in it
(a town's own words without a translation as written), and a resident may answer by
those names.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.domain.sms_wording import (
    LANGUAGES,
    MAX_SEGMENTS,
    fit,
    numbered,
    phrase,
    say,
    segments,
)

CONVERSATION_MINUTES = 30
INBOUND_LIMIT = 300  # characters of a text read; a 1,600-character text is cut here
PLACE_TRIES = 2  # addresses not found before the place is taken as the resident wrote it
DESCRIPTION_LIMIT = 300

# Steps of an open conversation.
CHOOSE_SERVICE, ASK_PLACE, CONFIRM_PLACE, QUESTION = (
    "choose_service", "ask_place", "confirm_place", "question")
# What the service does for the machine.
STATUS, FILE = "status", "file"

YES_WORDS = frozenset({"YES", "Y", "YEP", "YEAH", "OK", "SI", "SÍ", "S"})
HELP_WORDS = {"HELP": "en", "INFO": "en", "AYUDA": "es"}
STATUS_WORDS = {"STATUS": "en", "ESTADO": "es"}
CANCEL_WORDS = {"CANCELAR": "es", "CANCELA": "es"}

# Words that say a text is Spanish: one of the first kind, or two of the second.
_SPANISH_WORDS = """bache baches hola calle frente esquina farola basura ayuda estado
gracias cancelar acera semaforo semáforo árbol arbol fuga hay está dónde donde cuándo
cuando qué cómo buenas buenos dias días señor avenida"""
_SPANISH_WEAK_WORDS = "en la el de del por un una si sí los las esta"
_QUESTION_WORDS = """when what how where who why is are do does can will which
cuándo cuando qué que cómo como dónde donde quién cuál puedo"""
_SPANISH = frozenset(_SPANISH_WORDS.split())
_SPANISH_WEAK = frozenset(_SPANISH_WEAK_WORDS.split())
_QUESTION_STARTS = frozenset(_QUESTION_WORDS.split())
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class FoundPlace:
    """Where the report is: a gazetteer entry (with its point), or the resident's own
    words when the map has no such place (no point; staff locate it)."""

    label: str
    lat: float | None = None
    long: float | None = None


@dataclass(frozen=True)
class ServiceChoice:
    code: str
    name: str


@dataclass(frozen=True)
class Question:
    """A required question of the service, as a text asks it."""

    code: str
    datatype: str  # Open311's: string, number, datetime, text, singlevaluelist, multi...
    prompt: str
    choices: tuple[tuple[str, str], ...] = ()  # (key, name) of a list's values


class TownFacts(Protocol):
    """What the conversation asks of the town (services.sms_intake gives the real one)."""

    @property
    def name(self) -> str:
        """The town's name, as residents know it."""
        ...

    def guess(self, text: str, language: str) -> tuple[list[ServiceChoice], bool]:
        """The services ``text`` may be about, best first (at most 3), named in
        ``language``, and whether the first is sure enough to take without asking."""
        ...

    def find_place(self, text: str) -> FoundPlace | None:
        """The place ``text`` names (an address, a corner, a landmark), if the town's
        gazetteer knows it."""
        ...

    def questions(self, service_code: str, language: str) -> list[Question]:
        """The service's required questions, in the catalogue's order, asked in
        ``language`` (prompts and list values' names)."""
        ...

    def answer(self, text: str, language: str) -> str | None:
        """An answer to a question that is not a report ("when is leaf pickup?"), as one
        text, or None."""
        ...


@dataclass(frozen=True)
class Conversation:
    """One resident's report in progress."""

    language: str
    step: str
    description: str
    started_at: datetime
    updated_at: datetime
    service_code: str | None = None
    service_name: str | None = None
    choices: tuple[ServiceChoice, ...] = ()
    place: FoundPlace | None = None
    place_tries: int = 0
    answers: dict[str, str | list[str]] = field(default_factory=dict)
    question: str | None = None  # the code of the question last asked
    version: int = 0  # as stored: a save is conditional on it

    def expired(self, now: datetime) -> bool:
        return now - self.updated_at >= timedelta(minutes=CONVERSATION_MINUTES)

    def expires_at(self) -> datetime:
        return self.updated_at + timedelta(minutes=CONVERSATION_MINUTES)


@dataclass(frozen=True)
class Outcome:
    """What one text leads to: the conversation as it now stands (None: none is open),
    the replies to send, and what the service must do besides (``STATUS`` of the number
    in ``argument``; ``FILE`` the report ``conversation`` holds, then forget it)."""

    conversation: Conversation | None
    replies: tuple[str, ...] = ()
    action: str | None = None
    argument: str = ""
    ended: bool = False  # an open conversation was ended (cancelled or filed)


# --- the text as read -------------------------------------------------------------------


def _unwanted(ch: str) -> bool:
    """Emoji, their modifiers and joiners, and invisible characters: dropped, so that a
    thumbs-up never reaches the guess, the gazetteer or the stored description."""
    category = unicodedata.category(ch)
    return (category in ("So", "Sk", "Cs", "Co", "Cn", "Cf", "Cc")
            or 0xFE00 <= ord(ch) <= 0xFE0F or 0x1F3FB <= ord(ch) <= 0x1F3FF) \
        and ch not in "\n"


def read_text(raw: str) -> tuple[str, int | None]:
    """The text as the conversation reads it: emoji and control characters dropped,
    spaces collapsed, NFC, at most ``INBOUND_LIMIT`` characters; and how many characters
    were kept when it had to be cut (None when it was not)."""
    text = unicodedata.normalize("NFC", raw or "")
    if text.strip().startswith("\U0001F44D") and not text.strip().strip(
            "\U0001F44D\U0001F3FB\U0001F3FC\U0001F3FD\U0001F3FE\U0001F3FF\ufe0f"):
        text = "YES"  # a thumbs-up alone is how many phones answer yes
    text = "".join(" " if ch in "\r\n\t" else ch for ch in text if not _unwanted(ch))
    text = " ".join(text.split())
    if len(text) > INBOUND_LIMIT:
        return text[:INBOUND_LIMIT].rstrip(), INBOUND_LIMIT
    return text, None


def detect_language(text: str, default: str) -> str:
    """Spanish when the text says so (one telling word, or two common ones), else the
    town's default (English when the town's number does not speak its language)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if any(w in _SPANISH for w in words) or sum(w in _SPANISH_WEAK for w in words) >= 2:
        return "es"
    return default if default in LANGUAGES else "en"


def _first_word(text: str) -> tuple[str, str]:
    head, _, rest = text.strip().partition(" ")
    return head.upper().strip(".!,;:¡¿?"), rest.strip()


def _is_question(text: str) -> bool:
    words = [w.lower() for w in _WORD.findall(text)]
    return text.rstrip().endswith("?") or text.lstrip().startswith("¿") or bool(
        words and words[0] in _QUESTION_STARTS)


# --- the machine --------------------------------------------------------------------------


def receive(conversation: Conversation | None, raw: str, now: datetime, facts: TownFacts,
            default_language: str) -> Outcome:
    """One text from the resident, given the conversation open for their phone (None, or
    an expired one: a fresh start)."""
    text, kept = read_text(raw)
    open_ = conversation if conversation and not conversation.expired(now) else None
    outcome = _receive(open_, text, now, facts, default_language)
    if kept is None or not outcome.replies:
        return outcome
    talk = outcome.conversation or open_
    language = talk.language if talk else detect_language(text, default_language)
    first = fit(phrase(language, "kept_part", kept=kept) + outcome.replies[0])
    return replace(outcome, replies=(first, *outcome.replies[1:]))


def _receive(open_: Conversation | None, text: str, now: datetime, facts: TownFacts,
             default_language: str) -> Outcome:
    word, rest = _first_word(text)
    language = open_.language if open_ else detect_language(text, default_language)
    if word in HELP_WORDS:
        language = open_.language if open_ else HELP_WORDS[word]
        return Outcome(open_, (say(language, "help", town=facts.name),))
    if word in STATUS_WORDS:
        return Outcome(open_, (), STATUS, rest[:40])
    if word in CANCEL_WORDS:
        return Outcome(None, (say(open_.language if open_ else CANCEL_WORDS[word],
                                  "cancelled"),), ended=open_ is not None)
    if open_ is None:
        if word in YES_WORDS and not rest:
            return Outcome(None, (say(language, "no_report"),))
        return _start(text, now, facts, language)
    talk = replace(open_, updated_at=now)
    if open_.step == CHOOSE_SERVICE:
        return _choose(talk, text, facts)
    if open_.step in (ASK_PLACE, CONFIRM_PLACE):
        return _place(talk, text, word, facts)
    return _answer(talk, text, facts)


def _start(text: str, now: datetime, facts: TownFacts, language: str) -> Outcome:
    if not text:
        return Outcome(None, (say(language, "not_understood"),))
    guesses, sure = facts.guess(text, language)
    if _is_question(text) or not guesses:
        # A question that is not a report (when is leaf pickup?) may have an answer.
        answer = facts.answer(text, language)
        if answer:
            return Outcome(None, (fit(answer),))
    if not guesses:
        return Outcome(None, (say(language, "not_understood"),))
    talk = Conversation(language=language, step=CHOOSE_SERVICE,
                        description=text[:DESCRIPTION_LIMIT], started_at=now, updated_at=now,
                        place=facts.find_place(text))
    if sure:
        return _after_service(replace(talk, service_code=guesses[0].code,
                                      service_name=guesses[0].name), facts)
    choices = tuple(guesses[:3])
    return Outcome(replace(talk, choices=choices), (say(
        language, "choose_service", choices=numbered([c.name for c in choices])),))


def _choose(talk: Conversation, text: str, facts: TownFacts) -> Outcome:
    picked = _pick(text, [(c.code, c.name) for c in talk.choices])
    if picked is None:
        return Outcome(talk, (say(talk.language, "choose_again",
                                  choices=numbered([c.name for c in talk.choices])),))
    choice = next(c for c in talk.choices if c.code == picked)
    return _after_service(replace(talk, service_code=choice.code, service_name=choice.name,
                                  choices=()), facts)


def _after_service(talk: Conversation, facts: TownFacts) -> Outcome:
    if talk.place is not None:
        return Outcome(replace(talk, step=CONFIRM_PLACE), (say(
            talk.language, "confirm_place", service=talk.service_name,
            place=talk.place.label),))
    return Outcome(replace(talk, step=ASK_PLACE), (say(
        talk.language, "ask_place", service=talk.service_name),))


def _place(talk: Conversation, text: str, word: str, facts: TownFacts) -> Outcome:
    if word in YES_WORDS and talk.step == CONFIRM_PLACE and talk.place is not None:
        return _next_question(talk, facts)
    if not text and talk.step == CONFIRM_PLACE and talk.place is not None:
        return Outcome(talk, (say(talk.language, "confirm_place", service=talk.service_name,
                                  place=talk.place.label),))
    if word in YES_WORDS or not text:
        return Outcome(talk, (say(talk.language, "ask_place", service=talk.service_name),))
    found = facts.find_place(text)
    if found is not None:
        return Outcome(replace(talk, step=CONFIRM_PLACE, place=found, place_tries=0), (say(
            talk.language, "confirm_place", service=talk.service_name, place=found.label),))
    tries = talk.place_tries + 1
    typed = text[:100]
    if tries >= PLACE_TRIES:
        # The map does not know it: file it as written (staff place it), if they agree.
        return Outcome(replace(talk, step=CONFIRM_PLACE, place=FoundPlace(typed),
                               place_tries=tries),
                       (say(talk.language, "place_as_typed", typed=typed),))
    return Outcome(replace(talk, step=ASK_PLACE, place=None, place_tries=tries),
                   (say(talk.language, "place_not_found", typed=typed),))


def _next_question(talk: Conversation, facts: TownFacts) -> Outcome:
    for question in facts.questions(talk.service_code or "", talk.language):
        if question.code not in talk.answers:
            return Outcome(replace(talk, step=QUESTION, question=question.code),
                           (prompt(question, talk.language),))
    return Outcome(replace(talk, question=None), (), FILE, ended=True)


def _answer(talk: Conversation, text: str, facts: TownFacts) -> Outcome:
    question = next((q for q in facts.questions(talk.service_code or "", talk.language)
                     if q.code == talk.question), None)
    if question is None:  # the catalogue changed meanwhile: ask what is left
        return _next_question(talk, facts)
    value = parse_answer(question, text)
    if value is None:
        asked = prompt(question, talk.language)
        again = phrase(talk.language, "answer_again", prompt=asked)
        # The choices matter more than the apology: a question whose list fills the
        # reply (a Spanish one is sent as UCS-2, 134 characters) is asked again as is.
        return Outcome(talk, (again if segments(again) <= MAX_SEGMENTS else asked,))
    return _next_question(replace(talk, answers={**talk.answers, question.code: value}),
                          facts)


def prompt(question: Question, language: str) -> str:
    """How a question is asked by text (list values by number)."""
    choices = numbered([name for _, name in question.choices])
    name = {"singlevaluelist": "question_list", "multivaluelist": "question_many",
            "number": "question_number", "datetime": "question_date"}.get(
        question.datatype, "question_text")
    return say(language, name, question=question.prompt, choices=choices)


def _pick(text: str, choices: list[tuple[str, str]]) -> str | None:
    """One choice by its number, or by its name or key as written."""
    typed = text.strip().strip(".!").casefold()
    if typed.isdigit() and 1 <= int(typed) <= len(choices):
        return choices[int(typed) - 1][0]
    return next((key for key, name in choices
                 if typed and typed in (key.casefold(), name.casefold())), None)


def parse_answer(question: Question, text: str) -> str | list[str] | None:
    """The resident's answer in the catalogue's terms (a value's key, keys, a number, a
    date, words), or None when it does not fit the question."""
    if question.datatype == "singlevaluelist":
        return _pick(text, list(question.choices))
    if question.datatype == "multivaluelist":
        parts = [p for p in re.split(r"[\s,;&/]+|\band\b|\by\b", text) if p.strip()]
        picked = [_pick(p, list(question.choices)) for p in parts]
        if not picked or any(p is None for p in picked):
            whole = _pick(text, list(question.choices))
            return [whole] if whole is not None else None
        return list(dict.fromkeys(p for p in picked if p is not None))
    if question.datatype == "number":
        try:
            number = float(text.strip().replace(",", "."))
        except ValueError:
            return None
        return text.strip().replace(",", ".") if math.isfinite(number) else None
    if question.datatype == "datetime":
        from chalicelib.domain.instants import DateRefused, parse_instant

        try:
            parse_instant(text, naive_allowed=True)
        except DateRefused:
            return None
        return text.strip()
    limit = 255 if question.datatype == "string" else 4000
    return text.strip()[:limit] or None
