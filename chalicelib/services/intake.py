"""Taking a resident's report: check it against the town's catalogue, store it, route it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from chalicelib.domain.catalogue import Catalogue, parse_attribute_answers
from chalicelib.domain.errors import (
    AccessDenied,
    Conflict,
    InvalidInput,
    Problem,
    StorageUnavailable,
)
from chalicelib.domain.followers import REPORTER, Follower, new_tracking_number
from chalicelib.domain.queries import Quota
from chalicelib.domain.requests import (
    IntakeGuess,
    Place,
    Reporter,
    ServiceRequest,
    TimelineEvent,
    hash_token,
    new_token,
)
from chalicelib.domain.towns import SCOPE_SUBMIT, ApiKey, AuditEntry, Town
from chalicelib.schemas.open311 import NewServiceRequest, location_problems, problems_from
from chalicelib.services.outreach import OutreachPorts, phone_for

if TYPE_CHECKING:
    from chalicelib.services.ports import (
        IdempotencyGuard,
        NoticeQueue,
        PhotoInbox,
        RequestStore,
        RoutingQueue,
        UsageMeter,
    )

log = logging.getLogger(__name__)

PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")
PHOTO_LIMIT_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Photo:
    """A photo sent with the report (Open311 multipart ``media`` part)."""

    content: bytes
    content_type: str
    filename: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What the resident's app gets back: Open311's POST response, one request."""

    service_request_id: str
    token: str
    service_notice: str | None
    account_id: str | None
    tracking_number: str | None = None


@dataclass(frozen=True)
class IntakePorts:
    store: RequestStore
    routing: RoutingQueue
    photos: PhotoInbox
    new_id: Callable[[], str]
    now: Callable[[], datetime]
    notices: NoticeQueue | None = None
    outreach: OutreachPorts | None = None  # budgets of what anonymous reports may send
    new_token: Callable[[], str] = new_token  # random, never from ``new_id``
    usage: UsageMeter | None = None  # what the town uses this month (services.usage)


def read_submission(fields: dict[str, str], attributes: dict[str, list[str]], town: Town,
                    catalogue: Catalogue) -> NewServiceRequest:
    """The posted form as a submission, or InvalidInput naming every problem at once:
    field formats, the location rule, the service, and the answers to its questions."""
    problems: list[Problem] = []
    form: NewServiceRequest | None = None
    try:
        form = NewServiceRequest.model_validate({**fields, "attributes": attributes})
    except ValidationError as e:
        problems.extend(problems_from(e))
    problems.extend(location_problems(fields))
    code = (fields.get("service_code") or "").strip()
    service = catalogue.service(code)
    if service is None and code:
        problems.append(Problem("service_code", f"{code[:100]!r} is not a service of "
                                                f"{town.name}"))
    elif service is not None:
        try:
            parse_attribute_answers(service, attributes)
        except InvalidInput as e:
            problems.extend(e.problems)
    number = None
    if form is not None and form.phone:
        # Stored, hashed and compared as E.164 only (a STOP must match what was typed).
        try:
            number = phone_for(town, form.phone)
        except InvalidInput as e:
            problems.extend(e.problems)
    if problems or form is None:
        raise InvalidInput.of(problems)
    return form.model_copy(update={"phone": number}) if number else form


