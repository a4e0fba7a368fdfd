"""Queues, photos, messages, residents' sign-in, the notice book and limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # only named in annotations: a cold start does not load them
    from chalicelib.domain.requests import ServiceRequest


class NoticeQueue(Protocol):
    """The notices queue (SQS): what to tell whom, sent by its own worker."""

    def send(self, bodies: list[str]) -> None:
        """Put messages on the notices queue (chalicelib.schemas.notices)."""
        ...


class RoutingQueue(Protocol):
    """The routing queue (SQS): new requests waiting for a department."""

    def request_submitted(self, town_id: str, request_id: str) -> None:
        """Ask the router to assign a newly stored request to a department."""
        ...


class PhotoInbox(Protocol):
    """Where an uploaded photo waits (S3 ``incoming/``) until it is made safe."""

    def receive_upload(self, town_id: str, request_id: str, photo_id: str,
                       content: bytes, content_type: str) -> str:
        """Store an uploaded photo under ``incoming/`` for processing; returns its key."""
        ...


class IdempotencyGuard(Protocol):
    """Submissions with an Idempotency-Key (powertools' idempotency on DynamoDB)."""

    def run_once(self, key: str, payload: dict[str, object],
                 work: Callable[[], dict[str, object]],
                 deadline: object = None) -> dict[str, object]:
        """Run ``work`` once per key; repeats get the first result, a changed payload a
        Conflict, and a repeat while the first is still running RetryLater. ``deadline``
        (a Lambda context) bounds how long an unfinished first call blocks a retry."""
        ...


class Messenger(Protocol):
    """What sends e-mail (SES) and texts (SNS)."""

    def send(self, *, town_id: str, email: str | None, phone: str | None, subject: str,
             text: str) -> None:
        """Send one message for a town to a resident by e-mail and/or SMS (E.164)."""
        ...


class ResidentAccess(Protocol):
    """Residents' sign-in codes and sessions, keyed by the hash of their contact."""

    def save_code(self, town_id: str, contact_hash: str, code_hash: str, expires_at: int,
                  not_before: int) -> bool:
        """Store a fresh code unless one was issued after ``not_before`` (anti-flooding)."""
        ...

    def take_code(self, town_id: str, contact_hash: str,
                  max_tries: int) -> tuple[str, int, int] | None:
        """Count one try at the stored code, in the write that checks the tries left: its
        hash, expiry and tries so far, or None when there is no code or none is left."""
        ...

    def drop_code(self, town_id: str, contact_hash: str) -> None:
        """The code no longer works; the stored one stays until it expires, so that the
        resend timer still holds."""
        ...

    def save_session(self, town_id: str, session_hash: str, contact_hash: str,
                     expires_at: int) -> None: ...

    def session_contact(self, town_id: str, session_hash: str) -> tuple[str, int] | None: ...


class NearbyRequests(Protocol):
    """Open requests by place: the ``by_place`` index of open requests with a point."""

    def open_near(self, town_id: str, service_code: str, cells: list[str],
                  since: datetime) -> list[ServiceRequest]:
        """The town's open requests of ``service_code`` whose point lies in one of the
        geohash-7 ``cells``, requested at or after ``since``, in no particular order."""
        ...


class PhotoBucket(Protocol):
    """The photo bucket as the photo worker sees it: read an upload, publish the safe
    copies, delete."""

    def read(self, key: str) -> bytes | None: ...

    def publish(self, key: str, content: bytes, content_type: str) -> None: ...

    def delete(self, key: str) -> None: ...


class PhotoUploads(Protocol):
    """Direct uploads to the photo bucket (presigned POSTs)."""

    def upload_form(self, key: str, content_type: str, max_bytes: int,
                    seconds: int) -> dict[str, object]:
        """A presigned POST for one object: its URL and the form fields to send."""
        ...

    def upload_origin(self) -> str:
        """Where browsers send those forms (``scheme://host[:port]``): the pages'
        Content-Security-Policy must allow it in ``connect-src``."""
        ...

    def delete(self, key: str) -> None: ...


class PhotoStorage(PhotoInbox, PhotoBucket, PhotoUploads, Protocol):
    """The photo bucket (S3) behind all three, and the links that show a photo."""

    def signed_url(self, key: str, seconds: int = 900) -> str:
        """A link that shows the object for ``seconds``."""
        ...


# --- what the notices worker remembers, and what strangers can make a town send ---------------


class NoticeBook(Protocol):
    """What the sender remembers: who said stop, what was sent, what waits for morning."""

    def stopped(self, town_id: str, contact_hashes: list[str],
                phone_hashes: list[str]) -> tuple[set[str], set[str]]:
        """Which contacts said stop to this town (every channel), and which phones sent
        STOP to the SMS number (texts only)."""
        ...

    def stop(self, town_id: str | None, contact_hash: str, at: datetime) -> None:
        """``town_id`` None: STOP to the shared SMS number, which covers every town."""
        ...

    def restart(self, town_id: str | None, contact_hash: str) -> None: ...

    def claim(self, town_id: str, event_id: str, key: str, expires_at: int,
              stop_hash: str | None = None, request_id: str | None = None) -> bool:
        """Take the send of ``event_id`` to ``key`` (False: taken before). An e-mail's
        claim holds the hash of its stop link's secret and the request."""
        ...

    def stop_link(self, town_id: str, event_id: str, key: str) -> tuple[str, str] | None:
        """(stop secret's hash, request) of the message sent for ``event_id`` to ``key``."""
        ...

    def release(self, town_id: str, event_id: str, key: str) -> None: ...

    def defer(self, town_id: str, send_at: datetime, key: str, body: str) -> None: ...

    def deferred_until(self, now: datetime, limit: int) -> list[tuple[str, str, str]]:
        """(key, town, body) of held-back messages whose time has come, oldest first."""
        ...

    def drop_deferred(self, key: str) -> None: ...


class Limits(Protocol):
    """Fixed-window counters, each changed atomically (a conditional add)."""

    def take(self, town_id: str, name: str, window: int, limit: int, expires_at: int,
             amount: int = 1) -> bool:
        """Add ``amount`` to counter ``name`` of window ``window``, unless it would pass
        ``limit``; True if added."""
        ...

    def add(self, town_id: str, name: str, amount: int) -> None:
        """Add to a tally that is kept (refusals per day, texts per month, a refund)."""
        ...

    def totals(self, town_id: str, prefix: str) -> dict[str, int]: ...

    def spend_sms(self, town_id: str, month: str, segments: int, cap: int) -> bool:
        """Count ``segments`` against the town's monthly cap; False (nothing counted) if
        they would pass it."""
        ...
