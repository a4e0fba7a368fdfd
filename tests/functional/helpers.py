"""Small helpers for calling the Open311 API through Chalice's test client."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

from tests.conftest import DEMO_KEY

TOWN = "/towns/maplefalls.example/open311/v2"
SHARED = "/open311/v2"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

POTHOLE = {"service_code": "pothole", "lat": "41.8781", "long": "-87.6298",
           "description": "Deep hole by the school crossing", "attribute[size]": "large"}


def post_request(api: Any, fields: dict[str, Any] | list[tuple[str, str]], *,
                 base: str = TOWN, fmt: str = "json", key: str | None = DEMO_KEY,
                 headers: dict[str, str] | None = None) -> Any:
    pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
    if key is not None:
        pairs.append(("api_key", key))
    return api.http.post(f"{base}/requests.{fmt}", body=urlencode(pairs),
                         headers={**FORM, **(headers or {})})


def body(response: Any) -> Any:
    return json.loads(response.body)


def xml(response: Any) -> ElementTree.Element:
    text = response.body.decode() if isinstance(response.body, bytes) else response.body
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(text)


def error_descriptions(response: Any) -> list[str]:
    errors = body(response)
    assert isinstance(errors, list) and errors, errors
    for e in errors:
        assert set(e) == {"code", "description"}
        assert e["code"] == response.status_code
    return [e["description"] for e in errors]
