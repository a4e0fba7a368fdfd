"""A resident's e-mail to the town's address becomes a draft request in triage.

SES receives the mail for the intake domain, scans it and stores the raw message under
``inbound-mail/``; the S3 event hands its key to ``receive_mail`` (the ``receive_mail``
function). What happens to one message, in order:

1. Read and parse it (``chalicelib.domain.mail``). A message that cannot be parsed is
   logged and kept (the bucket's lifecycle removes it after 7 days): never retried.
2. The town: a recipient on the intake domain whose local part is a town's id, or a
   town's own address (one GetItem of its pointer). Nobody's address: refused, no reply.
3. Refused without a reply, and counted in the town's refusals: mail a machine sent
   (auto-replies, bounces, lists: answering could loop), a sender SES could not verify
   (answering a forged sender is backscatter), more than ``PER_SENDER_PER_HOUR`` messages
   from one sender to one town in an hour, or more than the town lets strangers make it
   send in an hour from everyone together (a flood).
4. The draft: the town's category guess ranks its services for the subject and body, the
   town's gazetteer finds the place the words name; the request is made through the
   normal intake (``intake.submit_request``) with channel ``email``, the sender as the
   reporter (their address is proved: the normal notices follow), and the guesses kept
   (the service's questions stay unanswered: staff have the resident's words).
   It needs a person's confirmation, so the router sends it to triage. Made once per
   message (Message-ID and sender, through the idempotency guard): a redelivered event
   or a resent copy makes no second request.
5. Photos: attachments whose bytes are a photo (never the name), within the photo size
   limit and the town's photos per request, go where every upload goes (``incoming/``),
   for the photo worker; each keeps an id drawn from the message, so a redelivery adds
   none twice. Others are listed in the reply.
6. The reply, once per message (claimed in the notice book): the tracking number, what
   was understood (the service named in the mail's language, as the resident pages name
   it: ``CatalogueWords``), that staff will confirm, and the attachments not taken.

Nothing here raises for a bad message; only an unavailable store or sender does, and
then Lambda tries the event again (twice at most, S3's asynchronous invocation).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from chalicelib.domain import place_words
from chalicelib.domain.errors import StorageUnavailable, Town311Error
from chalicelib.domain.mail import (
    MailTooLarge,
    MailUnreadable,
    RefusedAttachment,
    ResidentMail,
    read_mail,
    reply,
    spoof_reason,
)
from chalicelib.domain.requests import PLACE_NOT_GIVEN, IntakeGuess
from chalicelib.domain.towns import ACTIVE, Town, intake_address

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
    from chalicelib.domain.catalogue import Catalogue, Service
    from chalicelib.services.gazetteer import Geocoder
    from chalicelib.services.intake import IntakePorts
    from chalicelib.services.ports import (
        AuditLog,
        CatalogueWords,
        IdempotencyGuard,
        InboundMailbox,
        IntakeAddresses,
        Limits,
        Messenger,
        NoticeBook,
        TownDirectory,
    )

log = logging.getLogger(__name__)

# SES receiving accepts messages up to 40 MB; reading up to 50 MiB means whatever it
# stored is read (a 30 MB photo is about 41 MB once base64-encoded), so even an attachment
# far over the photo limit is named in the reply rather than the message lost.
MAX_MESSAGE_BYTES = 50 * 2**20
PER_SENDER_PER_HOUR = 10
HOUR, DAY = 3600, 86400
REPLY_CLAIM_DAYS = 7


@dataclass(frozen=True)
class MailPorts:
    mailbox: InboundMailbox
    addresses: IntakeAddresses
    towns: TownDirectory
    intake: IntakePorts
    geocoder: Geocoder
    guard: IdempotencyGuard
    limits: Limits
    book: NoticeBook
    messenger: Messenger
    intake_domain: str | None
    words: CatalogueWords  # the service named in the reply's language
    base_url: str = ""
    audit: AuditLog | None = None  # town admins' changes of the intake address

    @property
    def now(self) -> Callable[[], datetime]:
        return self.intake.now


def receive_mail(key: str, ports: MailPorts, deadline: object = None) -> str:
    """Handle one stored message; returns what became of it: "drafted", "duplicate",
    "ignored" (gone: handled before), "unreadable", "unknown_recipient", "automatic",
    "refused" (an unverified sender, spam or a virus), "flooded" or "no_service".
    ``deadline``: the Lambda context (a message cut off by the timeout may be retried at
    once rather than after its idempotency record expires)."""
    try:
        raw = ports.mailbox.read(key, MAX_MESSAGE_BYTES)
    except MailTooLarge:
        log.warning("e-mail refused: larger than Town311 reads", extra={"key": key})
        return "unreadable"
    if raw is None:
        return "ignored"
    try:
        mail = read_mail(raw)
    except MailUnreadable as e:
        # Kept for the bucket's lifecycle (7 days), for whoever looks into it.
        log.error("e-mail could not be read; skipped", extra={"key": key, "why": str(e)})
        return "unreadable"
    outcome = _handle(key, mail, ports, deadline)
    ports.mailbox.delete(key)
    return outcome


def _handle(key: str, mail: ResidentMail, ports: MailPorts, deadline: object) -> str:
    town = recipient_town(ports, mail.recipients)
    if town is None:
        log.warning("e-mail to no town's address refused",
                    extra={"key": key, "recipients": len(mail.recipients)})
        return "unknown_recipient"
    own = intake_address(town, ports.intake_domain)
    if mail.automatic or (mail.sender is not None and mail.sender == own):
        _refused(ports, town, mail.automatic or "loop")
        return "automatic"
    why = spoof_reason(mail.verdicts)
    if why is not None or mail.sender is None:
        # No reply: if the sender was forged, it would go to a stranger.
        _refused(ports, town, why or "no_sender")
        return "refused"
    flood = _over_budget(ports, town, mail.sender)
    if flood is not None:
        _refused(ports, town, flood)
        return "flooded"
    return _draft(ports, town, mail, deadline)


_LOCAL_PART = re.compile(r"[a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?")
# The domain's operator's own mailboxes (RFC 2142, RFC 5321's postmaster) and the name
# bounces come from: a town given one would receive strangers' delivery reports and
# complaints, which the handler refuses anyway, and its residents' mail would look like them.
RESERVED_LOCAL_PARTS = frozenset({"postmaster", "abuse", "mailer-daemon", "hostmaster",
                                  "webmaster"})


def checked_intake_address(towns: TownDirectory, town: Town, intake_domain: str | None,
                           address: str | None) -> str | None:
    """A town's own intake address as stored, or None for the default one.

    A deployed stage receives mail for its intake domain only (the SES receipt rule's one
    recipient is the domain: not its subdomains, not another domain), so the address must
    be on that domain exactly; a bare local part (``potholes``) means one there. Empty,
    or the town's default ``<town id>@<domain>``, is None (nothing to point). Raises
    InvalidInput (no intake domain, another domain, a local part SES would not route or
    a reserved one) or Conflict (another town's default address: mail to it reaches that
    town first). Another town's *own* address is found when its pointer is written."""
    from chalicelib.domain.errors import Conflict, InvalidInput, Problem

    wanted = address.strip().lower() if address else ""
    if not wanted:
        return None
    domain = (intake_domain or "").lower()
    if not domain:
        raise InvalidInput.of([Problem("intake_email", "this deployment receives no e-mail")])
    local, at, given_domain = wanted.partition("@")
    if at and given_domain != domain:
        raise InvalidInput.of([Problem("intake_email", f"must be an address on {domain}")])
    if not _LOCAL_PART.fullmatch(local) or ".." in local:
        raise InvalidInput.of([Problem("intake_email", f"must be an address on {domain}")])
    if local in RESERVED_LOCAL_PARTS:
        raise InvalidInput.of([Problem("intake_email", "is kept for the domain's operator")])
    if local == town.town_id:
        return None  # the default address
    other = towns.get_town(local)
    if other is not None:
        raise Conflict(f"{local}@{domain} is another town's address",
                       [Problem("intake_email", "is another town's address")])
    return f"{local}@{domain}"


