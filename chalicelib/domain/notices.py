"""Messages to the people who follow a request: which events they hear about, the words
(per town, per language), and when a text message may be sent.

Templates use ``$name`` placeholders (``string.Template``), not a template language: a
town admin edits them, and a placeholder can only ever insert a value, never run code.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain.errors import InvalidInput, Problem

# Timeline events a follower hears about; every other event (routing, internal notes,
# hand-offs between departments) is the town's business, not the resident's.
ANNOUNCED = ("submitted", "acknowledged", "closed", "reopened", "note", "disputed")
KINDS = ANNOUNCED + ("dispute_alert",)  # dispute_alert: to the department's supervisors
PLACEHOLDERS = frozenset({
    "town", "tracking_number", "service_name", "address", "summary", "note", "link",
    "department", "expected", "dispute_days", "when"})
DEFAULT_QUIET_HOURS = ("21:00", "08:00")
# The languages messages can be written in (ISO 639-1): a person's choice or a town's
# offer outside these gets the town's first one of these, else English. Dates in messages
# are formatted by babel in the language, and the deployment package carries babel's
# locale data for these alone (infra/build_package.py reads this tuple): add one here.
LANGUAGES = ("en", "es", "fr", "pt", "zh", "vi", "ko", "tl", "ht", "ar", "ru", "pl", "it",
             "de")


@dataclass(frozen=True)
class Wording:
    subject: str
    text: str


DEFAULT_TEMPLATES: dict[str, dict[str, Wording]] = {
    "en": {
        "submitted": Wording(
            "$town: we received your report $tracking_number",
            "$town received your $service_name report$address. Your tracking number is "
            "$tracking_number. Follow it: $link"),
        "acknowledged": Wording(
            "$town: $tracking_number is with $department",
            "$department has your $service_name report $tracking_number.$expected "
            "Follow it: $link"),
        "closed": Wording(
            "$town: $tracking_number is closed",
            "Your $service_name report $tracking_number was closed ($summary). ${note}"
            "Not fixed? Tell us within $dispute_days days: $link"),
        "reopened": Wording(
            "$town: $tracking_number was reopened",
            "Your $service_name report $tracking_number was reopened. ${note}$link"),
        "disputed": Wording(
            "$town: $tracking_number was reopened",
            "Thank you: $tracking_number was reopened and sent back to $department. $link"),
        "note": Wording(
            "$town: update on $tracking_number",
            "Update on your $service_name report $tracking_number: $note $link"),
        "dispute_alert": Wording(
            "Disputed closure: $tracking_number ($service_name)",
            "A resident says $tracking_number ($service_name$address) is not fixed and it "
            "was reopened to $department. Their note: $note $link"),
    },
    "es": {
        "submitted": Wording(
            "$town: recibimos su reporte $tracking_number",
            "$town recibió su reporte de $service_name$address. Su número de seguimiento "
            "es $tracking_number. Sígalo aquí: $link"),
        "acknowledged": Wording(
            "$town: $tracking_number está con $department",
            "$department tiene su reporte de $service_name $tracking_number.$expected "
            "Sígalo aquí: $link"),
        "closed": Wording(
            "$town: $tracking_number está cerrado",
            "Su reporte de $service_name $tracking_number se cerró ($summary). ${note}"
            "¿No está resuelto? Díganos en los próximos $dispute_days días: $link"),
        "reopened": Wording(
            "$town: $tracking_number se reabrió",
            "Su reporte de $service_name $tracking_number se reabrió. ${note}$link"),
        "disputed": Wording(
            "$town: $tracking_number se reabrió",
            "Gracias: $tracking_number se reabrió y volvió a $department. $link"),
        "note": Wording(
            "$town: novedades sobre $tracking_number",
            "Novedades sobre su reporte de $service_name $tracking_number: $note $link"),
        "dispute_alert": Wording(
            "Cierre disputado: $tracking_number ($service_name)",
            "Un residente dice que $tracking_number ($service_name$address) no está "
            "resuelto y se reabrió a $department. Su nota: $note $link"),
    },
}

# What every message ends with, by channel: how to stop them.
SMS_FOOTER = {"en": " Reply STOP to opt out.", "es": " Responda STOP para no recibir más."}
EMAIL_FOOTER = {"en": "\n\nStop these messages: $unsubscribe",
                "es": "\n\nDejar de recibir estos mensajes: $unsubscribe"}
# The one message an address that has not proved itself gets carries a confirm link:
# a report's receipt ends with RECEIPT_CONFIRM; a "me too" gets FOLLOW_CONFIRM.
RECEIPT_CONFIRM = {
    "en": "\n\nTo get messages as it moves, confirm this address: $link",
    "es": "\n\nPara recibir mensajes sobre su avance, confirme esta dirección: $link",
}
FOLLOW_CONFIRM = {
    "en": ("$town 311: confirm updates about $tracking_number",
           "Someone asked for messages about $service_name $tracking_number to be sent "
           "here. To get them, confirm: $link If it was not you, ignore this."),
    "es": ("$town 311: confirme avisos sobre $tracking_number",
           "Alguien pidió recibir aquí mensajes sobre $service_name $tracking_number. Para "
           "recibirlos, confirme: $link Si no fue usted, ignore este mensaje."),
}
# How resolutions read in a message, per language.
RESOLUTION_WORDS = {
    "en": {"fixed": "fixed", "duplicate": "a duplicate", "not_ours": "not handled by the "
           "town", "no_action_needed": "no action needed", "referred": "referred"},
    "es": {"fixed": "resuelto", "duplicate": "duplicado", "not_ours": "no corresponde al "
           "municipio", "no_action_needed": "no requiere acción", "referred": "derivado"},
}


@dataclass(frozen=True)
class NoticeSettings:
    """A town's choices about messages to residents."""

    quiet_hours: tuple[str, str] | None = DEFAULT_QUIET_HOURS  # local "HH:MM" from, until
    dispute_window_days: int = 14
    # language → kind → wording; what a town changes replaces the default for that kind
    templates: dict[str, dict[str, Wording]] = field(default_factory=dict)


