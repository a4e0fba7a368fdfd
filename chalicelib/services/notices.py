"""Telling people when a request moves: its reporter and followers (in their language, by
e-mail and text), and a department's supervisors when a resident disputes a closure.

Nothing is sent inside the API call that made the change. The change is stored first;
then a ``NoticeEvent`` goes on the notices queue, and a worker fans it out to followers in
batches and sends. A send that fails is retried by the queue, and a retried batch never
sends twice to the same person on the same channel: each send is claimed first (a
conditional write), and the claim is given back only when the send fails. Texts that
would arrive in the town's quiet hours wait for the morning; people who said stop (the
link in an e-mail, or STOP to the SMS number) get nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain import notices
from chalicelib.domain.errors import InvalidInput, NotFound, Problem, StorageUnavailable
from chalicelib.domain.followers import (
    EMAIL,
    REPORTER,
    SMS,
    Follower,
    contact_hashes,
    new_secret,
    secret_hash,
)
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.domain.towns import Town
from chalicelib.schemas.notices import BATCH_SIZE, NoticeBatch, NoticeEvent, Recipient
from chalicelib.services.outreach import TextRefused

if TYPE_CHECKING:
    from chalicelib.services.ports import (
        FollowerStore,
        Messenger,
        NoticeBook,
        NoticeQueue,
        SubscriberStore,
        TownDirectory,
    )

log = logging.getLogger(__name__)

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ALTO",
                        "PARAR"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
CLAIM_DAYS = 30
STOP_LINK_DAYS = 400  # an e-mail's stop link works this long (its claim keeps its hash)
CONFIRM_LINK_DAYS = 7


@dataclass(frozen=True)
class NoticePorts:
    store: FollowerStore
    towns: TownDirectory
    book: NoticeBook
    queue: NoticeQueue
    messenger: Messenger
    now: Callable[[], datetime]
    base_url: str = ""


@dataclass
class Outcome:
    sent: int = 0
    stopped: int = 0
    deferred: int = 0
    repeated: int = 0  # already sent by an earlier try
    failed: int = 0
    unconfirmed: int = 0  # an address that never proved itself: nothing but the receipt
    over_cap: int = 0  # the town's texts for the month are spent


def announce(queue: NoticeQueue | None, request: ServiceRequest, event: TimelineEvent,
             kind: str | None = None) -> None:
    """After a change is stored: queue the message about it, if it is one people hear
    about. A queue that cannot be reached is logged; it never undoes the change."""
    kind = kind or event.kind
    if queue is None or kind not in notices.KINDS or (not event.public
                                                       and kind != "dispute_alert"):
        return
    body = NoticeEvent(town_id=request.town_id, request_id=request.request_id,
                       event_id=event.event_id, kind=kind).model_dump_json()
    try:
        queue.send([body])
    except StorageUnavailable:
        log.error("change stored but its messages not queued",
                  extra={"town": request.town_id, "service_request_id": request.request_id,
                         "event": event.event_id, "kind": kind})


def handle(body: str, ports: NoticePorts) -> Outcome:
    """One message about a request, as the notices queue carries it (JSON)."""
    from pydantic import TypeAdapter

    from chalicelib.schemas.notices import NoticeQueueMessage

    message = TypeAdapter(NoticeQueueMessage).validate_json(body)
    if not isinstance(message, NoticeEvent | NoticeBatch):
        raise TypeError(f"not a message about a request: {message.type}")
    return handle_message(message, ports)


def handle_message(message: NoticeEvent | NoticeBatch, ports: NoticePorts) -> Outcome:
    """One message about a request from the notices queue."""
    if isinstance(message, NoticeEvent):
        return fan_out(message, ports)
    return deliver(message, ports)


def fan_out(event: NoticeEvent, ports: NoticePorts) -> Outcome:
    """Everyone who should hear about ``event``, in batches; one batch is sent at once,
    more go back on the queue so that each is retried alone."""
    request = ports.store.get(event.town_id, event.request_id, with_timeline=False)
    if request is None:
        return Outcome()  # the request is gone (erased town): nobody to tell
    if event.kind == "dispute_alert":
        recipients = _supervisors(ports, request)
    else:
        recipients = [_recipient(f) for f in ports.store.followers_of(
            event.town_id, event.request_id)]
    batches = [recipients[i:i + BATCH_SIZE] for i in range(0, len(recipients), BATCH_SIZE)]
    if not batches:
        return Outcome()
    made = [NoticeBatch(town_id=event.town_id, request_id=event.request_id,
                        event_id=event.event_id, kind=event.kind, recipients=b)
            for b in batches]
    if len(made) == 1:
        return deliver(made[0], ports, request)
    ports.queue.send([m.model_dump_json() for m in made])
    return Outcome()


def _recipient(f: Follower) -> Recipient:
    return Recipient(follower_id=f.follower_id, email=f.email, phone=f.phone,
                     language=f.language, unsubscribe_key=f.unsubscribe_key or None,
                     role=f.role, confirmed=list(f.confirmed))


def _supervisors(ports: NoticePorts, request: ServiceRequest) -> list[Recipient]:
    staff = ports.towns.list_staff(request.town_id)
    return [Recipient(follower_id=f"staff:{m.user_id}", email=m.email)
            for m in staff if m.active and "supervisor" in m.roles
            and (not m.departments or request.department in m.departments)]


def deliver(batch: NoticeBatch, ports: NoticePorts,
            request: ServiceRequest | None = None) -> Outcome:
    """Send one batch; StorageUnavailable (after trying everyone) if any send failed, so
    the queue retries the batch and only the failed ones are sent again."""
    outcome = Outcome()
    town = ports.towns.get_town(batch.town_id)
    request = request or ports.store.get(batch.town_id, batch.request_id, with_timeline=False)
    if town is None or request is None:
        return outcome
    event = next((e for e in request.timeline if e.event_id == batch.event_id), None)
    if event is None and batch.kind != "dispute_alert":
        return outcome  # not a public event of this request: nothing to say
    now = ports.now()
    hashes = {r.follower_id: contact_hashes(r.email, r.phone) for r in batch.recipients}
    phones = {r.follower_id: contact_hashes(None, r.phone) for r in batch.recipients}
    stopped, texts_stopped = ports.book.stopped(
        batch.town_id, sorted({h for hs in hashes.values() for h in hs}),
        sorted({h for hs in phones.values() for h in hs}))
    quiet_until = None if batch.after_quiet_hours else notices.quiet_until(
        now, town.timezone, town.notices.quiet_hours)
    now_epoch = int(now.timestamp())
    expires = now_epoch + CLAIM_DAYS * 86400
    for person in batch.recipients:
        staff = person.follower_id.startswith("staff:")
        if not staff and any(h in stopped for h in hashes[person.follower_id]):
            outcome.stopped += 1
            continue
        language = notices.language_for(person.language, town.locales)
        for channel in batch.channels:
            address = person.email if channel == "email" else person.phone
            if not address:
                continue
            if channel == "sms" and any(h in texts_stopped
                                        for h in phones[person.follower_id]):
                outcome.stopped += 1
                continue
            key = f"{person.follower_id}#{channel}"
            proved = person.confirmed is None or channel in person.confirmed
            receipt = not proved and batch.kind == "submitted" and person.role == REPORTER
            if not proved and not receipt:
                outcome.unconfirmed += 1
                continue
            if channel == "sms" and quiet_until is not None and not staff and not receipt:
                later = batch.model_copy(update={"recipients": [person], "channels": ["sms"],
                                                 "after_quiet_hours": True})
                ports.book.defer(batch.town_id, quiet_until,
                                 f"{batch.event_id}#{key}", later.model_dump_json())
                outcome.deferred += 1
                continue
            stop_secret = new_secret() if channel == "email" and not staff and proved \
                else None
            if not ports.book.claim(
                    batch.town_id, batch.event_id, key,
                    now_epoch + STOP_LINK_DAYS * 86400 if stop_secret else expires,
                    stop_hash=secret_hash(stop_secret) if stop_secret else None,
                    request_id=request.request_id if stop_secret else None):
                outcome.repeated += 1
                continue
            stop = (f"{batch.event_id}.{stop_secret}" if stop_secret else None)
            subject, text = render(town, request, event, batch.kind, language, channel,
                                   person, ports.base_url, stop)
            if receipt:
                text = _with_confirm_link(ports, town, request, language, person.follower_id,
                                          channel, text)
            try:
                ports.messenger.send(town_id=batch.town_id,
                                     email=address if channel == "email" else None,
                                     phone=address if channel == "sms" else None,
                                     subject=subject, text=text)
                outcome.sent += 1
            except TextRefused:
                # Over the month's cap, or a number the town does not text: kept claimed,
                # not sent, not retried.
                outcome.over_cap += 1
            except StorageUnavailable:
                ports.book.release(batch.town_id, batch.event_id, key)
                outcome.failed += 1
    if outcome.failed:
        raise StorageUnavailable(f"{outcome.failed} message(s) not sent; the batch is retried")
    return outcome


def tracking_link(base_url: str, town_id: str, request: ServiceRequest) -> str:
    number = request.tracking_number or request.request_id
    return f"{base_url.rstrip('/')}/towns/{town_id}/track/{number}"


def render(town: Town, request: ServiceRequest, event: TimelineEvent | None, kind: str,
           language: str, channel: str, person: Recipient, base_url: str,
           stop_key: str | None = None) -> tuple[str, str]:
    """The subject and text of one message, in ``language``, for ``channel``. An e-mail
    to a resident ends with its own stop link (``stop_key``: ``<event>.<secret>``)."""
    from babel.dates import format_date, format_datetime

    words = notices.wording(town.notices, language, kind)
    place = request.place.address or (f"{request.place.lat:.5f}, {request.place.long:.5f}"
                                      if request.place.has_point else "")
    expected = ""
    if request.expected_at is not None and request.status == "open":
        day = format_date(request.expected_at.astimezone(town.zone).date(), "long",
                          locale=language)
        expected = {"es": f" Fecha prevista: {day}."}.get(language, f" Expected by {day}.")
    summary = event.summary if event else ""
    if kind == "closed" and request.resolution:
        summary = notices.RESOLUTION_WORDS.get(language, notices.RESOLUTION_WORDS["en"]).get(
            request.resolution, request.resolution)
    note = (event.description or "").strip() if event else ""
    values = {
        "town": town.branding.display_name or town.name,
        "tracking_number": request.tracking_number or request.request_id,
        "service_name": request.service_name,
        "address": ({"es": f" en {place}"}.get(language, f" at {place}") if place else ""),
        "summary": summary,
        "note": f"{note} " if note and kind != "note" else note,
        "link": tracking_link(base_url, town.town_id, request),
        "department": request.agency_responsible or town.name,
        "expected": expected,
        "dispute_days": str(town.notices.dispute_window_days),
        "when": format_datetime(event.at if event else request.updated_at, "medium",
                                tzinfo=town.zone, locale=language),
    }
    subject = notices.fill(words.subject, values)
    text = notices.fill(words.text, values)
    if stop_key and channel == "email":
        stop = (f"{base_url.rstrip('/')}/towns/{town.town_id}/requests/{request.request_id}"
                f"/followers/{person.follower_id}/stop?key={stop_key}")
        # Appended after filling, so that no template can drop or change the way out.
        text += notices.EMAIL_FOOTER.get(language, notices.EMAIL_FOOTER["en"]).replace(
            "$unsubscribe", stop)
    elif channel == "sms" and not person.follower_id.startswith("staff:"):
        text += notices.SMS_FOOTER.get(language, notices.SMS_FOOTER["en"])
    return subject, text


def _confirm_link(ports: NoticePorts, town: Town, request: ServiceRequest,
                  follower_id: str, channel: str) -> str:
    """A fresh confirm link for one address (kept only as its secret's hash, for
    CONFIRM_LINK_DAYS)."""
    secret = new_secret()
    expires = int(ports.now().timestamp()) + CONFIRM_LINK_DAYS * 86400
    ports.store.save_link(town.town_id, secret_hash(secret), request.request_id, follower_id,
                          channel, expires)
    return f"{ports.base_url.rstrip('/')}/towns/{town.town_id}/confirm/{secret}"


def _with_confirm_link(ports: NoticePorts, town: Town, request: ServiceRequest,
                       language: str, follower_id: str, channel: str, text: str) -> str:
    """The reporter's receipt, ending with the link that proves the address (a receipt
    to an unproved address has no stop link: nothing more follows unless confirmed)."""
    link = _confirm_link(ports, town, request, follower_id, channel)
    ask = notices.RECEIPT_CONFIRM.get(language, notices.RECEIPT_CONFIRM["en"])
    if channel == "sms":
        footer = notices.SMS_FOOTER.get(language, notices.SMS_FOOTER["en"])
        text = text.removesuffix(footer)
        return text + " " + notices.fill(ask, {"link": link}) + footer
    return text + "\n\n" + notices.fill(ask, {"link": link})


def ask_to_confirm(ports: NoticePorts, town: Town, request: ServiceRequest,
                   follower: Follower) -> int:
    """Send a "me too" follower's unproved addresses the one message that proves them.
    The caller has checked the anonymous budgets (services.outreach)."""
    language = notices.language_for(follower.language, town.locales)
    subject, text = notices.FOLLOW_CONFIRM.get(language, notices.FOLLOW_CONFIRM["en"])
    sent = 0
    for channel in follower.channels:
        if follower.is_confirmed(channel):
            continue
        values = {"town": town.branding.display_name or town.name,
                  "tracking_number": request.tracking_number or request.request_id,
                  "service_name": request.service_name,
                  "link": _confirm_link(ports, town, request, follower.follower_id, channel)}
        body = notices.fill(text, values)
        if channel == SMS:
            body += notices.SMS_FOOTER.get(language, notices.SMS_FOOTER["en"])
        address = follower.address(channel)
        ports.messenger.send(town_id=town.town_id, email=address if channel == EMAIL else None,
                             phone=address if channel == SMS else None,
                             subject=notices.fill(subject, values), text=body)
        sent += 1
    return sent


def confirm_address(ports: NoticePorts, town_id: str, secret: str) -> Follower:
    """A confirm link was used: that one address of that follower now gets messages."""
    found = ports.store.take_link(town_id, secret_hash(secret or ""),
                                  int(ports.now().timestamp())) if secret else None
    if found is None:
        raise NotFound("this link is not valid (it may have been used, or be too old)")
    request_id, follower_id, channel = found
    follower = ports.store.get_follower(town_id, request_id, follower_id)
    if follower is None or follower.address(channel) is None:
        raise NotFound("this link is not valid (you stopped these messages)")
    if not follower.is_confirmed(channel):
        ports.store.save_follower(town_id, request_id, replace(
            follower, confirmed=(*follower.confirmed, channel)))
    return follower


def release_deferred(ports: NoticePorts, limit: int = 500) -> int:
    """Texts held back by quiet hours whose morning has come go back on the queue."""
    due = ports.book.deferred_until(ports.now(), limit)
    if due:
        ports.queue.send([body for _, _, body in due])
        for key, _, _ in due:
            ports.book.drop_deferred(key)
    return len(due)


def stop_following(ports: NoticePorts, town_id: str, request_id: str, follower_id: str,
                   key: str, everything: bool) -> str:
    """The stop link in an e-mail: that e-mail address stops getting messages about this
    request (or, ``everything``, from the town). Only the address the link was sent to:
    a phone on the same follower record is not the link holder's to silence."""
    follower = ports.store.get_follower(town_id, request_id, follower_id)
    if follower is None or not follower.email or not _stop_key_holds(
            ports, town_id, request_id, follower, key or ""):
        raise NotFound("this link is not valid (or you already stopped these messages)")
    if follower.phone:
        ports.store.save_follower(town_id, request_id, follower.without(EMAIL),
                                  dropped=contact_hashes(follower.email, None)[0])
    else:
        ports.store.unfollow(town_id, request_id, follower)
    if everything:
        for h in contact_hashes(follower.email, None):
            ports.book.stop(town_id, h, ports.now())
        return "town"
    return "request"