def point_intake_address(addresses: IntakeAddresses, town: Town, address: str | None) -> None:
    """Move the town's own-address pointer from its stored address to ``address``;
    Conflict naming ``intake_email`` if another town has it (nothing written then)."""
    from chalicelib.domain.errors import Conflict, Problem

    try:
        addresses.point(address, town.town_id, town.intake_email)
    except Conflict as e:
        raise Conflict(e.message, [Problem("intake_email", "is another town's address")]
                       ) from e


def set_intake_address(ports: MailPorts, who: Principal, address: str | None) -> Town:
    """A town admin gives the town its own intake address on the deployment's intake
    domain (``potholes@<domain>``), or None to go back to ``<town id>@<domain>``. The
    address's pointer moves with it; one another town has is a Conflict. (``PATCH
    /admin/town``'s ``intake_email`` does the same through ``admin.update_settings``.)"""
    import dataclasses

    from chalicelib.domain.access import Permission, require
    from chalicelib.domain.errors import NotFound

    require(who, Permission.CONFIGURE_TOWN, who.town_id)
    town = ports.towns.get_town(who.town_id or "")
    if town is None:
        raise NotFound("your town no longer exists")
    wanted = checked_intake_address(ports.towns, town, ports.intake_domain, address)
    point_intake_address(ports.addresses, town, wanted)
    changed = dataclasses.replace(town, intake_email=wanted)
    ports.towns.save_town(changed)
    if ports.audit is not None:
        from chalicelib.domain.towns import AuditEntry

        ports.audit.record(AuditEntry(
            town_id=town.town_id, at=ports.now(), entry_id=ports.intake.new_id(),
            actor=who.actor, actor_kind=who.kind, action="town.intake_email",
            target=town.town_id, source_ip=who.source_ip, details={"address": wanted}))
    return changed