def submit_request(form: NewServiceRequest, town: Town, catalogue: Catalogue,
                   key: ApiKey | None, ports: IntakePorts, photo: Photo | None = None, *,
                   channel: str = "open311", entered_by: str | None = None,
                   source_ip: str | None = None, guess: IntakeGuess | None = None,
                   replies_itself: bool = False) -> Receipt:
    """Store a new service request with its first timeline event, then ask for routing.

    The request is durable before anything else happens: a routing message that cannot be
    sent does not undo it; the failure is logged with the request id for re-routing.

    With ``guess`` the request is a draft that needs a person's confirmation (an e-mail:
    its service and place were guessed; the router sends it to triage). ``replies_itself``:
    the channel proved the reporter's address and answers them itself (e-mail intake: SES
    checked the sender, and its reply carries the tracking number; a text to the town's
    number came from that phone, and the conversation's last text is the receipt), so the reporter
    follows the request confirmed and no "submitted" receipt is queued besides.
    """
    if key is not None and not key.allows(SCOPE_SUBMIT):
        raise AccessDenied("this api_key may not submit requests")
    service = catalogue.service(form.service_code)
    if service is None:
        raise InvalidInput.of([Problem("service_code",
                                       f"{form.service_code!r} is not a service of {town.name}")])
    # A draft (an e-mail) answered none of the service's questions, required ones
    # included: the member of staff who confirms it has the resident's own words.
    answers = {} if guess is not None and not form.attributes else \
        parse_attribute_answers(service, form.attributes)
    if photo is not None:
        _check_photo(photo)

    request_id, token, now = ports.new_id(), ports.new_token(), ports.now()
    tracking = new_tracking_number()
    media_key = None
    if photo is not None:
        media_key = ports.photos.receive_upload(town.town_id, request_id, ports.new_id(),
                                                photo.content, photo.content_type)
    request = ServiceRequest(
        town_id=town.town_id, request_id=request_id, token_hash=hash_token(token),
        service_code=service.code, service_name=service.name,
        requested_at=now, updated_at=now,
        place=Place(lat=form.lat, long=form.long, address=form.address_string,
                    address_id=form.address_id, zipcode=form.zipcode),
        description=form.description, media_url=form.media_url, answers=answers,
        channel=channel, api_key_id=key.key_id if key else None, entered_by=entered_by,
        zone=_zone_of(catalogue, form.lat, form.long),
        reporter=Reporter(email=form.email, phone=form.phone, first_name=form.first_name,
                          last_name=form.last_name, device_id=form.device_id,
                          account_id=form.account_id, language=form.language,
                          notify=form.notify is not False),
        tracking_number=tracking,
        needs_confirmation=guess is not None, intake_guess=guess,
    )
    from chalicelib.services.service_levels import start_clock, target_for

    start_clock(request, target_for(service, town, answers), town, now)
    submitted = TimelineEvent(
        at=now, event_id=ports.new_id(), kind="submitted",
        summary=f"{service.name} reported" + (" with a photo" if media_key else "")
        + ("" if channel == "open311" else f" ({channel.replace('_', ' ')})"),
        actor_role="resident" if entered_by is None else "agent",
    )
    request.timeline.append(submitted)
    quota = None
    if key is not None:
        minute = now.replace(second=0, microsecond=0)
        quota = Quota(key.key_id, key.rate_limit_per_minute, minute)
    audit = AuditEntry(
        town_id=town.town_id, at=now, entry_id=ports.new_id(),
        actor=entered_by or (f"api_key:{key.key_id}" if key else "anonymous"),
        actor_kind="staff" if entered_by else "api_key", action="request.submitted",
        target=request_id, source_ip=source_ip,
        details={"service_code": service.code, "channel": channel})
    follower = None
    if form.notify is not False and (form.email or form.phone):
        follower = _reporter_to_tell(ports, town, form, now, entered_by, source_ip,
                                     replies_itself)
    try:
        ports.store.add(request, submitted, quota, audit, follower)
    except Conflict:
        # One in 10¹² : the tracking number is taken. Another, once; ids are ULIDs.
        request.tracking_number = new_tracking_number()
        ports.store.add(request, submitted, quota, audit, follower)
    if ports.usage is not None:
        from chalicelib.domain.usage import requests_counter
        from chalicelib.services.usage import count

        count(ports.usage, town.town_id, now, **{requests_counter(channel): 1})
    try:
        ports.routing.request_submitted(town.town_id, request_id)
    except StorageUnavailable:
        log.error("stored request not sent for routing",
                    extra={"town": town.town_id, "service_request_id": request_id})
    if follower is not None and not replies_itself:
        from chalicelib.services.notices import announce

        announce(ports.notices, request, submitted)
    return Receipt(request_id, token, request.service_notice, form.account_id,
                   request.tracking_number)


def _reporter_to_tell(ports: IntakePorts, town: Town, form: NewServiceRequest,
                      now: datetime, entered_by: str | None,
                      source_ip: str | None, proved: bool = False) -> Follower | None:
    """The reporter as a follower. Addresses a member of staff took down, or that the
    channel proved (``proved``: an e-mail's checked sender), are proved;
    an anonymous report's get one receipt asking to confirm them, if that send is within
    the anonymous budgets (services.outreach): over them, the report is still stored,
    and nobody is messaged about it."""
    if entered_by is not None or proved:
        return Follower.make(REPORTER, now, form.email, form.phone, form.language,
                             confirmed=tuple(c for c, v in (("email", form.email),
                                                            ("sms", form.phone)) if v))
    if ports.outreach is not None:
        from chalicelib.domain.errors import Throttled
        from chalicelib.services.outreach import allow_anonymous_send

        try:
            allow_anonymous_send(ports.outreach, town, email=form.email, phone=form.phone,
                                 source_ip=source_ip, purpose="receipt")
        except Throttled:
            return None
    return Follower.make(REPORTER, now, form.email, form.phone, form.language)


