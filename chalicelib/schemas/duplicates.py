"""The possible-duplicates lookup on the wire: its query parameters and its answer, the
same for residents (web), staff and apps (an Open311 extension).

The answer never carries anything about who reported: only what the public Open311
request list shows, plus the distance and the number of residents following.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import ConfigDict, Field

from chalicelib.schemas.fields import coordinate
from chalicelib.schemas.model import WireModel
from chalicelib.schemas.open311 import Absent, resident_text
from chalicelib.schemas.open311_documents import open311_time

if TYPE_CHECKING:
    from chalicelib.domain.duplicates import DuplicateCheck


class DuplicateSearch(WireModel):
    """``?service_code=&lat=&long=``; other parameters (``jurisdiction_id``, ``api_key``)
    are read elsewhere or ignored."""

    model_config = ConfigDict(extra="ignore")

    service_code: Annotated[str, Field(min_length=1, max_length=100), resident_text(100)]
    lat: Annotated[float, Absent, coordinate(90.0)]
    long: Annotated[float, Absent, coordinate(180.0)]


def duplicates_document(check: DuplicateCheck, zone: tzinfo) -> dict[str, Any]:
    return {
        "radius_m": check.radius_m,
        "window_days": check.window_days,
        "requests": [
            {"service_request_id": r.request_id, "tracking_number": r.tracking_number,
             "service_code": r.service_code, "service_name": r.service_name,
             "status": r.status, "address": r.place.address, "lat": r.place.lat,
             "long": r.place.long, "requested_datetime": open311_time(r.requested_at, zone),
             "distance_m": round(distance), "followers": r.followers}
            for r, distance in check.matches
        ],
    }


def duplicates_xml_document(check: DuplicateCheck, zone: tzinfo) -> dict[str, Any]:
    """The same document for ``.xml``: each request is a ``<request>`` in ``<requests>``."""
    document = duplicates_document(check, zone)
    return {**document, "requests": {"request": document["requests"]}}
