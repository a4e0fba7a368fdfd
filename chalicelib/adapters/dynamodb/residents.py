"""Residents, known only by the SHA-256 of their e-mail or phone: their index entries
(the requests they reported or follow), their sign-in codes and their sessions.

``PK=TOWN#<town>#RESIDENT#<hash>``: ``REQ#<id>``, ``FOLLOW#<id>`` and ``CODE``;
``PK=TOWN#<town>#RSESSION#<sha256(session)>, SK=SESSION``.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import get_or_none, storage_errors, written_if
from chalicelib.adapters.dynamodb.table import TableItem
from chalicelib.domain import followers
from chalicelib.domain.requests import Reporter


class ResidentItem(TableItem):
    """A resident's request, indexed by the SHA-256 of their e-mail or phone (never the
    contact itself), so they can follow their requests and have their details erased."""


class ResidentCodeItem(TableItem):
    """A one-time sign-in code for a resident (hashed), with its tries and expiry."""

    code_hash = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    expires_at = NumberAttribute()  # epoch seconds; TTL removes it, code checks it too


class ResidentSessionItem(TableItem):
    contact_hash = UnicodeAttribute()
    expires_at = NumberAttribute()


def contact_hashes(reporter: Reporter) -> list[str]:
    """The reporter's e-mail (lower case) and phone (digits only), hashed."""
    return followers.contact_hashes(reporter.email, reporter.phone)


def reported(town_id: str, contact_hash: str, request_id: str) -> ResidentItem:
    """The entry of a request the resident reported."""
    return ResidentItem(keys.resident_pk(town_id, contact_hash), keys.reported_sk(request_id))


def followed(town_id: str, contact_hash: str, request_id: str) -> ResidentItem:
    """The entry of a request the resident follows."""
    return ResidentItem(keys.resident_pk(town_id, contact_hash), keys.followed_sk(request_id))


class DynamoResidentAccess:
    """Residents' sign-in codes and sessions, keyed by the hash of their contact."""

    def save_code(self, town_id: str, contact_hash: str, code_hash: str, expires_at: int,
                  not_before: int) -> bool:
        """Store a fresh code unless one was issued after ``not_before`` (anti-flooding)."""
        item = ResidentCodeItem(keys.resident_pk(town_id, contact_hash), keys.CODE_SK,
                                code_hash=code_hash, attempts=0, expires_at=expires_at)
        return written_if(lambda: item.save(
            condition=ResidentCodeItem.PK.does_not_exist()
            | (ResidentCodeItem.expires_at < not_before)))

    def take_code(self, town_id: str, contact_hash: str,
                  max_tries: int) -> tuple[str, int, int] | None:
        """Count one try at the stored code, in the same write that checks the tries left
        (so concurrent guesses cannot share a try): its hash, expiry and tries so far, or
        None when there is no code or its tries are spent."""
        item = ResidentCodeItem(keys.resident_pk(town_id, contact_hash), keys.CODE_SK)
        if not written_if(lambda: item.update(
                actions=[ResidentCodeItem.attempts.add(1)],
                condition=ResidentCodeItem.PK.exists()
                & (ResidentCodeItem.attempts < max_tries))):
            return None
        return item.code_hash, int(item.expires_at), int(item.attempts)

    def drop_code(self, town_id: str, contact_hash: str) -> None:
        """The code no longer works (used, or its tries spent); the item stays until it
        expires, so that the one-a-minute resend timer still holds."""
        item = ResidentCodeItem(keys.resident_pk(town_id, contact_hash), keys.CODE_SK)
        written_if(lambda: item.update(actions=[ResidentCodeItem.code_hash.set("")],
                                       condition=ResidentCodeItem.PK.exists()))

    def save_session(self, town_id: str, session_hash: str, contact_hash: str,
                     expires_at: int) -> None:
        with storage_errors():
            ResidentSessionItem(keys.session_pk(town_id, session_hash), keys.SESSION_SK,
                                contact_hash=contact_hash, expires_at=expires_at).save()

    def session_contact(self, town_id: str, session_hash: str) -> tuple[str, int] | None:
        item = get_or_none(ResidentSessionItem, keys.session_pk(town_id, session_hash),
                           keys.SESSION_SK)
        return (item.contact_hash, int(item.expires_at)) if item is not None else None
