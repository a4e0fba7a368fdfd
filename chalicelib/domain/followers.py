"""Tracking numbers people can read over the phone, and the people who follow a request.

A tracking number is 8 characters of Crockford's base 32 (no I, L, O or U, so nothing
reads as another letter or a word), shown as ``K7QD-3M2P``: 32⁸ ≈ 10¹² numbers per town.
Typed back, case, dashes and spaces do not matter and O/I/L read as 0/1/1.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
REPORTER, FOLLOWER = "reporter", "follower"


def new_tracking_number() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def tracking_key(text: str) -> str | None:
    """The stored form of a number as someone typed it, or None if it cannot be one."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -_.").translate(_READ_AS)
    if len(cleaned) != 8 or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def contact_hashes(email: str | None, phone: str | None) -> list[str]:
    """SHA-256 of the e-mail (lower case) and the phone (digits only): how a person is
    found again without storing who they are in a key."""
    found = []
    if email and email.strip():
        found.append(hashlib.sha256(f"email:{email.strip().lower()}".encode()))
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if digits:
        found.append(hashlib.sha256(f"phone:{digits}".encode()))
    return [h.hexdigest() for h in found]


@dataclass(frozen=True)
class Follower:
    """Someone told when a request moves: its reporter, or a neighbour who said "me too".

    ``follower_id`` is the first of their contact hashes, so the same person following
    twice is one follower. Their contact details are private: only the count is public.
    """

    follower_id: str
    role: str  # REPORTER or FOLLOWER
    since: datetime
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    # The key in their "stop these messages" link. Kept as is (it is put in every
    # message); all it can do is stop messages to this person.
    unsubscribe_key: str = ""

    @property
    def contact_hashes(self) -> list[str]:
        return contact_hashes(self.email, self.phone)

    @staticmethod
    def make(role: str, since: datetime, email: str | None, phone: str | None,
             language: str | None) -> Follower:
        hashes = contact_hashes(email, phone)
        if not hashes:
            raise ValueError("a follower needs an e-mail or a phone")
        return Follower(hashes[0], role, since, email, phone, language,
                        secrets.token_urlsafe(18))


def e164(phone: str, country_code: str = "1") -> str | None:
    """A phone as SMS gateways want it (``+15550100123``), or None if it cannot be one.

    Numbers written without a country code take the town's (North American numbering:
    ten digits, or eleven starting with the country code)."""
    text = phone.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+") or text.startswith("00"):
        digits = digits[2:] if text.startswith("00") else digits
    elif len(digits) == 10 and country_code == "1":
        digits = "1" + digits
    elif not digits.startswith(country_code):
        digits = country_code + digits
    return f"+{digits}" if 8 <= len(digits) <= 15 and digits[0] != "0" else None
