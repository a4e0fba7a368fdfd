"""Turning a resident's upload into a photo that is safe to show.

The bytes decide the type (never the name or the declared content type); metadata goes
(GPS above all) by re-encoding the pixels; orientation is applied first so the picture
still stands the right way up once its EXIF is gone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from io import BytesIO
from typing import TYPE_CHECKING

from chalicelib.domain.access import Permission, Principal, require, require_work
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, Problem
from chalicelib.domain.requests import (
    RequestPhoto,
    ServiceRequest,
    TimelineEvent,
    token_matches,
)
from chalicelib.domain.towns import Town
from chalicelib.services.retries import retry_on_conflict

if TYPE_CHECKING:
    from chalicelib.services.ports import (
        PhotoBucket,
        PhotoInbox,
        PhotoStorage,
        PhotoUploads,
        RequestStore,
        TownDirectory,
        UsageMeter,
    )

if TYPE_CHECKING:  # Pillow loads with the first photo, not on cold start
    from PIL.Image import Image as PILImage

log = logging.getLogger(__name__)

MAX_BYTES = 12 * 1024 * 1024  # a 12 MP phone JPEG is 3-6 MB, a HEIC 1-3 MB
MAX_PIXELS = 50_000_000  # a 12 MP phone photo is far below; a decompression bomb is not
DISPLAY_EDGE, THUMBNAIL_EDGE = 1600, 400
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
UPLOAD_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")
UPLOAD_SECONDS = 300  # how long a presigned upload form is good for
STAFF_PREFIX = "staff-"  # photo ids of staff uploads start with this
_UPLOAD_KEY = re.compile(r"^incoming/([^/]{1,100})/([A-Za-z0-9_\-]{1,64})/([A-Za-z0-9_\-]{1,64})$")


class PhotoRejected(Exception):
    """The upload is not a photo we will show; the reason is recorded on the request."""


@dataclass(frozen=True)
class PreparedPhoto:
    display: bytes
    thumbnail: bytes
    width: int
    height: int


def prepare_photo(content: bytes) -> PreparedPhoto:
    """Check and re-encode an upload as metadata-free JPEGs, or raise PhotoRejected."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not content:
        raise PhotoRejected("the file is empty")
    if len(content) > MAX_BYTES:
        raise PhotoRejected(f"the file is larger than {MAX_BYTES // 2**20} MB")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    _open_heif_too()
    try:
        with Image.open(BytesIO(content)) as image:
            if image.format not in ACCEPTED_FORMATS:
                raise PhotoRejected(f"{image.format or 'this'} files are not accepted")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise PhotoRejected("the picture has too many pixels")
            image.load()
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except PhotoRejected:
        raise
    except Image.DecompressionBombError:
        raise PhotoRejected("the picture has too many pixels") from None
    except UnidentifiedImageError:
        raise PhotoRejected("the file is not a photo we can read") from None
    except (OSError, SyntaxError, ValueError):
        raise PhotoRejected("the photo is damaged or truncated") from None
    return PreparedPhoto(_jpeg(upright, DISPLAY_EDGE), _jpeg(upright, THUMBNAIL_EDGE),
                         upright.width, upright.height)


def _open_heif_too() -> None:
    """Teach Pillow HEIC/HEIF (iPhones' format) once, in the photo function only."""
    global _HEIF
    if not _HEIF:
        try:
            import pillow_heif

            pillow_heif.register_heif_opener()
        except ImportError:  # pragma: no cover - the layer is missing: HEIC is refused
            log.error("pillow-heif is not installed; HEIC photos cannot be read")
        _HEIF = True


_HEIF = False


