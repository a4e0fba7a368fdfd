"""Wire formats of residents following requests (tracking, "me too", disputes, ratings)
and of staff merging duplicates."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field

from chalicelib.schemas.admin import Email
from chalicelib.schemas.fields import public_text
from chalicelib.schemas.model import WireModel
from chalicelib.schemas.open311_documents import open311_time

Phone = Annotated[str, Field(max_length=30, pattern=r"^\+?[0-9 ().\-]{3,30}$")]
Language = Annotated[str, Field(pattern=r"^[A-Za-z]{2}(-[A-Za-z]{2})?$")]


class _Strict(WireModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FollowIn(_Strict):
    """POST /towns/{town}/requests/{id or tracking number}/followers: "me too"."""

    email: Email | None = None
    phone: Phone | None = None
    language: Language | None = None


class DisputeIn(_Strict):
    note: Annotated[str, Field(min_length=1, max_length=2000),
                    public_text(2000, multiline=True)]


class RatingIn(_Strict):
    score: Annotated[int, Field(ge=1, le=5, strict=True)]
    comment: Annotated[str | None, Field(max_length=1000), public_text(1000, multiline=True)
                       ] = None


class MergeIn(_Strict):
    into: Annotated[str, Field(min_length=1, max_length=64)]  # the request it repeats
    note: Annotated[str | None, Field(max_length=2000), public_text(2000, multiline=True)
                    ] = None


def tracking_document(r: Any, town: Any) -> dict[str, Any]:
    """What anyone with the tracking number sees: the public timeline, roles not names,
    never the reporter."""
    zone = town.zone
    return {
        "tracking_number": r.tracking_number,
        "service_request_id": r.request_id,
        "service_code": r.service_code,
        "service_name": r.service_name,
        "status": r.status,
        "state": r.lifecycle,
        "resolution": r.resolution,
        "disputed": r.disputed,
        "agency_responsible": r.agency_responsible,
        "address": r.place.address,
        "lat": r.place.lat,
        "long": r.place.long,
        "requested_datetime": open311_time(r.requested_at, zone),
        "updated_datetime": open311_time(r.updated_at, zone),
        "expected_datetime": open311_time(r.expected_at, zone),
        "closed_datetime": open311_time(r.closed_at, zone),
        "followers": r.followers,
        "parent_service_request_id": r.parent_request_id,
        "photos": [{"photo_id": p.photo_id, "url": f"/{p.display_key}",
                    "thumbnail_url": f"/{p.thumbnail_key}", "width": p.width,
                    "height": p.height} for p in r.public_photos],
        "timeline": [
            {"datetime": open311_time(e.at, zone), "type": e.kind, "summary": e.summary,
             "description": e.description, "by": e.actor_role}
            for e in r.timeline if e.public],
    }
