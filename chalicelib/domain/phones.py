"""Phone numbers as the town stores, hashes, compares and texts them: E.164 only.

A resident types ``(415) 555-0123``; the SMS gateway answers from ``+14155550123``. Unless
both become the same string before anything is stored, hashed or compared, a STOP from the
phone does not match the number they typed. ``phonenumbers`` reads every way of writing a
number in the town's country (``region``) and refuses what cannot be a number.
"""

from __future__ import annotations

from chalicelib.domain.errors import InvalidInput, Problem


def e164(phone: str, region: str = "US", field: str = "phone") -> str:
    """The number in E.164 (``+14155550123``), or InvalidInput naming ``field``."""
    import phonenumbers

    text = (phone or "").strip()
    if text.startswith("00"):  # the international prefix most of the world dials
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput.of([Problem(field, "is not a phone number")]) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput.of([Problem(field, "is not a valid phone number")])
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def e164_or_none(phone: str | None, region: str = "US") -> str | None:
    """``e164``, or None for something that is not a number (stored data, replies)."""
    if not phone:
        return None
    try:
        return e164(phone, region)
    except InvalidInput:
        return None


def country_of(number: str) -> str | None:
    """The ISO country of an E.164 number (``+14155550123`` → ``US``)."""
    import phonenumbers

    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None)) or None
    except phonenumbers.NumberParseException:
        return None


def region_of(locale: str) -> str:
    """The country of a town's locale ("en-US" → "US"), for numbers without one."""
    parts = locale.replace("_", "-").split("-")
    return parts[1].upper() if len(parts) > 1 and len(parts[1]) == 2 else "US"