def _stop_key_holds(ports: NoticePorts, town_id: str, request_id: str, follower: Follower,
                    key: str) -> bool:
    """``<event>.<secret>`` names the e-mail it was sent in, whose claim holds the
    secret's hash; a key without a dot is a stop link e-mailed before that (compared with
    the follower's old key, and likewise stops the e-mail only)."""
    import secrets as _secrets

    if "." in key:
        event_id, secret = key.split(".", 1)
        stored = ports.book.stop_link(town_id, event_id[:64], f"{follower.follower_id}#email")
        return stored is not None and stored[1] == request_id and \
            _secrets.compare_digest(stored[0], secret_hash(secret))
    return bool(follower.unsubscribe_key) and _secrets.compare_digest(
        follower.unsubscribe_key, key)


def sms_reply(book: NoticeBook, phone: str, text: str, at: datetime) -> str | None:
    """A text sent back to the town's number: STOP (and its synonyms) stops every message
    to that phone at once; START undoes it. Anything else is not ours to act on."""
    word = (text or "").strip().split(" ")[0].upper().strip(".!")
    from chalicelib.domain.phones import e164_or_none

    # The gateway gives E.164; anything else is read as a US number (the shared number's).
    hashes = contact_hashes(None, e164_or_none(phone) or phone)
    if not hashes:
        raise InvalidInput.of([Problem("originationNumber", "is not a phone number")])
    if word in STOP_WORDS:
        book.stop(None, hashes[0], at)
        return "stopped"
    if word in START_WORDS:
        book.restart(None, hashes[0])
        return "restarted"
    return None


def text_back(book: NoticeBook, subscribers: SubscriberStore, phone: str, text: str,
              at: datetime) -> str | None:
    """A resident's text to the town's number, as ``sms_reply``; STOP also ends that
    phone's emergency alert subscriptions, at once and in every town (``subscribers``: the
    alert subscriber store)."""
    from chalicelib.services.subscribers import stop_by_phone

    outcome = sms_reply(book, phone, text, at)
    if outcome == "stopped":
        stop_by_phone(subscribers, phone)
    return outcome
