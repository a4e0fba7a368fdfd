"""A town's own web address: the platform operator maps it, and `/` on that host is the
town's home page."""

from __future__ import annotations

import json

from chalicelib import bootstrap
from tests.web.pages import text

DOMAIN = "/platform/towns/maplefalls.example/web-domain"


def _map(api, staff, domain, town="maplefalls.example"):  # noqa: ANN001, ANN202
    return api.http.put(f"/platform/towns/{town}/web-domain",
                        body=json.dumps({"domain": domain}),
                        headers={"Content-Type": "application/json",
                                 **staff.headers("operator", town=None)})


def _create_other_town(api, staff) -> None:  # noqa: ANN001
    created = api.http.post("/platform/towns", body=(
        '{"jurisdiction_id": "elmwood.example", "name": "Elmwood", "timezone": "UTC", '
        '"admin_email": "a@elmwood.example", "admin_name": "A"}'),
        headers={"Content-Type": "application/json", **staff.headers("operator", town=None)})
    assert created.status_code == 201, created.body


def test_the_towns_own_address_serves_its_home_page(api, staff) -> None:
    mapped = _map(api, staff, "311.MapleFalls.gov.")
    assert mapped.status_code == 200, mapped.body
    assert json.loads(mapped.body)["web_domain"] == "311.maplefalls.gov"
    page = api.http.get("/", headers={"Host": "311.maplefalls.gov"})
    assert page.status_code == 200
    assert "Maple Falls" in text(page) and "What's the problem?" in text(page)


def test_another_host_has_no_town_at_the_front_door(api, staff) -> None:
    _map(api, staff, "311.maplefalls.gov")
    for host in ("x.execute-api.us-east-1.amazonaws.com", "127.0.0.1:8000", "evil.example"):
        page = api.http.get("/", headers={"Host": host})
        assert page.status_code == 404, host
        assert "no town's 311 pages are at this address" in text(page)


def test_two_towns_cannot_share_an_address(api, staff) -> None:
    _create_other_town(api, staff)
    assert _map(api, staff, "311.maplefalls.gov").status_code == 200
    taken = _map(api, staff, "311.maplefalls.gov", town="elmwood.example")
    assert taken.status_code == 409
    page = api.http.get("/", headers={"Host": "311.maplefalls.gov"})
    assert "Maple Falls" in text(page)


def test_moving_the_address_frees_the_old_one(api, staff) -> None:
    _create_other_town(api, staff)
    _map(api, staff, "311.maplefalls.gov")
    assert _map(api, staff, "servicios.maplefalls.gov").status_code == 200
    assert _map(api, staff, "311.maplefalls.gov", town="elmwood.example").status_code == 200
    assert "Elmwood" in text(api.http.get("/", headers={"Host": "311.maplefalls.gov"}))
    assert "Maple Falls" in text(api.http.get("/", headers={"Host": "servicios.maplefalls.gov"}))
    assert _map(api, staff, None).status_code == 200
    # Every container reads addresses afresh within its cache minute; this one now.
    bootstrap.container().towns.forget()
    assert api.http.get("/", headers={"Host": "servicios.maplefalls.gov"}).status_code == 404


def test_only_dns_names_are_accepted(api, staff) -> None:
    for bad in ("localhost", "10.0.0.1", "311.maple falls.gov", "-x.example", "a..b",
                "<script>.example"):
        assert _map(api, staff, bad).status_code == 400, bad


def test_only_platform_operators_map_addresses(api, staff) -> None:
    refused = api.http.put(DOMAIN, body='{"domain": "311.maplefalls.gov"}', headers={
        "Content-Type": "application/json", **staff.headers("town_admin")})
    assert refused.status_code == 403
    assert api.http.get("/", headers={"Host": "311.maplefalls.gov"}).status_code == 404
