"""A request filed through Open311 goes through the same pipeline as in the cloud: a
routing message on SQS assigns it, a photo upload is processed by the S3 handler."""

from __future__ import annotations

import io
import json

from PIL import Image

from tests.conftest import DEMO_KEY
from tests.functional.helpers import POTHOLE, TOWN, body, post_request
from tests.lambda_events import sqs_event, sqs_record


def _routing_messages(deployment) -> list[dict]:
    sqs = deployment.client("sqs")
    url = deployment.environment["TOWN311_ROUTING_QUEUE_URL"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return messages


def _sqs_event(deployment, messages: list[dict]) -> dict:
    return sqs_event(*(sqs_record(m["Body"], message_id=m.get("MessageId"),
                                  queue="town311-local-routing") for m in messages))


def test_submission_sends_one_versioned_routing_message(api, deployment):
    (receipt,) = body(post_request(api, POTHOLE))
    (message,) = _routing_messages(deployment)
    assert json.loads(message["Body"]) == {
        "version": 1, "town_id": "maplefalls.example",
        "service_request_id": receipt["service_request_id"]}


def test_router_assigns_the_department_once_even_when_redelivered(api, deployment):
    from chalice.test import Client

    from app import app

    (receipt,) = body(post_request(api, POTHOLE))
    messages = _routing_messages(deployment)
    with Client(app) as lambdas:
        event = _sqs_event(deployment, messages)
        result = lambdas.lambda_.invoke("route_new_requests", event)
        assert result.payload == {"batchItemFailures": []}
        lambdas.lambda_.invoke("route_new_requests", event)  # redelivery
    rid = receipt["service_request_id"]
    (request,) = body(api.http.get(f"{TOWN}/requests/{rid}.json?extensions=true"))
    assert request["agency_responsible"] == "Public Works — Streets"
    assert [n["type"] for n in request["notes"]] == ["submitted", "routed"]


def test_a_poison_message_fails_alone(api, deployment):
    from chalice.test import Client

    from app import app

    (receipt,) = body(post_request(api, POTHOLE))
    good = _routing_messages(deployment)[0]
    poison = {"MessageId": "poison-1", "Body": "{not json"}
    with Client(app) as lambdas:
        result = lambdas.lambda_.invoke("route_new_requests",
                                        _sqs_event(deployment, [poison, good]))
    assert result.payload == {"batchItemFailures": [{"itemIdentifier": "poison-1"}]}
    (request,) = body(api.http.get(f"{TOWN}/requests/{receipt['service_request_id']}.json"))
    assert request["agency_responsible"] == "Public Works — Streets"


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (640, 480), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° when shown
    gps = {1: "N", 2: (41.0, 52.0, 41.0), 3: "W", 4: (87.0, 37.0, 47.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _multipart(fields: dict[str, str], photo: bytes, content_type: str = "image/jpeg"):
    boundary = "town311boundary"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="media"; '
                 f'filename="pothole.jpg"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                 + photo + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def _s3_event(bucket: str, key: str) -> dict:
    return {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}


def test_multipart_photo_is_processed_and_served_without_gps(api, deployment):
    from chalice.test import Client

    from app import app

    payload, headers = _multipart({**POTHOLE, "api_key": DEMO_KEY}, _jpeg_with_gps())
    r = api.http.post(f"{TOWN}/requests.json", body=payload, headers=headers)
    assert r.status_code == 201, r.body
    rid = body(r)[0]["service_request_id"]
    s3 = deployment.client("s3")
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    (upload,) = s3.list_objects_v2(Bucket=bucket, Prefix="incoming/")["Contents"]
    assert upload["Key"].startswith(f"incoming/maplefalls.example/{rid}/")

    with Client(app) as lambdas:
        lambdas.lambda_.invoke("process_photo", _s3_event(bucket, upload["Key"]))

    assert s3.list_objects_v2(Bucket=bucket, Prefix="incoming/")["KeyCount"] == 0
    (request,) = body(api.http.get(f"{TOWN}/requests/{rid}.json?extensions=true"))
    assert request["media_url"].endswith(".jpg") and "/photos/maplefalls.example/" in \
        request["media_url"]
    assert [n["type"] for n in request["notes"]] == ["submitted", "photo_added"]

    path = request["media_url"].split("://", 1)[1].split("/", 1)[1]
    redirect = api.http.get("/" + path)
    assert redirect.status_code == 302
    key = "photos/" + path.split("photos/", 1)[1]
    published = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    shown = Image.open(io.BytesIO(published))
    assert shown.size == (480, 640)  # orientation applied before the EXIF was dropped
    assert not shown.getexif()  # no GPS, no EXIF at all


def test_a_file_that_is_not_a_photo_is_rejected_and_recorded(api, deployment):
    from chalice.test import Client

    from app import app

    payload, headers = _multipart({**POTHOLE, "api_key": DEMO_KEY}, b"PK\x03\x04 zip file")
    rid = body(api.http.post(f"{TOWN}/requests.json", body=payload,
                             headers=headers))[0]["service_request_id"]
    s3 = deployment.client("s3")
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    (upload,) = s3.list_objects_v2(Bucket=bucket, Prefix="incoming/")["Contents"]
    with Client(app) as lambdas:
        result = lambdas.lambda_.invoke("process_photo", _s3_event(bucket, upload["Key"]))
    assert result.payload == {"rejected": 1}
    assert s3.list_objects_v2(Bucket=bucket, Prefix="incoming/")["KeyCount"] == 0
    request = deployment.container.requests.get("maplefalls.example", rid, with_timeline=True)
    assert request.media_url is None
    assert request.timeline[-1].kind == "photo_rejected"
    assert request.timeline[-1].public is False


def test_media_part_must_be_a_photo_type(api):
    payload, headers = _multipart({**POTHOLE, "api_key": DEMO_KEY}, b"<svg/>", "image/svg+xml")
    r = api.http.post(f"{TOWN}/requests.json", body=payload, headers=headers)
    assert r.status_code == 400
