"""Tracking numbers people can read over the phone, and the people who follow a request.

A tracking number is 8 characters of Crockford's base 32 (no I, L, O or U, so nothing
reads as another letter or a word), shown as ``K7QD-3M2P``: 32⁸ ≈ 10¹² numbers per town.
Typed back, case, dashes and spaces do not matter and O/I/L read as 0/1/1.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
REPORTER, FOLLOWER = "reporter", "follower"
EMAIL, SMS = "email", "sms"


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
    """SHA-256 of the e-mail (lower case) and the phone (its digits): how a person is
    found again without storing who they are in a key. The phone must be E.164 already
    (``chalicelib.domain.phones.e164``), so that every way of writing it is one hash."""
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
    # Legacy only: the key of the stop link e-mailed before every message carried a link
    # of its own (see ``stop_token``). New followers have none.
    unsubscribe_key: str = ""
    # The channels ("email", "sms") whose address the person proved to hold: a link or a
    # code that reached it, or a signed-in session. Nothing is sent to an unproved address
    # but the one message that asks to prove it, so nobody can sign a stranger up.
    confirmed: tuple[str, ...] = ()

    @property
    def contact_hashes(self) -> list[str]:
        return contact_hashes(self.email, self.phone)

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(c for c, v in ((EMAIL, self.email), (SMS, self.phone)) if v)

    def address(self, channel: str) -> str | None:
        return self.email if channel == EMAIL else self.phone if channel == SMS else None

    def is_confirmed(self, channel: str) -> bool:
        return channel in self.confirmed

    def without(self, channel: str) -> Follower:
        """The same follower without one of their addresses (they stopped it)."""
        return replace(self, email=None if channel == EMAIL else self.email,
                       phone=None if channel == SMS else self.phone,
                       confirmed=tuple(c for c in self.confirmed if c != channel))

    @staticmethod
    def make(role: str, since: datetime, email: str | None, phone: str | None,
             language: str | None, confirmed: tuple[str, ...] = ()) -> Follower:
        """``phone`` must already be E.164 (``chalicelib.domain.phones``)."""
        hashes = contact_hashes(email, phone)
        if not hashes:
            raise ValueError("a follower needs an e-mail or a phone")
        return Follower(hashes[0], role, since, email, phone, language, "", confirmed)


def new_secret() -> str:
    """A capability a resident holds (a confirm or stop link): 128 random bits, URL-safe.
    Only its ``secret_hash`` is stored; ids are public, so nothing is derived from one."""
    return secrets.token_urlsafe(16)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(f"secret:{secret}".encode()).hexdigest()