def language_for(wanted: str | None, town_languages: tuple[str, ...]) -> str:
    """The language to write in: the person's choice if the town offers it (or we have
    words for it), else the town's first language, else English."""
    offered = [base for lang in town_languages
               if (base := lang.split("-")[0].lower()) in LANGUAGES] or ["en"]
    if wanted:
        base = wanted.split("-")[0].lower()
        if base in offered or base in DEFAULT_TEMPLATES:
            return base
    return offered[0] if offered[0] in DEFAULT_TEMPLATES else "en"


def wording(settings: NoticeSettings, language: str, kind: str) -> Wording:
    own = settings.templates.get(language, {}).get(kind)
    if own is not None:
        return own
    return DEFAULT_TEMPLATES.get(language, DEFAULT_TEMPLATES["en"])[kind]


def fill(template: str, values: dict[str, str]) -> str:
    """Put the values in; a placeholder the template does not know stays as written."""
    return string.Template(template).safe_substitute(values).strip()


def check_templates(templates: dict[str, dict[str, dict[str, str]]]) -> dict[
        str, dict[str, Wording]]:
    """A town's templates as wordings, or InvalidInput naming every problem."""
    problems: list[Problem] = []
    found: dict[str, dict[str, Wording]] = {}
    for language, kinds in templates.items():
        if language.lower() not in LANGUAGES:
            problems.append(Problem(f"templates.{language}",
                                    "must be one of " + ", ".join(LANGUAGES)))
            continue
        for kind, parts in kinds.items():
            where = f"templates.{language}.{kind}"
            if kind not in KINDS:
                problems.append(Problem(where, f"is not a message; one of {', '.join(KINDS)}"))
                continue
            for part in ("subject", "text"):
                value = parts.get(part) or ""
                if not value.strip():
                    problems.append(Problem(f"{where}.{part}", "is required"))
                    continue
                try:
                    names = {m.group("named") or m.group("braced") for m in
                             string.Template.pattern.finditer(value)
                             if m.group("named") or m.group("braced")}
                except ValueError:  # pragma: no cover - the pattern never raises
                    names = set()
                unknown = names - PLACEHOLDERS
                if unknown:
                    problems.append(Problem(f"{where}.{part}", "unknown placeholder "
                                            + ", ".join(f"${n}" for n in sorted(unknown))))
            found.setdefault(language.lower(), {})[kind] = Wording(
                parts.get("subject", ""), parts.get("text", ""))
    if problems:
        raise InvalidInput.of(problems)
    return found


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_until(now: datetime, timezone: str, quiet_hours: tuple[str, str] | None
                ) -> datetime | None:
    """If ``now`` falls in the town's quiet hours, when they end (UTC-aware); else None.

    Quiet hours may wrap midnight (21:00 → 08:00). They end at the local wall-clock time,
    whatever daylight-saving did overnight.
    """
    if not quiet_hours:
        return None
    start, end = _clock(quiet_hours[0]), _clock(quiet_hours[1])
    if start == end:
        return None
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    at = local.time().replace(tzinfo=None)
    wraps = start > end
    inside = (at >= start or at < end) if wraps else (start <= at < end)
    if not inside:
        return None
    day = local.date() + timedelta(days=1) if wraps and at >= start else local.date()
    return datetime.combine(day, end, tzinfo=zone)