def _zone_of(catalogue: Catalogue, lat: float | None, long: float | None) -> str | None:
    """The first of the town's zones the point falls in (zones imported only when it has some)."""
    if not catalogue.zones or lat is None or long is None:
        return None
    from chalicelib.domain.zones import zones_containing

    found = zones_containing(catalogue.zones, lat, long)
    return found[0].code if found else None


def _check_photo(photo: Photo) -> None:
    if not photo.content:
        raise InvalidInput.of([Problem("media", "is empty")])
    if len(photo.content) > PHOTO_LIMIT_BYTES:
        raise InvalidInput.of([Problem("media", f"must be at most "
                                                f"{PHOTO_LIMIT_BYTES // (1024 * 1024)} MB")])
    if photo.content_type.split(";")[0].strip().lower() not in PHOTO_TYPES:
        raise InvalidInput.of([Problem("media", "must be a JPEG, PNG, WebP or HEIC photo")])


def submit_request_once(idempotency_key: str | None, guard: IdempotencyGuard,
                        form: NewServiceRequest, town: Town, catalogue: Catalogue,
                        key: ApiKey | None, ports: IntakePorts, photo: Photo | None = None,
                        deadline: object = None, source_ip: str | None = None, *,
                        channel: str = "open311", entered_by: str | None = None) -> Receipt:
    """``submit_request``, made safe to retry: a repeated Idempotency-Key (from the same
    town and key, or the same keyless channel: the web pages) returns the first receipt
    and stores nothing new."""
    if not idempotency_key:
        return submit_request(form, town, catalogue, key, ports, photo, channel=channel,
                              entered_by=entered_by, source_ip=source_ip)
    if len(idempotency_key) > 255:
        raise InvalidInput.of([Problem("Idempotency-Key", "must be at most 255 characters")])
    payload: dict[str, object] = {"form": form.model_dump(mode="json")}
    if photo is not None:
        payload["media_sha256"] = hashlib.sha256(photo.content).hexdigest()
    scope = f"{town.town_id}#{key.key_id if key else channel}#{idempotency_key}"

    def first_time() -> dict[str, object]:
        receipt = asdict(submit_request(form, town, catalogue, key, ports, photo,
                                        channel=channel, entered_by=entered_by,
                                        source_ip=source_ip))
        receipt["token"] = _seal(str(receipt["token"]), scope)
        return receipt

    first = guard.run_once(scope, payload, first_time, deadline)
    return Receipt(**{**first, "token": _unseal(str(first["token"]), scope)})  # type: ignore[arg-type]


# The idempotency table keeps the first receipt so that a retry gets the same token. It
# keeps it sealed: XORed with a keystream drawn from the call's scope (town, key id and
# the client's Idempotency-Key), which the table does not hold (powertools stores only a
# hash of it), and a random nonce (so a scope used again after its record expired never
# reuses a keystream). A retry brings the scope again and so can open it; someone reading
# the table (or a backup of it) cannot, unless they can guess the Idempotency-Key.
_SEAL_LABEL = b"town311 open311 token in idempotency record v1"
_SEALED, _NONCE_BYTES = "sealed:", 16


def _keystream(scope: str, nonce: bytes, length: int) -> bytes:
    key = hashlib.sha256(scope.encode("utf-8", "surrogatepass")).digest()
    blocks = (hmac.new(key, _SEAL_LABEL + nonce + bytes([n]), hashlib.sha256).digest()
              for n in range(length // 32 + 1))
    return b"".join(blocks)[:length]


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def _seal(token: str, scope: str) -> str:
    plain, nonce = token.encode(), secrets.token_bytes(_NONCE_BYTES)
    sealed = nonce + _xor(plain, _keystream(scope, nonce, len(plain)))
    return _SEALED + base64.urlsafe_b64encode(sealed).decode()


def _unseal(stored: str, scope: str) -> str:
    if not stored.startswith(_SEALED):
        return stored  # a receipt cached before tokens were sealed (expires within a day)
    raw = base64.urlsafe_b64decode(stored.removeprefix(_SEALED))
    nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    return _xor(sealed, _keystream(scope, nonce, len(sealed))).decode()
