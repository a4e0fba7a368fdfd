"""Open311's two formats. One document (dicts and lists) becomes JSON or XML here."""

from __future__ import annotations

import json
from typing import Any

from chalice import Response

from chalicelib.domain.text import xml_safe

JSON = "application/json; charset=utf-8"
XML = "text/xml; charset=utf-8"
FORMATS = ("json", "xml")

# The element that wraps each item of a list, by the list's own element name.
_ITEM = {
    "services": "service", "attributes": "attribute", "values": "value",
    "endpoints": "endpoint", "formats": "format", "notes": "note", "errors": "error",
    "service_requests": "request",
    "service_request_updates": "request_update",
}


def split_format(segment: str) -> tuple[str, str | None]:
    """``requests.xml`` → (``requests``, ``xml``); no suffix means JSON; ``x.yaml`` → None."""
    name, dot, suffix = segment.rpartition(".")
    if not dot:
        return segment, "json"
    return name, suffix.lower() if suffix.lower() in FORMATS else None


def render(document: Any, fmt: str, root: str, status: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    """A Chalice response carrying ``document`` as JSON or as XML under ``root``."""
    if fmt == "xml":
        body = '<?xml version="1.0" encoding="utf-8"?>' + _element(root, document)
        content_type = XML
    else:
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        content_type = JSON
    return Response(body=body, status_code=status,
                    headers={"Content-Type": content_type, **(headers or {})})


def _element(name: str, value: Any) -> str:
    if name == "attributes" and isinstance(value, dict):
        # The ``attributes`` extension is a code → answer map; in XML each answer is an
        # <attribute> with its code and one <value> per answer.
        value = [{"code": code, "value": answer} for code, answer in value.items()]
    if value is None:
        return f"<{name}/>"
    if isinstance(value, bool):
        return f"<{name}>{'true' if value else 'false'}</{name}>"
    if isinstance(value, dict):
        return f"<{name}>" + "".join(_element(k, v) for k, v in value.items()) + f"</{name}>"
    if isinstance(value, list):
        item = _ITEM.get(name)
        if item is None:  # a repeated scalar, e.g. several values of one answer
            return "".join(_element(name, v) for v in value)
        return f"<{name}>" + "".join(_element(item, v) for v in value) + f"</{name}>"
    return f"<{name}>{xml_text(str(value))}</{name}>"


def xml_text(value: str) -> str:
    """Text as XML character data. What XML 1.0 cannot carry is dropped here, at render
    time, so a value stored before the edge cleaned text cannot break a whole document."""
    # xml.sax.saxutils.escape, without importing it (it pulls in urllib.request).
    return xml_safe(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
