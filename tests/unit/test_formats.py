"""JSON and XML renderings of the same Open311 document."""

from __future__ import annotations

import json
from xml.etree import ElementTree

from chalicelib.api.formats import render, split_format


def test_split_format():
    assert split_format("requests.json") == ("requests", "json")
    assert split_format("requests.XML") == ("requests", "xml")
    assert split_format("requests") == ("requests", "json")
    assert split_format("requests.yaml") == ("requests", None)


def test_xml_has_declaration_items_booleans_and_nulls():
    doc = [{"service_code": "a&b", "metadata": True, "group": None,
            "attributes": {"many": ["x", "y"]}}]
    response = render(doc, "xml", "services")
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.body.startswith('<?xml version="1.0" encoding="utf-8"?><services>')
    root = ElementTree.fromstring(response.body)
    service = root.find("service")
    assert service.find("service_code").text == "a&b"
    assert service.find("metadata").text == "true"
    assert service.find("group").text is None
    assert [v.text for v in service.findall("attributes/attribute/value")] == ["x", "y"]


def test_json_keeps_unicode_and_types():
    response = render([{"lat": 41.5, "ok": False, "name": "Café"}], "json", "x", status=201)
    assert response.status_code == 201
    assert json.loads(response.body) == [{"lat": 41.5, "ok": False, "name": "Café"}]
    assert "Café" in response.body
