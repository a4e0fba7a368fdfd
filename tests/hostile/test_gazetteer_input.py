"""Hostile gazetteer uploads and queries: files too big or too long, binary garbage and
script in labels are answered with plain JSON, never a 500, and what a town's file says is
only ever text."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from chalicelib.domain.gazetteer import MAX_ROWS, MAX_UPLOAD_BYTES

PLACES = "/towns/maplefalls.example/places"
SCRIPT = "<script>alert('x')</script> & <img src=x onerror=alert(1)> Park"


def _put(api, staff, body: bytes, content_type: str = "text/csv"):  # noqa: ANN001, ANN202
    return api.http.put("/admin/gazetteer", body=body,
                        headers={**staff.headers("town_admin"), "Content-Type": content_type})


def _error(response, status: int = 400) -> dict:  # noqa: ANN001
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.body)["error"]


def test_a_file_over_the_size_limit_is_refused_whole(api, staff) -> None:
    row = b"address,1 Oak Street,44.9778,-93.2650\n"
    body = b"kind,label,lat,long\n" + row * (MAX_UPLOAD_BYTES // len(row) + 1)
    error = _error(_put(api, staff, body))
    assert "larger than 5 MB" in error["problems"][0]["message"]


def test_a_file_with_too_many_rows_is_refused_whole(api, staff) -> None:
    rows = "".join(f"address,{n} Oak St,44.97,-93.26\n" for n in range(MAX_ROWS + 1))
    error = _error(_put(api, staff, ("kind,label,lat,long\n" + rows).encode()))
    assert "more than 25,000 rows" in error["problems"][0]["message"]
    summary = json.loads(api.http.get("/admin/gazetteer",
                                      headers=staff.headers("town_admin")).body)
    assert summary["uploaded"] is False  # nothing of it was kept


@pytest.mark.parametrize("body", [
    bytes(range(256)) * 40,
    b"\x1f\x8b\x08\x00" + b"\xff" * 500,  # a gzip file
    b"PK\x03\x04" + b"\x00\x14" * 300,  # a spreadsheet (zip)
    "kind,label,lat,long\naddress,\ud800,1,2\n".encode("utf-8", "surrogatepass"),
    b"kind,label,lat,long\naddress,\"a" + b"b" * 200_000 + b"\",44.9,-93.2\n",
    b"\n\n\n",
    b"",
])
def test_garbage_gets_a_json_400(api, staff, body: bytes) -> None:
    assert _error(_put(api, staff, body))["problems"]


def test_script_in_a_label_is_stored_as_text_and_answered_escaped(api, staff) -> None:
    csv = ('kind,label,lat,long\n'
           f'landmark,"{SCRIPT}",44.9778,-93.2650\n').encode()
    assert json.loads(_put(api, staff, csv).body)["kept"] == 1
    response = api.http.get(f"{PLACES}?q={quote('alert x')}")
    assert response.status_code == 200
    raw = response.body.decode() if isinstance(response.body, bytes) else response.body
    assert "<" not in raw and ">" not in raw and "&" not in raw
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert json.loads(raw)["places"][0]["label"] == SCRIPT  # exactly the text it was
    near = api.http.get(f"{PLACES}/nearest?lat=44.9778&long=-93.2650")
    assert json.loads(near.body)["place"]["label"] == SCRIPT and "<" not in str(near.body)


def test_control_characters_in_a_label_refuse_that_row_only(api, staff) -> None:
    csv = ('kind,label,lat,long\n'
           'landmark,"Bell\u0007 Tower",44.9778,-93.2650\n'
           'landmark,Town Hall,44.9779,-93.2651\n').encode()
    report = json.loads(_put(api, staff, csv).body)
    assert report["kept"] == 1 and report["refused"][0]["line"] == 2


def test_another_content_type_is_not_taken_for_csv(api, staff) -> None:
    response = _put(api, staff, b'{"kind": "landmark"}', "application/json")
    assert response.status_code == 415


@pytest.mark.parametrize("q", ["%00%00", "oak%0Ast", "%E0%80%80zz", "'; DROP TABLE --",
                               "%F0%9F%92%A9%F0%9F%92%A9", "*" * 50, "%25%25%25"])
def test_odd_queries_never_break_suggestions(api, q: str) -> None:
    response = api.http.get(f"{PLACES}?q={q}")
    assert response.status_code in (200, 400), response.body
    assert json.loads(response.body)
