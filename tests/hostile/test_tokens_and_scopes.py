"""A stranger with only public things (request ids, a town's public app key) tries to use
a resident's Open311 token and a work-order system's powers (issue 12, items 1 and 2).

Tokens were the request id plus one (consecutive ULIDs): anyone who saw an id could get
an upload form for the request, delete the resident's photos, or resolve the token. Any
API key, even the one embedded in a public web page, could close any request with its own
text on the public timeline and in the reporter's messages.
"""

from __future__ import annotations

import hashlib
import json
import re
from itertools import count
from urllib.parse import urlencode

import pytest
from PIL import Image

from tests.conftest import DEMO_KEY, UPDATES_KEY
from tests.functional.helpers import FORM, POTHOLE, TOWN, body, post_request, xml

TOWN_ID = "maplefalls.example"
TOWN_BASE = f"/towns/{TOWN_ID}"
JSON = {"Content-Type": "application/json"}
ANA = {"email": "ana@example.org"}
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_\-]{32,}")


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture
def consecutive_ids(deployment):
    """ULIDs one apart, as python-ulid makes them within one millisecond, every time: the
    condition under which the old token was exactly the id plus one."""
    from ulid import ULID

    start, numbers = int(ULID()), count()
    deployment.container.make_id = lambda: str(ULID.from_int(start + next(numbers)))


def _next_id(request_id: str) -> str:
    from ulid import ULID

    return str(ULID.from_int(int(ULID.from_str(request_id)) + 1))


def _submit(api, fields=None, **kwargs) -> dict:
    r = post_request(api, {**POTHOLE, **ANA, **(fields or {})}, **kwargs)
    assert r.status_code == 201, r.body
    (receipt,) = body(r)
    return receipt


def _table_items(deployment, table_setting: str = "TOWN311_TABLE") -> list[dict]:
    dynamodb = deployment.client("dynamodb")
    table = deployment.environment[table_setting]
    items, start = [], {}
    while True:
        page = dynamodb.scan(TableName=table, **start)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def _meta(deployment, request_id: str) -> dict:
    return deployment.client("dynamodb").get_item(
        TableName=deployment.environment["TOWN311_TABLE"],
        Key={"PK": {"S": f"TOWN#{TOWN_ID}#REQ#{request_id}"}, "SK": {"S": "META"}})["Item"]


