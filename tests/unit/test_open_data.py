"""Open data's privacy filter and blurring (chalicelib.domain.open_data): every field of a
stored request is either published on purpose or never appears in a CSV or GeoJSON answer,
and a sensitive service's point is the centre of its grid cell, never the point."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from datetime import UTC, datetime

import pytest

from chalicelib.domain import open_data
from chalicelib.domain.open_data import (
    COLUMNS,
    OpenDataSettings,
    Position,
    blur,
    csv_rows,
    decode_cursor,
    encode_cursor,
    geojson_feature,
    public_record,
)
from chalicelib.domain.requests import (
    IntakeGuess,
    Place,
    Reporter,
    RequestPhoto,
    ServiceRequest,
    TimelineEvent,
)
from chalicelib.domain.sla import SlaTarget

AT = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)

# Every field of a stored request, and what open data does with it. A field added to
# ServiceRequest later fails test_every_stored_field_is_decided until it is put here.
PUBLISHED = {"town_id", "request_id", "service_code", "service_name", "requested_at",
             "updated_at", "place", "description", "status", "status_notes",
             "agency_responsible", "expected_at", "media_url", "closed_at", "photos"}
PRIVATE = {"lifecycle", "resolution", "department", "service_notice", "answers", "channel",
           "reporter", "api_key_id", "entered_by", "parent_request_id", "zone",
           "tracking_number", "token_hash", "followers", "disputed", "rating",
           "rating_comment", "sla_target", "sla_started_at", "escalation_level",
           "next_sla_at", "sla_hours_left", "version", "timeline", "needs_confirmation",
           "intake_guess"}


def _secret(name: str) -> str:
    return f"SECRET{name.upper()}"


def stored_request(service_code: str = "pothole") -> ServiceRequest:
    """A request with every private field set to a value that names it."""
    return ServiceRequest(
        town_id="maplefalls.example", request_id="REQ1", service_code=service_code,
        service_name="Pothole", requested_at=AT, updated_at=AT,
        place=Place(lat=43.0731234, long=-89.4012345, address="12 Elm Street",
                    address_id=_secret("address_id"), zipcode="53703"),
        description="Deep hole by the kerb", status="open", status_notes="Crew booked",
        lifecycle=_secret("lifecycle"), resolution=_secret("resolution"),
        agency_responsible="Streets", department=_secret("department"),
        service_notice=_secret("service_notice"), expected_at=AT,
        media_url="photos/t/REQ1/shown.jpg",
        answers={"secret_question": _secret("answer"), "many": [_secret("answerlist")]},
        channel=_secret("channel"),
        reporter=Reporter(email="secretemail@example.com", phone="+15555550100",
                          first_name=_secret("first"), last_name=_secret("last"),
                          device_id=_secret("device"), account_id=_secret("account"),
                          language="xx-SECRETLANG"),
        api_key_id=_secret("api_key_id"), entered_by=_secret("entered_by"),
        parent_request_id=_secret("parent"), zone=_secret("zone"),
        tracking_number=_secret("tracking"), token_hash=_secret("token_hash"),
        followers=987654, closed_at=AT, disputed=True, rating=4,
        rating_comment=_secret("rating_comment"),
        photos=[RequestPhoto("p1", "photos/t/REQ1/shown.jpg", "photos/t/REQ1/shown-t.jpg",
                             10, 10, AT),
                RequestPhoto("p2", _secret("hidden_photo"), _secret("hidden_thumb"),
                             10, 10, AT, added_by=_secret("photo_by"), hidden=True)],
        sla_target=SlaTarget(123.456), sla_started_at=datetime(2001, 2, 3, tzinfo=UTC),
        escalation_level=7, next_sla_at=datetime(2002, 3, 4, tzinfo=UTC),
        sla_hours_left=31.4159, version=8642, needs_confirmation=True,
        intake_guess=IntakeGuess((_secret("guessed_service"),), _secret("guessed_words"),
                                 _secret("guessed_label"), 12.3456, 65.4321),
        timeline=[TimelineEvent(AT, _secret("event_id"), _secret("kind"),
                                _secret("internal_summary"), _secret("internal_note"),
                                public=False, actor_role=_secret("actor"))],
    )


PRIVATE_VALUES = [
    "SECRET", "secretemail", "5555550100", "987654", "123.456", "2001-02-03", "2002-03-04",
    "31.4159", "8642", "xx-SECRETLANG", "12.3456", "65.4321",
]


def _everything_published(request: ServiceRequest, settings: OpenDataSettings) -> str:
    record = public_record(request, settings, "https://311.example")
    return csv_rows([record], header=True) + json.dumps(geojson_feature(record))


def test_every_stored_field_is_decided() -> None:
    fields = {f.name for f in dataclasses.fields(ServiceRequest)}
    assert fields == PUBLISHED | PRIVATE, "decide whether a new request field is published"
    assert not PUBLISHED & PRIVATE


@pytest.mark.parametrize("sensitive", [False, True])
def test_no_private_field_survives(sensitive: bool) -> None:
    settings = OpenDataSettings(250, frozenset({"pothole"} if sensitive else ()))
    published = _everything_published(stored_request(), settings)
    for value in PRIVATE_VALUES:
        assert value not in published, value


def test_the_published_fields_are_the_columns() -> None:
    record = public_record(stored_request(), OpenDataSettings())
    assert tuple(record) == COLUMNS
    assert record["address"] == "12 Elm Street" and record["lat"] == 43.0731234
    assert record["media_url"] == "/photos/t/REQ1/shown.jpg"
    rooted = public_record(stored_request(), OpenDataSettings(), "https://311.example")
    assert rooted["media_url"] == "https://311.example/photos/t/REQ1/shown.jpg"
    assert record["closed_datetime"] == "2026-05-04T12:00:00Z"
    assert record["location_blurred"] is False


def test_a_hidden_photo_is_never_the_media_url() -> None:
    request = stored_request()
    request.photos[1] = dataclasses.replace(request.photos[1], display_key="photos/hidden.jpg")
    request.media_url = "photos/hidden.jpg"
    assert public_record(request, OpenDataSettings())["media_url"] is None


def test_a_sensitive_service_loses_address_words_and_photo_and_its_point_is_blurred() -> None:
    settings = OpenDataSettings(250, frozenset({"pothole"}))
    record = public_record(stored_request(), settings)
    assert record["address"] is None and record["description"] is None
    assert record["media_url"] is None and record["location_blurred"] is True
    assert (record["lat"], record["long"]) == blur(43.0731234, -89.4012345, 250)
    assert (record["lat"], record["long"]) != (43.0731234, -89.4012345)
    # Other services of the town keep their place.
    other = public_record(stored_request("graffiti"), settings)
    assert other["address"] == "12 Elm Street" and other["location_blurred"] is False


def _metres(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    north = (a[0] - b[0]) * open_data.METRES_PER_DEGREE_LAT
    east = (a[1] - b[1]) * open_data.METRES_PER_DEGREE_LAT * math.cos(math.radians(a[0]))
    return abs(north), abs(east)


@pytest.mark.parametrize("grid", [50, 250, 1000])
@pytest.mark.parametrize("point", [(43.0731, -89.4012), (-33.8688, 151.2093),
                                   (64.1466, -21.9426), (0.0001, -0.0001)])
def test_blurring_snaps_to_the_cell_centre_within_half_a_cell(grid, point) -> None:
    centre = blur(*point, grid)
    north, east = _metres(centre, point)
    assert north <= grid / 2 + 1 and east <= grid / 2 + 1
    assert centre != point
    # Every point of the cell gives the same centre; the centre is its own centre.
    assert blur(*centre, grid) == centre
    nudged = (point[0] + (centre[0] - point[0]) / 2, point[1] + (centre[1] - point[1]) / 2)
    assert blur(*nudged, grid) == centre


def test_neighbouring_cells_have_centres_a_cell_apart() -> None:
    a = blur(43.0731, -89.4012, 250)
    step = 250 / open_data.METRES_PER_DEGREE_LAT
    b = blur(a[0] + step, a[1], 250)
    assert round(_metres(a, b)[0]) == 250


def test_csv_has_the_header_and_neutralises_formulas_but_not_numbers() -> None:
    request = dataclasses.replace(stored_request(), description='=HYPERLINK("x")',
                                  status_notes="-crew", place=Place(lat=-1.5, long=-2.5))
    text = csv_rows([public_record(request, OpenDataSettings())], header=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(COLUMNS)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["description"] == "'=HYPERLINK(\"x\")" and row["status_notes"] == "'-crew"
    assert row["lat"] == "-1.5" and row["long"] == "-2.5"
    assert text.endswith("\r\n")


def test_geojson_is_longitude_first_and_null_without_a_point() -> None:
    record = public_record(stored_request(), OpenDataSettings())
    feature = geojson_feature(record)
    assert feature["geometry"] == {"type": "Point", "coordinates": [-89.4012345, 43.0731234]}
    assert "lat" not in feature["properties"]
    bare = public_record(dataclasses.replace(stored_request(), place=Place(address="x")),
                         OpenDataSettings())
    assert geojson_feature(bare)["geometry"] is None


def test_a_cursor_round_trips_and_anything_else_is_refused() -> None:
    position = Position(datetime(2026, 5, 4, 12, 0, 0, 123456, tzinfo=UTC), "01JABC")
    assert decode_cursor(encode_cursor(position)) == position
    for bad in ["", "x", "!!!!", "a" * 300, encode_cursor(position)[4:],
                "MjAyNi0wNS0wNFQxMjowMDowMC4xMjM0NTZafA"]:  # "...Z|" with no id
        with pytest.raises(ValueError):
            decode_cursor(bad)
