"""Photos (issue 6): presigned uploads, processing by the S3 event, moderation, and a
corpus of bad files made here, each processed correctly or rejected with a reason."""

from __future__ import annotations

import base64
import io
import json
import struct
import zipfile
import zlib

import pytest
from PIL import Image

from tests.functional.helpers import POTHOLE, TOWN, body, post_request

TOWN_BASE = "/towns/maplefalls.example"
JSON = {"Content-Type": "application/json"}
GPS_IFD = 0x8825


def _jpeg_with_gps(size=(640, 480), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[GPS_IFD] = {1: "N", 2: (41.0, 52.0, 41.0), 3: "W", 4: (87.0, 37.0, 47.0)}
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _heic_from_a_phone() -> bytes:
    import pillow_heif

    image = Image.new("RGB", (400, 300), (30, 120, 200))
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (41.0, 52.0, 41.0), 3: "W", 4: (87.0, 37.0, 47.0)}
    heif = pillow_heif.from_pillow(image)
    out = io.BytesIO()
    heif.save(out, quality=60, exif=exif.tobytes())
    return out.getvalue()


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(
        b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def _zip_as_jpg() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "not a photo")
    return out.getvalue()


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (20, 20)).save(out, "GIF")
    return out.getvalue()


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>'
       b'<rect width="10" height="10"/></svg>')


@pytest.fixture
def request_ids(api):
    (receipt,) = body(post_request(api, POTHOLE))
    return receipt["service_request_id"], receipt["token"]


def _upload(deployment, key: str, content: bytes) -> None:
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    deployment.client("s3").put_object(Bucket=bucket, Key=key, Body=content)


def _process(deployment, keys: list[str]) -> dict:
    from chalice.test import Client

    from app import app

    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Post",
                          "s3": {"bucket": {"name": bucket}, "object": {"key": k}}}
                         for k in keys]}
    with Client(app) as lambdas:
        return lambdas.lambda_.invoke("process_photo", event).payload


def _objects(deployment, prefix: str) -> list[str]:
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    found = deployment.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for o in found.get("Contents", [])]


def _staff_view(api, staff, rid) -> dict:
    return body(api.http.get(f"/staff/requests/{rid}", headers=staff.headers("town_admin")))


def _form(api, rid, token, content_type="image/jpeg") -> tuple[int, dict]:
    r = api.http.post(f"{TOWN_BASE}/requests/{rid}/photos", headers=JSON, body=json.dumps(
        {"token": token, "content_type": content_type}).encode())
    return r.status_code, body(r)


def test_a_presigned_post_is_scoped_to_the_request_type_and_size(api, request_ids):
    rid, token = request_ids
    status, form = _form(api, rid, token)
    assert status == 201, form
    fields = form["upload"]["fields"]
    assert fields["key"] == f"incoming/maplefalls.example/{rid}/{form['photo_id']}"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert {"Content-Type": "image/jpeg"} in policy["conditions"]
    assert ["content-length-range", 1, form["max_bytes"]] in policy["conditions"]
    assert form["expires_in"] == 300
    # Without the request's token, or for a type that is not a photo: refused.
    assert _form(api, rid, "wrong")[0] == 404
    assert _form(api, rid, token, "image/svg+xml")[0] == 400
    assert _form(api, "01NOSUCHREQUEST0000000000", token)[0] == 404