def recipient_town(ports: MailPorts, recipients: tuple[str, ...]) -> Town | None:
    """The active town the mail was sent to: a town's own address first (its pointer's
    GetItem, then the town's), else ``<town id>@<intake domain>`` (the town's own
    GetItem). The chosen address wins so that a town created later whose id happens to be
    another town's chosen name never receives that town's mail. A message to several
    addresses goes to the first town named (one draft, not one per town: the sender meant
    one report)."""
    domain = (ports.intake_domain or "").lower()
    for address in recipients:
        town_id = ports.addresses.town_for(address)
        town = ports.towns.get_town(town_id) if town_id else None
        if town is None:
            local, _, at = address.partition("@")
            town = ports.towns.get_town(local[:100]) if domain and at == domain else None
        if town is not None and town.status == ACTIVE:
            return town
    return None


def _over_budget(ports: MailPorts, town: Town, sender: str) -> str | None:
    """"flood" once the sender has sent the town ``PER_SENDER_PER_HOUR`` messages this
    hour, "town_flood" once the town has had as many as it lets strangers make it send
    in an hour (``anonymous_messages_per_hour``: every draft is answered), else None."""
    now = int(ports.now().timestamp())
    hour = now // HOUR
    expires = (hour + 1) * HOUR + DAY
    digest = hashlib.sha256(f"mail:{sender}".encode()).hexdigest()[:32]
    if not ports.limits.take(town.town_id, f"mail#{digest}", hour, PER_SENDER_PER_HOUR,
                             expires):
        return "flood"
    if not ports.limits.take(town.town_id, "mail#town", hour,
                             town.anonymous_messages_per_hour, expires):
        return "town_flood"
    return None


def _refused(ports: MailPorts, town: Town, reason: str) -> None:
    """Counted per town and day with the other refused sends (the town admin's messaging
    figures show them as ``email/<reason>``); logged without the sender."""
    day = ports.now().strftime("%Y-%m-%d")
    log.warning("e-mail refused", extra={"town": town.town_id, "reason": reason})
    try:
        ports.limits.add(town.town_id, f"refused#{day}#email#{reason}", 1)
    except Town311Error:
        log.exception("refusal not counted")


# --- the draft --------------------------------------------------------------------------------


def find_place(geocoder: Geocoder, town_id: str, words: str) -> place_words.PlaceWords:
    """The place the mail's words name in the town's gazetteer (``domain.place_words``, as
    for a text message); else the words that looked like a place, without a point."""
    return place_words.find_place(
        words, lambda text, limit: geocoder.suggest(town_id, text, limit))


def draft_service(catalogue: Catalogue, ranked: list[Service]) -> Service | None:
    """The service a draft is filed under until staff confirm it: the best guess, else
    the town's "other" service, else its first. (Its questions stay unanswered: an
    e-mail answers none; staff read the resident's words.)"""
    for service in ranked:
        if catalogue.service(service.code) is not None:
            return service
    return catalogue.service("other") or next(
        (s for s in catalogue.services if s.active), None)


