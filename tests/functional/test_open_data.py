"""Open data through the app (chalice.test.Client on moto): the CSV and GeoJSON feed with its
cursor, bad parameters answered 400 in JSON, a year's file and the whole-town export as
background jobs written by the export worker (invoked as Lambda would) and served by a
presigned link."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from chalice.test import Client

from app import app
from chalicelib.domain.open_data import COLUMNS
from tests.functional.helpers import POTHOLE, body, post_request
from tests.lambda_events import sqs_event, sqs_record_of

TOWN = "maplefalls.example"
FEED = f"/towns/{TOWN}/open-data/requests"


def _file_requests(api, deployment, n: int) -> list[str]:  # noqa: ANN001
    ids = []
    for i in range(n):
        deployment.clock[0] += timedelta(minutes=1)
        response = post_request(api, {**POTHOLE, "description": f"Hole {i}",
                                      "email": f"secret{i}@example.com",
                                      "first_name": "Secretname"})
        assert response.status_code == 201, response.body
        ids.append(body(response)[0]["service_request_id"])
    return ids


def _run_worker(deployment) -> dict[str, Any]:  # noqa: ANN001
    """What the event pump does for the export queue."""
    url = deployment.environment["TOWN311_EXPORT_QUEUE_URL"]
    sqs = deployment.client("sqs")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   AttributeNames=["All"]).get("Messages", [])
    assert messages
    with Client(app) as lambdas:
        result = lambdas.lambda_.invoke("write_exports", sqs_event(
            *(sqs_record_of(m, queue="exports") for m in messages))).payload
    for m in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return result


def test_the_csv_feed_has_the_header_and_no_private_field(api, deployment) -> None:
    ids = _file_requests(api, deployment, 3)
    response = api.http.get(f"{FEED}.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=60"
    text = response.body.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(COLUMNS)
    assert [r[0] for r in rows[1:]] == ids
    assert "secret" not in text.lower() and "Secretname" not in text


def test_the_geojson_feed_is_a_feature_collection(api, deployment) -> None:
    _file_requests(api, deployment, 2)
    response = api.http.get(f"{FEED}.geojson")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/geo+json")
    document = json.loads(response.body)
    assert document["type"] == "FeatureCollection" and document["next_cursor"] is None
    feature = document["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [-87.6298, 41.8781]}
    assert feature["properties"]["service_code"] == "pothole"


def test_the_cursor_pages_through_every_request_once(api, deployment) -> None:
    ids = _file_requests(api, deployment, 5)
    seen: list[str] = []
    url = f"{FEED}.geojson?page_size=2"
    for _ in range(5):
        document = json.loads(api.http.get(url).body)
        seen += [f["id"] for f in document["features"]]
        if document["next"] is None:
            break
        url = document["next"]
    assert seen == ids
    csv_page = api.http.get(f"{FEED}.csv?page_size=2")
    assert 'rel="next"' in csv_page.headers["Link"] and csv_page.headers["X-Next-Cursor"]


def test_updated_after_gives_what_changed_since(api, deployment) -> None:
    ids = _file_requests(api, deployment, 3)
    since = deployment.clock[0] - timedelta(seconds=30)
    response = api.http.get(f"{FEED}.csv?{urlencode({'updated_after': since.isoformat()})}")
    assert response.status_code == 200, response.body
    rows = list(csv.reader(io.StringIO(response.body.decode())))
    assert [r[0] for r in rows[1:]] == ids[-1:]


@pytest.mark.parametrize("query", [
    "page_size=0", "page_size=501", "page_size=many", "cursor=not-a-cursor",
    "updated_after=yesterday", "updated_after=2026-01-01T00:00:00", "colour=red",
    "cursor=" + "A" * 300,
])
def test_bad_parameters_are_a_json_400(api, query: str) -> None:
    for suffix in ("csv", "geojson"):
        response = api.http.get(f"{FEED}.{suffix}?{query}")
        assert response.status_code == 400, (query, response.body)
        assert response.headers["Content-Type"].startswith("application/json")
        assert json.loads(response.body)


def test_an_unknown_town_is_a_404(api) -> None:
    response = api.http.get("/towns/nowhere.example/open-data/requests.csv")
    assert response.status_code == 404
    assert api.http.get("/towns/nowhere.example/open-data/years/2026").status_code == 404


def test_a_sensitive_service_is_blurred_in_the_feed(api, deployment, staff) -> None:
    _file_requests(api, deployment, 1)
    admin = {**staff.headers("town_admin"), "Content-Type": "application/json"}
    changed = api.http.patch("/admin/town", headers=admin, body=json.dumps(
        {"sensitive_services": ["pothole"], "open_data_grid_m": 500}))
    assert changed.status_code == 200, changed.body
    assert json.loads(changed.body)["sensitive_services"] == ["pothole"]
    deployment.container.town_changed(TOWN)
    feature = json.loads(api.http.get(f"{FEED}.geojson").body)["features"][0]
    assert feature["properties"]["location_blurred"] is True
    assert feature["properties"]["address"] is None
    assert feature["properties"]["description"] is None
    assert feature["geometry"]["coordinates"] != [-87.6298, 41.8781]
    refused = api.http.patch("/admin/town", headers=admin,
                             body=json.dumps({"open_data_grid_m": 10}))
    assert refused.status_code == 400


def _download(url: str) -> bytes:
    import requests

    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    return response.content


def test_a_years_file_is_written_in_the_background_and_linked(api, deployment) -> None:
    ids = _file_requests(api, deployment, 4)
    url = f"/towns/{TOWN}/open-data/years/2026"
    first = api.http.get(url)
    assert first.status_code == 202 and first.headers["Location"] == url
    assert first.headers["Retry-After"] and json.loads(first.body)["status"] == "queued"
    assert api.http.get(url).status_code == 202  # asking again makes no second job
    assert _run_worker(deployment) == {"batchItemFailures": []}
    done = api.http.get(url)
    assert done.status_code == 200, done.body
    document = json.loads(done.body)
    assert document["status"] == "done" and document["rows"] == 4
    link = document["download_url"]
    assert parse_qs(urlsplit(link).query)["response-content-disposition"] == [
        f'attachment; filename="{TOWN}-requests-2026.csv"']
    rows = list(csv.reader(io.StringIO(_download(link).decode())))
    assert rows[0] == list(COLUMNS) and [r[0] for r in rows[1:]] == ids
    assert api.http.get(f"/towns/{TOWN}/open-data/years/20x6").status_code == 400
    assert api.http.get(f"/towns/{TOWN}/open-data/years/2099").status_code == 400


def test_the_admins_town_export_is_a_job_with_a_link(api, deployment, staff) -> None:
    _file_requests(api, deployment, 2)
    admin = staff.headers("town_admin")
    started = api.http.post("/admin/exports", headers=admin)
    assert started.status_code == 202, started.body
    location = started.headers["Location"]
    assert location.startswith("/admin/exports/")
    assert json.loads(api.http.get(location, headers=admin).body)["download_url"] is None
    assert _run_worker(deployment) == {"batchItemFailures": []}
    done = api.http.get(location, headers=admin)
    assert done.status_code == 200
    lines = _download(json.loads(done.body)["download_url"]).decode().splitlines()
    assert any('"SK": "META"' in line for line in lines)
    assert "town.exported" in api.http.get("/admin/audit", headers=admin).body.decode()
    # Other roles and other towns get nothing.
    agent = staff.headers("agent")
    assert api.http.post("/admin/exports", headers=agent).status_code == 403
    assert api.http.get(location, headers=agent).status_code == 403
    other = staff.headers("town_admin", town="riverton.example")
    assert api.http.get(location, headers=other).status_code == 404
    assert api.http.get("/admin/exports/nope", headers=admin).status_code == 404
    assert api.http.post("/admin/exports").status_code == 401
