"""Every text the town's number sends back to a resident in a conversation, in English and
Spanish, and what one text costs: its SMS segments.

A reply is at most ``MAX_SEGMENTS`` segments (``fit`` cuts what the catalogue or a note
could make longer), so a conversation's cost stays known: each reply is one or two
segments of the town's monthly SMS cap.

Segments: a text in the GSM 03.38 alphabet is 160 characters in one segment, 153 per
segment when it needs several (an extension character such as ``€`` or ``{`` takes two);
anything else goes as UCS-2, 70 UTF-16 units in one, 67 per segment in several (an emoji
outside the Basic Multilingual Plane takes two units).
"""

from __future__ import annotations

from collections.abc import Mapping

MAX_SEGMENTS = 2
LANGUAGES = ("en", "es")

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENSION = frozenset("^{}\\[~]|€\f")


def _gsm_units(text: str) -> int | None:
    """The text's length in GSM-7 septets, or None when it needs UCS-2."""
    units = 0
    for ch in text:
        if ch in _GSM_BASIC:
            units += 1
        elif ch in _GSM_EXTENSION:
            units += 2
        else:
            return None
    return units


def segments(text: str) -> int:
    """How many SMS segments ``text`` is sent as (what the carrier bills)."""
    gsm = _gsm_units(text)
    if gsm is not None:
        return 1 if gsm <= 160 else -(-gsm // 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


def fit(text: str, max_segments: int = MAX_SEGMENTS) -> str:
    """``text`` cut at a word (with an ellipsis) to at most ``max_segments`` segments.

    The ellipsis is three dots when the text is otherwise GSM-7: "…" is not in that
    alphabet, and one such character sends the whole text as UCS-2, which holds 134
    characters in two segments instead of 306."""
    if segments(text) <= max_segments:
        return text
    more = "..." if _gsm_units(text) is not None else "…"
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits with its ellipsis
        middle = (low + high + 1) // 2
        if segments(text[:middle].rstrip() + more) <= max_segments:
            low = middle
        else:
            high = middle - 1
    cut = text[:low]
    # At a word: a cut inside one ("the cu...") reads as a typo.
    if low < len(text) and not text[low].isspace() and " " in cut.strip():
        cut = cut.rstrip().rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + more


# Each reply by name, per language. ``{...}`` are filled by ``say``; no reply depends on
# anything but these words and the values given.
REPLIES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "help": "{town} 311 by text: say what's wrong and where, e.g. 'pothole outside 12 "
                "Oak St'. STATUS <number> for a report's status. CANCELAR ends a report. "
                "STOP ends all texts.",
        "no_report": "No report in progress. Text what's wrong and where, e.g. 'pothole "
                     "outside 12 Oak St'.",
        "not_understood": "Sorry, we couldn't tell what the problem is. Text what's wrong "
                          "and where, e.g. 'pothole outside 12 Oak St'. HELP for help.",
        "confirm_place": "{service} at {place}? Reply YES, or send the right address.",
        "ask_place": "{service}: where is it? Send the address or the nearest corner, "
                     "e.g. 'Oak St & 3rd Ave'.",
        "place_not_found": "We couldn't find '{typed}'. Send the address or the nearest "
                           "corner, e.g. 'Oak St & 3rd Ave'.",
        "place_as_typed": "We couldn't find it on our map. File it at '{typed}' as you "
                          "wrote it? Reply YES, or send another address.",
        "choose_service": "Which problem is it? Reply {choices}.",
        "choose_again": "Please reply with one number: {choices}.",
        "question_list": "{question} Reply {choices}.",
        "question_many": "{question} Reply one or more numbers, e.g. 1 3: {choices}.",
        "question_number": "{question} Reply with a number.",
        "question_date": "{question} Reply with a date, e.g. 2026-11-20 08:00.",
        "question_text": "{question}",
        "answer_again": "Sorry, that isn't one of the choices. {prompt}",
        "filed": "Thanks! Report {number} ({service}) is filed.{expected} Add a photo: "
                 "{link} Text STATUS {number} for updates.",
        "filed_no_link": "Thanks! Report {number} ({service}) is filed.{expected} Text "
                         "STATUS {number} for updates.",
        "add_photo": "Add a photo to report {number}: {link}",
        "expected": " Expected by {day}.",
        "not_filed": "Sorry, we couldn't file your report just now. Please try again "
                     "later or call {town}.",
        "cancelled": "Report cancelled. Text again any time.",
        "status": "{number} {service}{place}: {status}.{expected}{note}",
        "status_open": "open",
        "status_closed": "closed",
        "status_note": " Latest: {note}",
        "status_unknown": "No report {number} in {town}. Check the number and try again.",
        "status_how": "Text STATUS and the report number, e.g. STATUS K7QD-3M2P.",
        "too_many": "Too many messages from this phone. Please wait an hour, or call "
                    "{town}.",
        "kept_part": "(Long text: we read the first {kept} characters.) ",
        "at": " at {place}",
    },
    "es": {
        "help": "{town} 311 por texto: diga qué pasa y dónde, p. ej. 'bache frente a 12 "
                "Oak St'. ESTADO <número> para ver un reporte. CANCELAR termina un "
                "reporte. STOP detiene todo.",
        "no_report": "No hay ningún reporte en curso. Escriba qué pasa y dónde, p. ej. "
                     "'bache frente a 12 Oak St'.",
        "not_understood": "No entendimos cuál es el problema. Escriba qué pasa y dónde, "
                          "p. ej. 'bache frente a 12 Oak St'. AYUDA para ayuda.",
        "confirm_place": "¿{service} en {place}? Responda SI, o envíe la dirección "
                         "correcta.",
        "ask_place": "{service}: ¿dónde está? Envíe la dirección o la esquina más "
                     "cercana, p. ej. 'Oak St & 3rd Ave'.",
        "place_not_found": "No encontramos '{typed}'. Envíe la dirección o la esquina más "
                           "cercana, p. ej. 'Oak St & 3rd Ave'.",
        "place_as_typed": "No está en nuestro mapa. ¿Lo registramos en '{typed}' tal como "
                          "lo escribió? Responda SI, o envíe otra dirección.",
        "choose_service": "¿Cuál es el problema? Responda {choices}.",
        "choose_again": "Responda con un solo número: {choices}.",
        "question_list": "{question} Responda {choices}.",
        "question_many": "{question} Responda uno o más números, p. ej. 1 3: {choices}.",
        "question_number": "{question} Responda con un número.",
        "question_date": "{question} Responda con una fecha, p. ej. 2026-11-20 08:00.",
        "question_text": "{question}",
        "answer_again": "Esa no es una de las opciones. {prompt}",
        "filed": "¡Gracias! El reporte {number} ({service}) está registrado.{expected} "
                 "Agregue una foto: {link} Escriba ESTADO {number} para novedades.",
        "filed_no_link": "¡Gracias! El reporte {number} ({service}) está registrado."
                         "{expected} Escriba ESTADO {number} para novedades.",
        "add_photo": "Agregue una foto al reporte {number}: {link}",
        "expected": " Fecha prevista: {day}.",
        "not_filed": "No pudimos registrar su reporte ahora. Inténtelo más tarde o llame "
                     "a {town}.",
        "cancelled": "Reporte cancelado. Escríbanos cuando quiera.",
        "status": "{number} {service}{place}: {status}.{expected}{note}",
        "status_open": "abierto",
        "status_closed": "cerrado",
        "status_note": " Último: {note}",
        "status_unknown": "No hay ningún reporte {number} en {town}. Revise el número.",
        "status_how": "Escriba ESTADO y el número del reporte, p. ej. ESTADO K7QD-3M2P.",
        "too_many": "Demasiados mensajes desde este teléfono. Espere una hora o llame a "
                    "{town}.",
        "kept_part": "(Texto largo: leímos los primeros {kept} caracteres.) ",
        "at": " en {place}",
    },
}


