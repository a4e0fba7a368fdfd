"""Turning a resident's upload into a photo that is safe to show.

The bytes decide the type (never the name or the declared content type); metadata goes
(GPS above all) by re-encoding the pixels; orientation is applied first so the picture
still stands the right way up once its EXIF is gone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Protocol

from chalicelib.domain.requests import TimelineEvent
from chalicelib.services.ports import RequestStore

log = logging.getLogger(__name__)

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 12 MP phone photo is far below; a decompression bomb is not
DISPLAY_EDGE, THUMBNAIL_EDGE = 1600, 400
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
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
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise PhotoRejected("the file is not a photo we can read") from None
    except (OSError, SyntaxError, ValueError):
        raise PhotoRejected("the photo is damaged or truncated") from None
    return PreparedPhoto(_jpeg(upright, DISPLAY_EDGE), _jpeg(upright, THUMBNAIL_EDGE),
                         upright.width, upright.height)


def _jpeg(image, edge: int) -> bytes:  # noqa: ANN001 - a PIL image
    copy = image.copy()
    copy.thumbnail((edge, edge))
    out = BytesIO()
    # No exif= and no icc_profile= argument: the output carries pixels only.
    copy.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


class PhotoBucket(Protocol):
    def read(self, key: str) -> bytes | None: ...

    def publish(self, key: str, content: bytes, content_type: str) -> None: ...

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class PhotoPorts:
    bucket: PhotoBucket
    store: RequestStore
    new_id: Callable[[], str]
    now: Callable[[], datetime]


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
    if request is None:
        ports.bucket.delete(key)
        return "ignored"
    now = ports.now()
    try:
        prepared = prepare_photo(content)
    except PhotoRejected as rejected:
        event = TimelineEvent(at=now, event_id=ports.new_id(), kind="photo_rejected",
                              summary="Photo not accepted", description=str(rejected),
                              public=False)
        request.updated_at = now
        ports.store.record_change(request, event)
        ports.bucket.delete(key)
        return "rejected"
    base = f"photos/{town_id}/{request_id}/{photo_id}"
    ports.bucket.publish(f"{base}.jpg", prepared.display, "image/jpeg")
    ports.bucket.publish(f"{base}-thumb.jpg", prepared.thumbnail, "image/jpeg")
    event = TimelineEvent(at=now, event_id=ports.new_id(), kind="photo_added",
                          summary="Photo added", actor_role="resident")
    # Stored as the object key; the API turns it into a URL on its own host when shown.
    request.media_url = request.media_url or f"{base}.jpg"
    request.updated_at = now
    request.timeline.append(event)
    ports.store.record_change(request, event)
    ports.bucket.delete(key)
    return "published"