def _jpeg() -> bytes:
    import io

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def _with_resident_photo(deployment, request_id: str, photo_id: str = "mine") -> str:
    """The resident's photo on the request, uploaded and processed as in production."""
    from chalice.test import Client

    from app import app

    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    key = f"incoming/{TOWN_ID}/{request_id}/{photo_id}"
    deployment.client("s3").put_object(Bucket=bucket, Key=key, Body=_jpeg())
    event = {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Post",
                          "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}
    with Client(app) as lambdas:
        assert lambdas.lambda_.invoke("process_photo", event).payload == {"published": 1}
    return photo_id


def _photo_objects(deployment, request_id: str) -> list[str]:
    bucket = deployment.environment["TOWN311_PHOTO_BUCKET"]
    found = deployment.client("s3").list_objects_v2(
        Bucket=bucket, Prefix=f"photos/{TOWN_ID}/{request_id}/")
    return sorted(o["Key"] for o in found.get("Contents", []))


def _upload_form(api, request_id: str, token: str):
    return api.http.post(f"{TOWN_BASE}/requests/{request_id}/photos", headers=JSON,
                         body=json.dumps({"token": token, "content_type": "image/jpeg"}))


def _queued_notices(deployment) -> int:
    sqs = deployment.client("sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=deployment.environment["TOWN311_NOTICE_QUEUE_URL"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(v) for v in attributes["Attributes"].values())


def _update(api, request_id: str, key: str, fmt: str = "json", how: str = "form"):
    fields = {"service_request_id": request_id, "update_id": f"wo-{fmt}-{how}",
              "status": "FIXED", "description": "Closed by a stranger: all fine now",
              "updated_datetime": "2026-11-20T10:00:00-06:00"}
    path, headers = f"{TOWN}/servicerequestupdates.{fmt}", dict(FORM)
    if how == "form":
        fields["api_key"] = key
    elif how == "query":
        path += f"?api_key={key}"
    else:
        headers["Authorization"] = f"Bearer {key}"
    return api.http.post(path, body=urlencode(fields), headers=headers)


def _open311_errors(response, status: int) -> list[dict]:
    errors = body(response)
    assert isinstance(errors, list) and errors, errors
    assert all(set(e) == {"code", "description"} and e["code"] == status for e in errors)
    return errors


def _admin(api, staff, method: str, path: str, payload=None):
    return api.http.request(method, path, headers=staff.headers("town_admin"),
                            body=json.dumps(payload).encode() if payload is not None else b"")


# --- tokens -------------------------------------------------------------------------------


def test_a_token_is_a_random_secret_unrelated_to_the_id(api, consecutive_ids):
    first, second = _submit(api), _submit(api)
    for receipt in (first, second):
        token, rid = receipt["token"], receipt["service_request_id"]
        assert TOKEN_SHAPE.fullmatch(token), token  # ≥ 192 bits, URL-safe
        assert token not in (rid, _next_id(rid))
        assert rid not in token and token[:10] != rid[:10]
    assert first["token"] != second["token"]
    assert first["token"][:8] != second["token"][:8]  # no shared counter or clock prefix


def test_the_id_plus_one_opens_nothing_and_changes_nothing(api, deployment, staff,
                                                          consecutive_ids):
    receipt = _submit(api)
    rid, token = receipt["service_request_id"], receipt["token"]
    photo = _with_resident_photo(deployment, rid)
    before = (_meta(deployment, rid), _photo_objects(deployment, rid))
    assert len(before[1]) == 2  # the photo and its thumbnail
    for guess in (_next_id(rid), rid, hashlib.sha256(token.encode()).hexdigest()):
        assert api.http.get(f"{TOWN}/tokens/{guess}.json").status_code == 404
        r = api.http.get(f"/open311/v2/tokens/{guess}.xml?jurisdiction_id={TOWN_ID}")
        assert r.status_code == 404 and xml(r).tag == "errors"
        assert _upload_form(api, rid, guess).status_code == 404
        r = api.http.delete(f"{TOWN_BASE}/requests/{rid}/photos/{photo}?token={guess}")
        assert r.status_code == 404, r.body
    assert (_meta(deployment, rid), _photo_objects(deployment, rid)) == before
    # The real token, which only the resident's app holds, still does all three.
    assert body(api.http.get(f"{TOWN}/tokens/{token}.json")) == [
        {"service_request_id": rid, "token": token}]
    assert _upload_form(api, rid, token).status_code == 201
    r = api.http.delete(f"{TOWN_BASE}/requests/{rid}/photos/{photo}?token={token}")
    assert r.status_code == 200 and body(r)["photos"] == []
    assert _photo_objects(deployment, rid) == []


def test_no_stored_item_holds_the_token_only_its_hash(api, deployment):
    plain = _submit(api)
    again_headers = {"Idempotency-Key": "5d2b0c5e-8d7e-4c1a-9a55-3f6f0b8f2a11"}
    first = _submit(api, headers=again_headers)
    retried = _submit(api, headers=again_headers)
    assert retried == first  # a retry still gets the same token
    # Binary attributes (the gazetteer's compressed pieces) are read as text too.
    everything = json.dumps(_table_items(deployment), default=lambda b: b.decode("latin-1"))
    idempotency = json.dumps(_table_items(deployment, "TOWN311_IDEMPOTENCY_TABLE"),
                             default=lambda b: b.decode("latin-1"))
    assert first["service_request_id"] in idempotency  # the receipt is cached there...
    for receipt in (plain, first):
        token = receipt["token"]
        assert token not in everything and token not in idempotency  # ...but sealed
        meta = _meta(deployment, receipt["service_request_id"])
        assert "token" not in meta
        assert meta["token_hash"]["S"] == hashlib.sha256(token.encode()).hexdigest()


def test_no_response_but_the_receipt_names_the_token_or_its_hash(api, staff, deployment):
    receipt = _submit(api)
    rid, token = receipt["service_request_id"], receipt["token"]
    hashed = hashlib.sha256(token.encode()).hexdigest()
    admin = staff.headers("town_admin")
    responses = [
        api.http.get(f"{TOWN}/requests/{rid}.json?extensions=true"),
        api.http.get(f"{TOWN}/requests/{rid}.xml?extensions=true"),
        api.http.get(f"{TOWN}/requests.json?extensions=true"),
        api.http.get(f"/staff/requests/{rid}", headers=admin),
        api.http.get("/admin/export", headers=admin),
    ]
    for r in responses:
        text = r.body.decode() if isinstance(r.body, bytes) else str(r.body)
        assert r.status_code == 200 and rid in text
        assert token not in text and hashed not in text


def test_tokens_stored_before_the_fix_are_revoked(api, deployment):
    """Old requests kept the plaintext token (the id plus one) on META and under
    ``TOKEN#<token>``: it was guessable, so it no longer opens anything."""
    rid = _submit(api)["service_request_id"]
    legacy = _next_id(rid)
    dynamodb, table = deployment.client("dynamodb"), deployment.environment["TOWN311_TABLE"]
    meta = _meta(deployment, rid)
    meta.pop("token_hash")
    dynamodb.put_item(TableName=table, Item={**meta, "token": {"S": legacy}})
    dynamodb.put_item(TableName=table, Item={
        "PK": {"S": f"TOWN#{TOWN_ID}#TOKEN#{legacy}"}, "SK": {"S": "TOKEN"},
        "request_id": {"S": rid}})
    assert api.http.get(f"{TOWN}/requests/{rid}.json").status_code == 200  # still readable
    assert api.http.get(f"{TOWN}/tokens/{legacy}.json").status_code == 404
    assert _upload_form(api, rid, legacy).status_code == 404


# --- API key scopes -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_public_app_key_cannot_post_updates(api, deployment, fmt):
    rid = _submit(api)["service_request_id"]
    before, queued = _meta(deployment, rid), _queued_notices(deployment)
    for how in ("form", "query", "bearer"):
        r = _update(api, rid, DEMO_KEY, fmt, how)
        assert r.status_code == 403, r.body
        if fmt == "json":
            (error,) = _open311_errors(r, 403)
            assert "updates" in error["description"]
        else:
            root = xml(r)
            assert root.tag == "errors" and root.find("error/code").text == "403"
            assert "updates" in root.find("error/description").text
    assert _meta(deployment, rid) == before  # not closed, no note on the timeline
    assert _queued_notices(deployment) == queued  # and nothing sent to the reporter
    public = body(api.http.get(f"{TOWN}/requests/{rid}.json?extensions=true"))[0]
    assert public["status"] == "open"
    assert not any("stranger" in (n["description"] or "") for n in public["notes"])


def test_a_key_with_the_updates_scope_posts_updates_but_cannot_submit(api, deployment):
    rid = _submit(api)["service_request_id"]
    queued = _queued_notices(deployment)
    r = _update(api, rid, UPDATES_KEY)
    assert r.status_code == 200, r.body
    assert body(api.http.get(f"{TOWN}/requests/{rid}.json"))[0]["status"] == "closed"
    assert _queued_notices(deployment) > queued
    r = post_request(api, POTHOLE, key=UPDATES_KEY)
    assert r.status_code == 403 and "submit" in _open311_errors(r, 403)[0]["description"]


def test_keys_are_made_with_scopes_listed_with_them_and_rotated_with_them(api, staff,
                                                                          deployment):
    made = _admin(api, staff, "POST", "/admin/api-keys",
                  {"name": "Work orders", "scopes": ["updates", "submit"]})
    assert made.status_code == 201, made.body
    made = body(made)
    assert made["scopes"] == ["submit", "updates"]
    public = body(_admin(api, staff, "POST", "/admin/api-keys", {"name": "Web page"}))
    assert public["scopes"] == ["submit"]  # the default: safe to embed
    listed = {k["key_id"]: k["scopes"] for k in body(_admin(api, staff, "GET",
                                                            "/admin/api-keys"))}
    assert listed[made["key_id"]] == ["submit", "updates"]
    assert listed[public["key_id"]] == ["submit"]
    assert listed["first-key"] == ["submit"]
    rid = _submit(api)["service_request_id"]
    assert _update(api, rid, public["secret"]).status_code == 403
    rotated = body(_admin(api, staff, "POST", f"/admin/api-keys/{made['key_id']}/rotate"))
    assert rotated["scopes"] == ["submit", "updates"]
    assert _update(api, rid, made["secret"]).status_code == 403  # the old secret stopped
    assert _update(api, rid, rotated["secret"]).status_code == 200
    for bad in ([], ["admin"], ["submit", "updates", "submit"], "updates", [1]):
        r = _admin(api, staff, "POST", "/admin/api-keys", {"name": "X", "scopes": bad})
        assert r.status_code == 400, (bad, r.body)


def test_a_key_stored_before_scopes_may_only_submit(api, staff, deployment):
    dynamodb, table = deployment.client("dynamodb"), deployment.environment["TOWN311_TABLE"]
    secret = "t311_legacy_key_made_before_scopes"
    hashed = hashlib.sha256(secret.encode()).hexdigest()
    for sk in ("APIKEY#legacy", f"KEYHASH#{hashed}"):
        dynamodb.put_item(TableName=table, Item={
            "PK": {"S": f"TOWN#{TOWN_ID}"}, "SK": {"S": sk}, "key_id": {"S": "legacy"},
            "name": {"S": "Old integration"}, "created_at": {"S": "2026-01-01T00:00:00.000000Z"},
            "revoked": {"BOOL": False}, "rate_limit": {"N": "60"}, "prefix": {"S": secret[:9]},
            "secret_hash": {"S": hashed}})
    rid = _submit(api, key=secret)["service_request_id"]
    assert _update(api, rid, secret).status_code == 403
    listed = {k["key_id"]: k["scopes"] for k in body(_admin(api, staff, "GET",
                                                            "/admin/api-keys"))}
    assert listed["legacy"] == ["submit"]