def _draft(ports: MailPorts, town: Town, mail: ResidentMail, deadline: object) -> str:
    from chalicelib.schemas.open311 import NewServiceRequest
    from chalicelib.services.category_guess import guess_for_town
    from chalicelib.services.intake import submit_request

    assert mail.sender is not None  # checked by _handle
    now = ports.now()
    catalogue = ports.towns.get_catalogue(town.town_id, town.changeset)
    words = f"{mail.subject}\n{mail.body}".strip()
    ranked = [g.service for g in guess_for_town(ports.intake.store, town.town_id, catalogue,
                                                words, now, limit=3)] if words else []
    service = draft_service(catalogue, ranked)
    if service is None:
        log.error("e-mail not drafted: the town has no service to file it under",
                  extra={"town": town.town_id})
        _refused(ports, town, "no_service")
        return "no_service"
    place = find_place(ports.geocoder, town.town_id, words)
    entry = place.entry
    guess = IntakeGuess(services=tuple(s.code for s in ranked), place_text=place.words,
                        place_label=entry.label if entry else None,
                        lat=entry.lat if entry else None, long=entry.long if entry else None)
    description = "\n\n".join(p for p in (mail.subject, mail.body) if p) or None
    try:
        given = {"service_code": service.code, "email": mail.sender,
                 "lat": entry.lat if entry else None, "long": entry.long if entry else None,
                 "address_string": entry.label if entry else (place.words or PLACE_NOT_GIVEN),
                 "description": description, "language": mail.language, "notify": True}
        form = NewServiceRequest.model_validate({k: v for k, v in given.items()
                                                 if v is not None})
    except ValidationError:
        # The sender's address or the words are not what a request may hold: say nothing
        # rather than answer an address Town311 would not store.
        _refused(ports, town, "unusable")
        return "refused"
    made: list[str] = []

    def first_time() -> dict[str, object]:
        receipt = submit_request(form, town, catalogue, None, ports.intake, channel="email",
                                 guess=guess, replies_itself=True)
        made.append(receipt.service_request_id)
        return {"service_request_id": receipt.service_request_id,
                "tracking_number": receipt.tracking_number}

    first = ports.guard.run_once(f"{town.town_id}#email#{mail.dedupe_key}",
                                 {"message": mail.dedupe_key}, first_time, deadline)
    request_id = str(first["service_request_id"])
    tracking = str(first.get("tracking_number") or request_id)
    refused = _send_photos(ports, town, request_id, mail)
    _answer(ports, town, mail, tracking, service.name, entry.label if entry else None,
            refused)
    return "drafted" if made else "duplicate"


def _send_photos(ports: MailPorts, town: Town, request_id: str,
                 mail: ResidentMail) -> list[RefusedAttachment]:
    """Photo attachments to the photo worker (``incoming/``), the others listed. Each
    photo's id comes from the message and its place in it, so a redelivered message
    puts the same objects again and the worker adds none twice."""
    from chalicelib.services.photos import MAX_BYTES, sniffed_type

    refused: list[RefusedAttachment] = []
    taken = 0
    for n, attachment in enumerate(mail.attachments):
        kind = sniffed_type(attachment.content) if attachment.content else None
        if attachment.size > MAX_BYTES:
            refused.append(RefusedAttachment(attachment.filename, "too_large"))
        elif kind is None:
            refused.append(RefusedAttachment(attachment.filename, "not_a_photo"))
        elif taken >= town.photo_limit:
            refused.append(RefusedAttachment(attachment.filename, "too_many"))
        else:
            taken += 1
            photo_id = f"mail-{mail.dedupe_key[:24]}-{n}"
            ports.intake.photos.receive_upload(town.town_id, request_id, photo_id,
                                               attachment.content, kind)
    return refused


def _answer(ports: MailPorts, town: Town, mail: ResidentMail, tracking: str,
            service_name: str, place: str | None, refused: list[RefusedAttachment]) -> None:
    """The reply, sent once per message: claimed first, released if the send fails (the
    event is then tried again, and finds the request and photos already there)."""
    from chalicelib.domain.notices import language_for
    from chalicelib.services.photos import MAX_BYTES

    assert mail.sender is not None
    language = language_for(mail.language, town.locales)
    service_name = ports.words.words(language)(service_name)
    link = f"{ports.base_url.rstrip('/')}/towns/{town.town_id}/track/{tracking}"
    subject, text = reply(language, town=town.branding.display_name or town.name,
                          tracking_number=tracking, service_name=service_name, place=place,
                          link=link, refused=refused, photo_limit=town.photo_limit,
                          max_mb=MAX_BYTES // 2**20)
    claim = f"mail-{mail.dedupe_key[:40]}"
    expires = int(ports.now().timestamp()) + REPLY_CLAIM_DAYS * DAY
    if not ports.book.claim(town.town_id, claim, "reply#email", expires):
        return  # answered by an earlier delivery
    try:
        ports.messenger.send(town_id=town.town_id, email=mail.sender, phone=None,
                             subject=subject, text=text)
    except StorageUnavailable:
        ports.book.release(town.town_id, claim, "reply#email")
        raise