# A request's steps in words, for STATUS in a language other than the one staff write in:
# the step's own summary ("Sent to Public Works — Streets") is English, so the kind of step
# is said instead (as the track page does). A note keeps its own words.
EVENT_WORDS: Mapping[str, Mapping[str, str]] = {
    "es": {
        "submitted": "Reporte recibido",
        "routed": "Enviado al departamento",
        "handed_off": "Pasó a otro departamento",
        "declined": "Devuelto para asignarlo de nuevo",
        "acknowledged": "El departamento lo recibió",
        "in_progress": "Comenzó el trabajo",
        "on_hold": "Puesto en espera",
        "closed": "Cerrado",
        "reopened": "Reabierto",
        "disputed": "Reabierto: un vecino dice que no está resuelto",
        "merged": "Se le unió otro reporte del mismo problema",
        "photo_added": "Se añadió una foto",
        "escalated": "Se avisó a un supervisor",
        "confirmed": "El personal confirmó el servicio y el lugar",
    },
}


def step_words(language: str, kind: str, summary: str) -> str:
    """How STATUS names a request's latest step: in ``language``'s words for its kind
    when staff's English summary would not be understood, else the summary itself."""
    return EVENT_WORDS.get(language, {}).get(kind, summary)


def phrase(language: str, name: str, **values: object) -> str:
    """One reply's words filled in, uncut (a part of a longer reply)."""
    words = REPLIES.get(language, REPLIES["en"])
    return words[name].format(**{k: str(v) for k, v in values.items()})


def say(language: str, name: str, **values: object) -> str:
    """One whole reply, in ``language`` (English when the town's number does not speak
    it), cut to ``MAX_SEGMENTS``."""
    return fit(phrase(language, name, **values))


def numbered(names: list[str]) -> str:
    """Choices as a text lists them: ``1 Pothole, 2 Sidewalk damage, 3 Other``."""
    return ", ".join(f"{n} {name}" for n, name in enumerate(names, start=1))