def test_the_bad_input_corpus(api, deployment, staff, request_ids):
    """Every file is processed or rejected with a reason; none crashes the handler, none
    is left under incoming/, none stops the others of the same event."""
    rid, _ = request_ids
    big = b"\xff\xd8\xff" + b"\0" * (12 * 1024 * 1024)
    truncated = _jpeg_with_gps((800, 600))
    corpus = {
        "truncated": truncated[: len(truncated) // 2],
        "bomb": _png_header(30000, 30000),
        "zip": _zip_as_jpg(),
        "svg": SVG,
        "gif": _gif(),
        "empty": b"",
        "huge": big,
        "gps": _jpeg_with_gps(orientation=6),
        "heic": _heic_from_a_phone(),
    }
    keys = []
    for name, content in corpus.items():
        key = f"incoming/maplefalls.example/{rid}/{name}"
        _upload(deployment, key, content)
        keys.append(key)

    outcome = _process(deployment, keys)

    assert outcome == {"published": 2, "rejected": 7}
    assert _objects(deployment, "incoming/") == []
    seen = _staff_view(api, staff, rid)
    reasons = sorted(e["description"] for e in seen["timeline"] if e["kind"] == "photo_rejected")
    assert len(reasons) == 7
    for expected in ("empty", "larger than", "too many pixels", "not accepted",
                     "damaged or truncated", "not a photo we can read"):
        assert any(expected in r for r in reasons), (expected, reasons)
    assert sorted(p["photo_id"] for p in seen["photos"]) == ["gps", "heic"]
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    s3 = deployment.client("s3")
    for photo in seen["photos"]:
        for url in (photo["url"], photo["thumbnail_url"]):
            data = s3.get_object(Bucket=bucket, Key=url.lstrip("/"))["Body"].read()
            with Image.open(io.BytesIO(data)) as shown:
                assert shown.format == "JPEG"
                assert dict(shown.getexif()) == {}  # no GPS, no camera, nothing
                assert "exif" not in shown.info
    gps = next(p for p in seen["photos"] if p["photo_id"] == "gps")
    display = s3.get_object(Bucket=bucket, Key=gps["url"].lstrip("/"))["Body"].read()
    with Image.open(io.BytesIO(display)) as shown:
        assert shown.size == (480, 640)  # EXIF orientation 6 applied before it was dropped
    (open311,) = body(api.http.get(f"{TOWN}/requests/{rid}.json"))
    assert open311["media_url"].endswith(f"/photos/maplefalls.example/{rid}/gps.jpg")
    # The same event again (S3 delivers at least once) changes nothing.
    assert _process(deployment, keys) == {"ignored": 9}


def test_staff_hide_a_photo_and_the_reporter_deletes_their_own(api, deployment, staff,
                                                              request_ids):
    rid, token = request_ids
    for name in ("first", "second"):
        _upload(deployment, f"incoming/maplefalls.example/{rid}/{name}", _jpeg_with_gps())
    _process(deployment, [f"incoming/maplefalls.example/{rid}/{n}" for n in ("first",
                                                                             "second")])
    supervisor = staff.headers("supervisor")
    r = api.http.post(f"/staff/requests/{rid}/photos/first/hide", headers=supervisor)
    assert r.status_code == 200, r.body
    tracked_number = body(api.http.get(f"{TOWN}/requests/{rid}.json?extensions=true"))[0][
        "extended_attributes"]["tracking_number"]
    public = body(api.http.get(f"{TOWN_BASE}/track/{tracked_number}"))
    assert [p["photo_id"] for p in public["photos"]] == ["second"]
    (open311,) = body(api.http.get(f"{TOWN}/requests/{rid}.json"))
    assert open311["media_url"].endswith("/second.jpg")
    assert api.http.get(f"/photos/maplefalls.example/{rid}/first.jpg").status_code == 404
    assert api.http.get(f"/photos/maplefalls.example/{rid}/second.jpg").status_code == 302
    assert [p["hidden"] for p in _staff_view(api, staff, rid)["photos"]] == [True, False]
    # The reporter (with the request's token) deletes the other one: gone everywhere.
    assert api.http.delete(f"{TOWN_BASE}/requests/{rid}/photos/second?token=nope"
                           ).status_code == 404
    r = api.http.delete(f"{TOWN_BASE}/requests/{rid}/photos/second?token={token}")
    assert r.status_code == 200, r.body
    assert [p["photo_id"] for p in body(r)["photos"]] == ["first"]
    assert _objects(deployment, f"photos/maplefalls.example/{rid}/second") == []
    (open311,) = body(api.http.get(f"{TOWN}/requests/{rid}.json"))
    assert open311["media_url"] is None  # the one left is hidden
    # A department worker of another department may not hide anything.
    other = staff.headers("department_worker", departments=("water",))
    assert api.http.post(f"/staff/requests/{rid}/photos/first/show",
                         headers=other).status_code in (403, 404)


def test_a_request_holds_at_most_the_towns_photo_limit(api, deployment, staff, request_ids):
    rid, token = request_ids
    r = api.http.patch("/admin/town", headers=staff.headers("town_admin"),
                       body=json.dumps({"photo_limit": 2}).encode())
    assert r.status_code == 200 and body(r)["photo_limit"] == 2
    deployment.container.towns.forget()
    keys = [f"incoming/maplefalls.example/{rid}/p{n}" for n in range(3)]
    for key in keys:
        _upload(deployment, key, _jpeg_with_gps())
    assert _process(deployment, keys) == {"published": 2, "rejected": 1}
    assert _form(api, rid, token)[0] == 409
    staff_form = api.http.post(f"/staff/requests/{rid}/photos", headers=staff.headers(
        "agent"), body=json.dumps({"content_type": "image/jpeg"}).encode())
    assert staff_form.status_code == 409


def test_staff_uploads_are_marked_as_staff(api, deployment, staff, request_ids):
    rid, _ = request_ids
    r = api.http.post(f"/staff/requests/{rid}/photos", headers=staff.headers("agent"),
                      body=json.dumps({"content_type": "image/png"}).encode())
    assert r.status_code == 201, r.body
    form = body(r)
    assert form["photo_id"].startswith("staff-")
    png = io.BytesIO()
    Image.new("RGB", (50, 50), "white").save(png, "PNG")
    _upload(deployment, form["upload"]["fields"]["key"], png.getvalue())
    assert _process(deployment, [form["upload"]["fields"]["key"]]) == {"published": 1}
    (photo,) = _staff_view(api, staff, rid)["photos"]
    assert photo["by"] == "staff"