def _jpeg(image: PILImage, edge: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((edge, edge))
    out = BytesIO()
    # No exif= and no icc_profile= argument: the output carries pixels only.
    copy.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


@dataclass(frozen=True)
class PhotoPorts:
    bucket: PhotoBucket
    store: RequestStore
    new_id: Callable[[], str]
    now: Callable[[], datetime]
    towns: TownDirectory | None = None
    usage: UsageMeter | None = None  # what the town uses this month (services.usage)


TRIES = 3


def process_upload(key: str, ports: PhotoPorts) -> str:
    """Process one uploaded object; returns "published", "rejected" or "ignored".

    Whatever happens, the upload is deleted afterwards, so nothing unprocessed stays.
    """
    match = _UPLOAD_KEY.match(key)
    if not match:
        log.warning("object outside the upload layout ignored", extra={"key": key})
        return "ignored"
    town_id, request_id, photo_id = match.groups()
    content = ports.bucket.read(key)
    if content is None:  # already processed by an earlier delivery of the same event
        return "ignored"
    request = ports.store.get(town_id, request_id, with_timeline=False)
    if request is None or request.photo(photo_id) is not None:
        ports.bucket.delete(key)
        return "ignored"
    by = "staff" if photo_id.startswith(STAFF_PREFIX) else "resident"
    town = ports.towns.get_town(town_id) if ports.towns is not None else None
    limit = town.photo_limit if town is not None else 5
    try:
        if len(request.photos) >= limit:
            raise PhotoRejected(f"the request has its {limit} photos already")
        prepared = prepare_photo(content)
    except PhotoRejected as rejected:
        reason = str(rejected)
        _record(ports, town_id, request_id, lambda r: TimelineEvent(
            at=ports.now(), event_id=ports.new_id(), kind="photo_rejected",
            summary="Photo not accepted", description=reason, public=False,
            actor_role=by), first=request)
        log.info("photo rejected", extra={"key": key, "reason": reason})
        ports.bucket.delete(key)
        return "rejected"
    base = f"photos/{town_id}/{request_id}/{photo_id}"
    ports.bucket.publish(f"{base}.jpg", prepared.display, "image/jpeg")
    ports.bucket.publish(f"{base}-thumb.jpg", prepared.thumbnail, "image/jpeg")
    photo = RequestPhoto(photo_id=photo_id, display_key=f"{base}.jpg",
                         thumbnail_key=f"{base}-thumb.jpg", width=prepared.width,
                         height=prepared.height, added_at=ports.now(), added_by=by)

    added: list[RequestPhoto] = []  # by the try that stored it (none: added before)

    def add(r: ServiceRequest) -> TimelineEvent | None:
        added.clear()
        if r.photo(photo_id) is not None:
            return None  # a redelivered event: added already
        added.append(photo)
        r.photos.append(photo)
        _show_first_photo(r)
        return TimelineEvent(at=ports.now(), event_id=ports.new_id(), kind="photo_added",
                             summary="Photo added", actor_role=by)

    _record(ports, town_id, request_id, add, first=request)
    if added:  # counted once: only the delivery that added the photo counts it
        from chalicelib.services.usage import count

        count(ports.usage, town_id, ports.now(), photos=1,
              photo_bytes=len(prepared.display) + len(prepared.thumbnail))
    ports.bucket.delete(key)
    return "published"


def _show_first_photo(request: ServiceRequest) -> None:
    """Open311's one ``media_url`` is the first photo the public may see (a URL the app
    sent itself is kept)."""
    if request.media_url and not request.media_url.startswith("photos/"):
        return
    shown = request.public_photos
    request.media_url = shown[0].display_key if shown else None


def _record(ports: PhotoPorts | PhotoWork, town_id: str, request_id: str,
            change: Callable[[ServiceRequest], TimelineEvent | None],
            first: ServiceRequest | None = None) -> ServiceRequest:
    """Apply ``change`` and store it with its event, again on what is there if the request
    moved meanwhile (a status change while the photo was processed). ``first``: the
    request as just read, used for the first try."""
    def attempt(n: int) -> ServiceRequest:
        request = first if n == 0 and first is not None else \
            ports.store.get(town_id, request_id, with_timeline=False)
        if request is None:
            raise NotFound(f"no service request {request_id[:64]!r}")
        event = change(request)
        if event is None:
            return request
        request.updated_at = event.at
        request.timeline.append(event)
        ports.store.record_change(request, event)
        return request

    return retry_on_conflict(attempt, tries=TRIES)


# --- uploading, hiding and deleting ----------------------------------------------------------


@dataclass(frozen=True)
class PhotoWork:
    store: RequestStore
    uploads: PhotoUploads
    new_id: Callable[[], str]
    now: Callable[[], datetime]


def upload_form(work: PhotoWork, town: Town, request_id: str, content_type: str, *,
                token: str | None = None, who: Principal | None = None) -> dict[str, object]:
    """A presigned POST for one more photo: the submitter proves it is theirs with the
    request's Open311 token; staff with their sign-in. The form allows one object under
    ``incoming/<town>/<request>/``, of the declared type, at most MAX_BYTES, for 5 minutes."""
    if who is not None:
        require(who, Permission.ENTER_REQUESTS, town.town_id)
    request = _own_request(work, town, request_id, token, who)
    if content_type not in UPLOAD_TYPES:
        raise InvalidInput.of([Problem("content_type", f"must be one of "
                                                       f"{', '.join(UPLOAD_TYPES)}")])
    _check_room(request, town)
    photo_id = (STAFF_PREFIX if who is not None else "") + work.new_id()
    key = f"incoming/{town.town_id}/{request.request_id}/{photo_id}"
    form = work.uploads.upload_form(key, content_type, MAX_BYTES, UPLOAD_SECONDS)
    return {"photo_id": photo_id, "upload": form, "expires_in": UPLOAD_SECONDS,
            "max_bytes": MAX_BYTES}


def _own_request(work: PhotoWork, town: Town, request_id: str, token: str | None,
                 who: Principal | None = None) -> ServiceRequest:
    """The request a photo is for, if the caller may add one: its token, or staff."""
    request = work.store.get(town.town_id, request_id[:64], with_timeline=False)
    if request is None or (who is None and not token_matches(token, request.token_hash)):
        raise NotFound(f"no service request {request_id[:64]!r} with that token")
    return request


def _check_room(request: ServiceRequest, town: Town) -> None:
    # The photo worker counts again when it processes (uploads may cross).
    if len(request.photos) >= town.photo_limit:
        raise Conflict(f"a request may have {town.photo_limit} photos")


def sniffed_type(content: bytes) -> str | None:
    """The photo type the first bytes say (never the name or the declared type): a quick
    refusal of what is surely no photo before anything is stored. Pillow decides for good
    when the photo worker processes it (``prepare_photo``)."""
    head = content[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"hevx", b"heim",
                                                b"heis", b"mif1", b"msf1"):
        return "image/heic"
    return None


def receive_photo(work: PhotoWork, inbox: PhotoInbox, town: Town, request_id: str,
                  token: str | None, content: bytes) -> str:
    """A photo the submitter sends through the app (the web form, without a presigned
    POST): checked as ``upload_form`` checks, then put where presigned uploads land
    (``incoming/``), so the same photo worker makes it safe and adds it. Returns its key;
    InvalidInput for what is surely not a photo or too big, before anything is stored."""
    content_type = sniffed_type(content)
    if not content or content_type is None:
        raise InvalidInput.of([Problem("media", "must be a JPEG, PNG, WebP or HEIC photo")])
    if len(content) > MAX_BYTES:
        raise InvalidInput.of([Problem("media", f"must be at most {MAX_BYTES // 2**20} MB")])
    request = _own_request(work, town, request_id, token)
    _check_room(request, town)
    return inbox.receive_upload(town.town_id, request.request_id, work.new_id(), content,
                                content_type)


def check_staff_photo(content: bytes) -> str:
    """The photo type of a file staff send through the app (the "after" photo on close),
    or InvalidInput for what is surely not a photo or too big: checked before the action
    it comes with, so a refused file changes nothing."""
    content_type = sniffed_type(content)
    if not content or content_type is None:
        raise InvalidInput.of([Problem("media", "must be a JPEG, PNG, WebP or HEIC photo")])
    if len(content) > MAX_BYTES:
        raise InvalidInput.of([Problem("media", f"must be at most {MAX_BYTES // 2**20} MB")])
    return content_type


def receive_staff_photo(work: PhotoWork, inbox: PhotoInbox, town: Town, who: Principal,
                        department: str, request_id: str, content: bytes) -> str:
    """A photo a department's worker sends through the app (the "after" photo of a
    repair): allowed exactly when ``work.act`` would let them act on the request — their
    department holds it (supervisors and admins: any) — then put where every upload lands
    (``incoming/``) under a staff photo id, for the photo worker. Returns its key."""
    require_work(who, department, town.town_id)
    content_type = check_staff_photo(content)
    request = work.store.get(town.town_id, request_id[:64], with_timeline=False)
    if request is None or request.department != department:
        raise NotFound(f"no service request {request_id[:64]!r} in {department}")
    _check_room(request, town)
    return inbox.receive_upload(town.town_id, request.request_id,
                                STAFF_PREFIX + work.new_id(), content, content_type)


def set_hidden(work: PhotoWork, who: Principal, request_id: str, photo_id: str,
               hidden: bool) -> ServiceRequest:
    """Staff hide a photo from the public (faces, plates, something offensive) or show it
    again; it is kept for staff either way."""
    require(who, Permission.WORK_REQUESTS, who.town_id)
    town_id = who.town_id or ""

    def change(r: ServiceRequest) -> TimelineEvent | None:
        require_work(who, r.department, town_id)  # department workers: their own only
        found = r.photo(photo_id)
        if found is None:
            raise NotFound(f"no photo {photo_id[:64]!r} on this request")
        if found.hidden == hidden:
            return None
        r.photos = [replace(p, hidden=hidden) if p.photo_id == photo_id else p
                    for p in r.photos]
        _show_first_photo(r)
        return TimelineEvent(at=work.now(), event_id=work.new_id(),
                             kind="photo_hidden" if hidden else "photo_shown",
                             summary="Photo hidden from the public" if hidden
                             else "Photo shown again", public=False,
                             actor_role=who.public_role)

    return _record(work, town_id, request_id[:64], change)


def delete_own_photo(work: PhotoWork, town: Town, request_id: str, photo_id: str,
                     token: str | None) -> ServiceRequest:
    """The reporter (holding the request's token) deletes a photo they sent: gone from
    the request and from storage."""
    request = work.store.get(town.town_id, request_id[:64], with_timeline=False)
    if request is None or not token_matches(token, request.token_hash):
        raise NotFound(f"no service request {request_id[:64]!r} with that token")
    found = request.photo(photo_id)
    if found is None or found.added_by != "resident":
        raise NotFound(f"no photo {photo_id[:64]!r} of yours on this request")

    def change(r: ServiceRequest) -> TimelineEvent | None:
        if r.photo(photo_id) is None:
            return None
        r.photos = [p for p in r.photos if p.photo_id != photo_id]
        _show_first_photo(r)
        return TimelineEvent(at=work.now(), event_id=work.new_id(), kind="photo_deleted",
                             summary="Photo removed by the reporter", actor_role="resident")

    updated = _record(work, town.town_id, request.request_id, change)
    for key in (found.display_key, found.thumbnail_key):
        work.uploads.delete(key)
    return updated


def public_photo_url(store: RequestStore, bucket: PhotoStorage, town_id: str,
                     request_id: str, name: str) -> str | None:
    """A short-lived signed URL of a photo the public may see; None for a hidden or
    deleted one (its object may still exist) or an unknown request."""
    request = store.get(town_id, request_id, with_timeline=False)
    key = f"photos/{town_id}/{request_id}/{name}"
    if request is None or not any(key in (p.display_key, p.thumbnail_key)
                                  for p in request.public_photos):
        return None
    return bucket.signed_url(key)
