"""GET requests: filters, the 90-day window (clamped, not refused), paging, extensions."""

from __future__ import annotations

from datetime import timedelta

from tests.functional.helpers import POTHOLE, TOWN, body, post_request, xml

GRAFFITI = {"service_code": "graffiti", "address_string": "1 Main St",
            "attribute[surface][]": "sign"}


def _file(api, deployment, fields, days_ago: float) -> str:
    now = deployment.clock[0]
    deployment.clock[0] = now - timedelta(days=days_ago)
    try:
        (receipt,) = body(post_request(api, fields))
    finally:
        deployment.clock[0] = now
    return receipt["service_request_id"]


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.body
    return [r["service_request_id"] for r in body(response)]


def test_newest_first_within_the_default_90_days(api, deployment):
    old = _file(api, deployment, POTHOLE, 120)
    mid = _file(api, deployment, POTHOLE, 10)
    new = _file(api, deployment, GRAFFITI, 1)
    assert _ids(api.http.get(f"{TOWN}/requests.json")) == [new, mid]
    assert old not in _ids(api.http.get(f"{TOWN}/requests.json?start_date=&end_date="))


def test_filters_by_service_code_and_status(api, deployment):
    pothole = _file(api, deployment, POTHOLE, 2)
    graffiti = _file(api, deployment, GRAFFITI, 1)
    assert _ids(api.http.get(f"{TOWN}/requests.json?service_code=pothole")) == [pothole]
    assert _ids(api.http.get(f"{TOWN}/requests.json?service_code=pothole,graffiti")) == [
        graffiti, pothole]
    assert _ids(api.http.get(f"{TOWN}/requests.json?status=closed")) == []
    assert _ids(api.http.get(f"{TOWN}/requests.json?status=open,closed")) == [
        graffiti, pothole]
    assert _ids(api.http.get(f"{TOWN}/requests.json?service_code=&status=")) == [
        graffiti, pothole]


def test_date_window_with_offsets_and_fractional_seconds(api, deployment):
    a = _file(api, deployment, POTHOLE, 5)
    b = _file(api, deployment, POTHOLE, 3)
    # The clock stands at 2026-11-20T15:30Z, so b was filed 2026-11-17T15:30Z = 09:30 CST.
    r = api.http.get(f"{TOWN}/requests.json?start_date=2026-11-17T09:00:00.250-06:00"
                     "&end_date=2026-11-17T10:00:00-06:00")
    assert _ids(r) == [b]
    # No offset given: read as the town's local time (America/Chicago).
    r = api.http.get(f"{TOWN}/requests.json?start_date=2026-11-15T09:29:00"
                     "&end_date=2026-11-15T09:31:00")
    assert _ids(r) == [a]


def test_a_window_wider_than_90_days_is_clamped_not_refused(api, deployment):
    _file(api, deployment, POTHOLE, 200)
    recent = _file(api, deployment, POTHOLE, 30)
    r = api.http.get(f"{TOWN}/requests.json?start_date=2025-01-01T00:00:00Z"
                     "&end_date=2026-11-20T15:30:00Z")
    assert _ids(r) == [recent]


def test_only_start_date_given_means_90_days_from_it(api, deployment):
    old = _file(api, deployment, POTHOLE, 200)
    _file(api, deployment, POTHOLE, 1)
    start = (deployment.clock[0] - timedelta(days=201)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(api.http.get(f"{TOWN}/requests.json?start_date={start}")) == [old]


def test_paging(api, deployment):
    filed = [_file(api, deployment, POTHOLE, 10 - i) for i in range(7)]
    newest_first = list(reversed(filed))
    assert _ids(api.http.get(f"{TOWN}/requests.json?page_size=3")) == newest_first[:3]
    assert _ids(api.http.get(f"{TOWN}/requests.json?page_size=3&page=2")) == newest_first[3:6]
    assert _ids(api.http.get(f"{TOWN}/requests.json?page_size=3&page=3")) == newest_first[6:]
    assert _ids(api.http.get(f"{TOWN}/requests.json?page_size=3&page=4")) == []
    # Out-of-range sizes are clamped: 0 → 1, 100000 → 500.
    assert len(_ids(api.http.get(f"{TOWN}/requests.json?page_size=0"))) == 1
    assert len(_ids(api.http.get(f"{TOWN}/requests.json?page_size=100000"))) == 7


def test_service_request_id_list_overrides_other_filters(api, deployment):
    a = _file(api, deployment, POTHOLE, 200)
    b = _file(api, deployment, GRAFFITI, 1)
    r = api.http.get(f"{TOWN}/requests.json?service_request_id={a},{b}&service_code=other"
                     "&status=closed")
    assert _ids(r) == [a, b]


def test_updated_window(api, deployment):
    a = _file(api, deployment, POTHOLE, 20)
    b = _file(api, deployment, POTHOLE, 2)
    after = (deployment.clock[0] - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(api.http.get(f"{TOWN}/requests.json?updated_after={after}")) == [b]
    assert _ids(api.http.get(f"{TOWN}/requests.json?updated_before={after}")) == [a]


def test_list_with_extensions_and_in_xml(api, deployment):
    rid = _file(api, deployment, GRAFFITI, 1)
    (request,) = body(api.http.get(f"{TOWN}/requests.json?extensions=true"))
    assert request["service_request_id"] == rid
    assert request["attributes"] == {"surface": ["sign"]}
    assert request["notes"][0]["summary"] == "Graffiti reported"
    root = xml(api.http.get(f"{TOWN}/requests.xml"))
    assert root.tag == "service_requests"
    assert [r.find("service_request_id").text for r in root.findall("request")] == [rid]
