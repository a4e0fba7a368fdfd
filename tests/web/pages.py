"""Helpers for page tests through chalice.test.Client: read a page, post its forms."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urlencode

TOWN_PAGE = "/towns/maplefalls.example"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def html(response: Any) -> str:
    assert response.headers["Content-Type"].startswith("text/html"), response.headers
    return response.body.decode() if isinstance(response.body, bytes) else response.body


def text(response: Any) -> str:
    """What a reader sees: the page without tags, whitespace collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html(response), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def cookies(response: Any) -> dict[str, str]:
    raw = response.headers.get("Set-Cookie", "")
    values = raw if isinstance(raw, list) else [raw] if raw else []
    return dict(v.split(";")[0].split("=", 1) for v in values)


def csrf(response: Any) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html(response))
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def post_form(api: Any, path: str, fields: dict[str, str], token: str, *,
              cookie_token: str | None = None) -> Any:
    """Post a page form as a browser would, with the CSRF cookie it was given."""
    return api.http.post(path, body=urlencode({"csrf_token": token, **fields}), headers={
        **FORM, "Cookie": f"t311_csrf={cookie_token if cookie_token is not None else token}"})
