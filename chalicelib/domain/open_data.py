"""Open data: what of a town's requests the public may have, in CSV and GeoJSON.

The record is built from an allowlist (``public_record``): a field of ``ServiceRequest``
reaches open data only if it is named here, so a field added to requests later stays
private until someone decides otherwise (tests/unit/test_open_data.py fails for every
stored field that is neither published nor listed as private).

Published: what Open311's ``GET requests`` already shows anyone (id, service, status and
its public note, the description, the department responsible, the times, the address and
point, the first photo the public may see). Never published: who reported or follows (names,
e-mail, phone, device, account, language), staff (who entered it, internal notes, the
timeline), the API key, tokens and tracking numbers, answers to the service's questions,
hidden photos, ratings and their comments, the zone and SLA workings.

Sensitive services (a town lists them: a needle, a welfare check, an abandoned vehicle in
someone's drive) are published without their address, description or photo, and with
their point moved to the centre of its grid cell (``blur``): a square of the town's
``open_data_grid_m`` metres.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.requests import ServiceRequest

METRES_PER_DEGREE_LAT = 111_320.0  # a degree of latitude, near enough everywhere
GRID_MIN_M, GRID_MAX_M, GRID_DEFAULT_M = 50, 5000, 250
FEED_PAGE_MAX, FEED_PAGE_DEFAULT = 500, 100

# The columns of the CSV, in order; the GeoJSON properties are the same names.
COLUMNS = (
    "service_request_id", "service_code", "service_name", "status", "status_notes",
    "description", "agency_responsible", "requested_datetime", "updated_datetime",
    "expected_datetime", "closed_datetime", "address", "zipcode", "lat", "long",
    "location_blurred", "media_url",
)
# Text a spreadsheet could take for a formula ("=HYPERLINK(...)") is written with a
# leading apostrophe; numbers (a negative longitude) are not text and keep their sign.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_TEXT_COLUMNS = frozenset(COLUMNS) - {"lat", "long", "location_blurred"}


@dataclass(frozen=True)
class OpenDataSettings:
    """A town's choices: which services are sensitive, and the grid their points snap to."""

    grid_m: int = GRID_DEFAULT_M
    sensitive_services: frozenset[str] = frozenset()


def blur(lat: float, long: float, grid_m: int) -> tuple[float, float]:
    """The centre of the grid cell holding (lat, long): never the point itself.

    Rows of cells are ``grid_m`` metres of latitude tall, counted from the equator; each
    row is cut into cells ``grid_m`` metres wide at the row's middle latitude, counted from
    the prime meridian. Every point of a cell gives the same centre, so the published
    point tells only the cell (a resident's house in a 250 m square, not the house), and
    the same request is published at the same place every time."""
    cell_lat = grid_m / METRES_PER_DEGREE_LAT
    row = math.floor(lat / cell_lat)
    centre_lat = (row + 0.5) * cell_lat
    width = grid_m / (METRES_PER_DEGREE_LAT * max(math.cos(math.radians(centre_lat)), 1e-6))
    centre_long = (math.floor(long / width) + 0.5) * width
    return round(centre_lat, 6), round(centre_long, 6)


def _time(at: datetime | None) -> str | None:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def public_record(request: ServiceRequest, settings: OpenDataSettings,
                  photo_root: str = "") -> dict[str, Any]:
    """One request as open data: the allowlisted fields, and a sensitive service's place
    blurred and its words dropped."""
    sensitive = request.service_code in settings.sensitive_services
    place = request.place
    lat, long = place.lat, place.long
    if sensitive and place.has_point:
        lat, long = blur(place.lat, place.long, settings.grid_m)  # type: ignore[arg-type]
    shown = {p.display_key for p in request.public_photos}
    media = request.media_url
    if media and media.startswith("photos/"):
        # Only a photo the public may see, served from the app's own /photos route.
        media = f"{photo_root}/{media}" if media in shown else None
    return {
        "service_request_id": request.request_id,
        "service_code": request.service_code,
        "service_name": request.service_name,
        "status": request.status,
        "status_notes": request.status_notes,
        "description": None if sensitive else request.description,
        "agency_responsible": request.agency_responsible,
        "requested_datetime": _time(request.requested_at),
        "updated_datetime": _time(request.updated_at),
        "expected_datetime": _time(request.expected_at),
        "closed_datetime": _time(request.closed_at),
        "address": None if sensitive else place.address,
        "zipcode": place.zipcode,
        "lat": lat,
        "long": long,
        "location_blurred": sensitive and place.has_point,
        "media_url": None if sensitive else media,
    }


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if name in _TEXT_COLUMNS and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def csv_header() -> str:
    return csv_rows([], header=True)


def csv_rows(records: Iterable[dict[str, Any]], *, header: bool = False) -> str:
    """CSV text (RFC 4180, CRLF line ends) of ``records``, with the header row first if
    asked: an export writes the header once and then its rows part by part."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow(COLUMNS)
    for record in records:
        writer.writerow([_cell(name, record.get(name)) for name in COLUMNS])
    return out.getvalue()


def geojson_feature(record: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON Feature (RFC 7946: longitude first); no geometry without a point."""
    geometry = None
    if record.get("lat") is not None and record.get("long") is not None:
        geometry = {"type": "Point", "coordinates": [record["long"], record["lat"]]}
    properties = {k: v for k, v in record.items() if k not in ("lat", "long")}
    return {"type": "Feature", "id": record["service_request_id"], "geometry": geometry,
            "properties": properties}


@dataclass(frozen=True)
class Position:
    """Where a feed page ended: the last request's updated time and id (the index's order)."""

    at: datetime
    request_id: str


@dataclass(frozen=True)
class Window:
    """Requests in ascending order of their updated (or requested) time, from ``start``
    up to ``end``, after ``after`` when resuming: what a feed page or an export reads."""

    start: datetime
    end: datetime
    by_updated: bool = True
    after: Position | None = None


def encode_cursor(position: Position) -> str:
    """An opaque cursor for the next page (base64url of the position; not a secret)."""
    raw = f"{_time_exact(position.at)}|{position.request_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _time_exact(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor names; ValueError for anything this module did not write."""
    if not cursor or len(cursor) > 200:
        raise ValueError("not a cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("not a cursor") from None
    at_text, sep, request_id = raw.partition("|")
    if not sep or not request_id or len(request_id) > 64 or not request_id.isprintable() \
            or "#" in request_id or len(at_text) != 27 or not at_text.endswith("Z"):
        raise ValueError("not a cursor")
    try:
        at = datetime.fromisoformat(at_text)
    except ValueError:
        raise ValueError("not a cursor") from None
    return Position(at, request_id)
