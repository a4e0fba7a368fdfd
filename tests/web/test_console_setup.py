"""Town administration on the console, part two: departments and their channels, zones
(GeoJSON uploads checked by the polygon checks), routing rules with the dry run, and the
gazetteer upload. Each through the same service as its JSON route: refused for other
roles, field problems shown next to fields, nothing stored on a refused post."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from tests.fakes.webhooks import FakeResolver
from tests.web.pages import html, text
from tests.web.test_console_admin import later
from tests.web.test_console_entry import Desk, desk

TOWN = "maplefalls.example"
DEPARTMENTS = "/console/admin/departments"
ZONES = "/console/admin/zones"
ROUTING = "/console/admin/routing"
PLACES = "/console/admin/places"

SQUARE = {"type": "Polygon", "coordinates": [[[-93.30, 44.90], [-93.20, 44.90],
                                              [-93.20, 45.00], [-93.30, 45.00],
                                              [-93.30, 44.90]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[-93.30, 44.90], [-93.20, 45.00],
                                              [-93.20, 44.90], [-93.30, 45.00],
                                              [-93.30, 44.90]]]}


def upload(who: Desk, path: str, fields: list[tuple[str, str]],
           file: tuple[str, bytes, str] | None = None, *, token: str | None = None) -> Any:
    """A multipart form post with an optional file in the ``media`` part, as a browser
    sends the upload forms."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in [("csrf_token", who.csrf if token is None else token), *fields]:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    if file is not None:
        filename, content, kind = file
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="media"; '
                     f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'.encode()
                     + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return who.api.http.post(path, body=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "Cookie": who.cookie()})


def catalogue(deployment: Any) -> Any:
    later(deployment)
    town = deployment.container.towns.get_town(TOWN)
    return deployment.container.towns.get_catalogue(TOWN, town.changeset)


@pytest.fixture
def places(deployment) -> None:  # noqa: ANN001 - the conftest Deployment
    from chalicelib.services.demo_gazetteer import seed_demo_gazetteer

    seed_demo_gazetteer(deployment.container.gazetteer_store, TOWN, deployment.clock[0])


@pytest.fixture
def dns(deployment) -> FakeResolver:  # noqa: ANN001 - the conftest Deployment
    fake = FakeResolver(names={"hooks.example.com": ["93.184.216.34"],
                               "intranet.example.com": ["10.0.0.5"]})
    deployment.container.resolver = fake
    return fake


# --- departments -----------------------------------------------------------------------------


def test_a_town_admin_adds_edits_and_deletes_a_department(api, staff, deployment, dns) -> None:
    admin = desk(api, staff, "town_admin")
    listing = admin.get(DEPARTMENTS)
    assert listing.status_code == 200 and "Public Works — Streets" in text(listing)
    admin.get(DEPARTMENTS + "/new")
    shown = admin.post(DEPARTMENTS + "/new", [
        ("code", "bridges"), ("name", "Bridges"), ("email", "bridges@maplefalls.example"),
        ("queue", "yes"), ("webhook_url", "https://hooks.example.com/town311")])
    # A new webhook's secret is shown on the answer, once; it is not in any URL.
    assert shown.status_code == 200, text(shown)
    assert "shown only this once" in text(shown)
    secret = catalogue(deployment).department("bridges").webhook_secret
    assert secret and secret.startswith("whsec_") and f'value="{secret}"' in html(shown)
    bridges = catalogue(deployment).department("bridges")
    assert bridges.name == "Bridges" and bridges.queue
    assert bridges.webhook_url == "https://hooks.example.com/town311"
    # Editing shows its queue (the same answer as GET /admin/departments/bridges/queue)
    # and keeps the secret unless a new one is asked for.
    page = admin.get(DEPARTMENTS + "/edit/bridges")
    assert page.status_code == 200 and 'value="Bridges"' in html(page)
    assert "Its queue" in text(page) and "bridges" in text(page)
    changed = admin.post(DEPARTMENTS + "/edit/bridges", [
        ("name", "Bridges & Tunnels"), ("email", ""), ("webhook_url",
                                                       "https://hooks.example.com/town311")])
    assert changed.status_code == 303
    assert changed.headers["Location"] == f"{DEPARTMENTS}?saved=bridges"
    kept = catalogue(deployment).department("bridges")
    assert kept.name == "Bridges & Tunnels" and kept.webhook_secret == secret and not kept.queue
    assert "The department bridges was saved." in text(admin.get(changed.headers["Location"]))
    deleted = admin.post(DEPARTMENTS + "/edit/bridges/delete", [])
    assert deleted.status_code == 303
    assert catalogue(deployment).department("bridges") is None


def test_a_department_in_use_is_not_deleted(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(DEPARTMENTS)
    refused = admin.post(DEPARTMENTS + "/edit/public_works/delete", [])
    assert refused.status_code == 409 and "move them to another department" in text(refused)
    assert catalogue(deployment).department("public_works") is not None


def test_bad_department_input_is_shown_next_to_fields(api, staff, deployment, dns) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(DEPARTMENTS + "/new")
    bad = admin.post(DEPARTMENTS + "/new", [
        ("code", "Bad Code!"), ("name", "<script>alert(1)</script>"), ("email", "nope"),
        ("webhook_url", "https://intranet.example.com/hook")])
    assert bad.status_code == 400
    assert 'id="email-error"' in html(bad)
    assert "Enter an e-mail address like name@example.com" in text(bad)
    assert "<script>alert(1)</script>" not in html(bad)
    # The service's public-address check speaks next to the webhook field.
    private = admin.post(DEPARTMENTS + "/new", [
        ("code", "bridges"), ("name", "Bridges"), ("email", ""),
        ("webhook_url", "https://intranet.example.com/hook")])
    assert private.status_code == 400 and 'id="webhook_url-error"' in html(private)
    bad_code = admin.post(DEPARTMENTS + "/new", [("code", "Bad Code!"), ("name", "Fine")])
    assert bad_code.status_code == 400 and 'id="code-error"' in html(bad_code)
    assert catalogue(deployment).department("bridges") is None


# --- zones -----------------------------------------------------------------------------------


def test_a_town_admin_uploads_a_zone_pasted_or_as_a_file(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    assert "Old Town" in text(admin.get(ZONES))
    pasted = upload(admin, ZONES, [("code", "ward-1"), ("name", "Ward 1"), ("kind", "ward"),
                                   ("geometry", json.dumps(SQUARE))])
    assert pasted.status_code == 303, text(pasted)
    zone = next(z for z in catalogue(deployment).zones if z.code == "ward-1")
    assert zone.name == "Ward 1" and zone.kind == "ward"
    feature = {"type": "Feature", "properties": {"n": 2}, "geometry": SQUARE}
    filed = upload(admin, ZONES, [("code", "ward-2"), ("name", "Ward 2"),
                                  ("kind", "district"), ("geometry", "")],
                   ("ward2.geojson", json.dumps(feature).encode(), "application/geo+json"))
    assert filed.status_code == 303, text(filed)
    assert "The zone ward-2 was saved." in text(admin.get(filed.headers["Location"]))
    assert {"ward-1", "ward-2"} <= {z.code for z in catalogue(deployment).zones}
    gone = admin.post(ZONES + "/ward-1/delete", [])
    assert gone.status_code == 303
    assert "ward-1" not in {z.code for z in catalogue(deployment).zones}


def test_bad_geometry_gets_the_polygon_checks_messages_next_to_the_field(api, staff,
                                                                          deployment) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(ZONES)
    crossed = upload(admin, ZONES, [("code", "ward-9"), ("name", "Ward 9"), ("kind", "ward"),
                                    ("geometry", json.dumps(BOWTIE))])
    assert crossed.status_code == 400
    assert 'id="geometry-error"' in html(crossed)
    assert "cross" in text(crossed).lower()  # the polygon check's own words
    point = upload(admin, ZONES, [("code", "ward-9"), ("name", "Ward 9"), ("kind", "ward"),
                                  ("geometry", '{"type": "Point", "coordinates": [1, 2]}')])
    assert point.status_code == 400 and "a zone is an area" in text(point)
    garbled = upload(admin, ZONES, [("code", "Ward 9"), ("name", ""), ("kind", "ward"),
                                    ("geometry", "{not json")])
    assert garbled.status_code == 400
    assert "The boundary is not GeoJSON" in text(garbled)
    empty = upload(admin, ZONES, [("code", "Ward 9"), ("name", ""), ("kind", "planet"),
                                  ("geometry", json.dumps(SQUARE))])
    assert empty.status_code == 400
    for field in ("code", "name", "kind"):
        assert f'id="{field}-error"' in html(empty), field
    nothing = upload(admin, ZONES, [("code", "ward-9"), ("name", "W"), ("kind", "ward"),
                                    ("geometry", "")])
    assert "Choose a GeoJSON file or paste the boundary" in text(nothing)
    assert not any(z.code in ("ward-9", "Ward 9") for z in catalogue(deployment).zones)


# --- routing -----------------------------------------------------------------------------------


def rules_form(*rules: tuple[str, str, str], triage: str = "triage") -> list[tuple[str, str]]:
    pairs = [("triage", triage), ("rules", str(len(rules)))]
    for i, (service, zone, department) in enumerate(rules):
        pairs += [(f"r{i}_service_code", service), (f"r{i}_zone", zone),
                  (f"r{i}_department", department)]
    return pairs


def test_a_town_admin_edits_the_rules_and_tries_a_point(api, staff, deployment,
                                                        places) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(ROUTING)
    saved = admin.post(ROUTING, rules_form(("pothole", "old-town", "utilities"),
                                           ("graffiti", "", "parks_forestry")))
    assert saved.status_code == 303, text(saved)
    routing = catalogue(deployment).routing
    assert [(r.service_code, r.zone, r.department) for r in routing.rules] == [
        ("pothole", "old-town", "utilities"), ("graffiti", None, "parks_forestry")]
    page = admin.get(saved.headers["Location"])
    assert "The routing rules were saved." in text(page) and "Rule 2" in text(page)
    # A pothole in Old Town goes to Utilities; outside it, to the service's own department.
    inside = admin.get(f"{ROUTING}/dry-run?service_code=pothole&lat=44.975&long=-93.268")
    assert inside.status_code == 200
    assert "It would go to Utilities — Lights & Signals" in text(inside)
    assert "rule for pothole in old-town" in text(inside)
    outside = admin.get(f"{ROUTING}/dry-run?service_code=pothole&lat=44.981&long=-93.261")
    assert "It would go to Public Works — Streets" in text(outside)
    # An address from the gazetteer stands in for the point.
    address = admin.get(f"{ROUTING}/dry-run?service_code=graffiti&address=Main")
    assert address.status_code == 200, text(address)
    assert "It would go to Parks & Forestry" in text(address) and "At " in text(address)
    # Removing a rule.
    removed = admin.post(ROUTING, [*rules_form(("pothole", "old-town", "utilities"),
                                               ("graffiti", "", "parks_forestry")),
                                   ("r0_remove", "yes")])
    assert removed.status_code == 303
    assert [r.service_code for r in catalogue(deployment).routing.rules] == ["graffiti"]


def test_bad_rules_and_points_are_shown_next_to_fields(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(ROUTING)
    bad = admin.post(ROUTING, rules_form(("pothole", "atlantis", "utilities"),
                                         ("graffiti", "", "nobody")))
    assert bad.status_code == 400
    assert 'id="r0_zone-error"' in html(bad) and "no zone" in text(bad)
    assert 'id="r1_department-error"' in html(bad)
    twice = admin.post(ROUTING, rules_form(("pothole", "", "utilities"),
                                           ("pothole", "", "water")))
    assert twice.status_code == 400 and "two rules for the same service" in text(twice)
    assert catalogue(deployment).routing is None
    half = admin.get(f"{ROUTING}/dry-run?service_code=pothole&lat=44.975")
    assert half.status_code == 400 and 'id="long-error"' in html(half)
    far = admin.get(f"{ROUTING}/dry-run?service_code=pothole&lat=95&long=-93")
    assert far.status_code == 400 and 'id="lat-error"' in html(far)
    nowhere = admin.get(f"{ROUTING}/dry-run?service_code=pothole&address=Nowhere%20Lane")
    assert "No place in the town" in text(nowhere)
    unknown = admin.get(f"{ROUTING}/dry-run?service_code=ghost&lat=44.975&long=-93.268")
    assert unknown.status_code == 400 and 'id="service_code-error"' in html(unknown)


# --- the gazetteer -------------------------------------------------------------------------------


CSV = (b"number,street,lat,long\n"
       b"12,MAIN ST,44.975,-93.268\n"
       b"14,Main St,44.9751,-93.2681\n"
       b"16,Main St,not-a-number,-93.2682\n"
       b",Elm St,44.976,-93.266\n")


def test_a_town_admin_uploads_the_gazetteer_and_sees_the_report(api, staff,
                                                                 deployment) -> None:
    admin = desk(api, staff, "town_admin")
    assert "No places have been uploaded yet." in text(admin.get(PLACES))
    sent = upload(admin, PLACES, [], ("places.csv", CSV, "text/csv"))
    assert sent.status_code == 200, text(sent)
    page = text(sent)
    assert "2 rows kept, 2 refused." in page
    assert "Rows refused" in page and re.search(r"\b4\b", page) and re.search(r"\b5\b", page)
    assert "2 places" in page
    summary = deployment.container.gazetteer_store.summary(TOWN)
    assert summary is not None and summary.total == 2
    assert "2 places" in text(admin.get(PLACES))


def test_a_refused_gazetteer_changes_nothing(api, staff, deployment, places) -> None:
    admin = desk(api, staff, "town_admin")
    before = deployment.container.gazetteer_store.summary(TOWN)
    admin.get(PLACES)
    nothing = upload(admin, PLACES, [])
    assert nothing.status_code == 400 and "Choose the CSV file to upload" in text(nothing)
    bad = upload(admin, PLACES, [], ("places.csv", b"number,street,lat,long\n"
                                                   b"1,Elm,abc,def\n", "text/csv"))
    assert bad.status_code == 400 and 'id="media-error"' in html(bad)
    assert "Line 2" in text(bad) and "Nothing was changed" in text(bad)
    headless = upload(admin, PLACES, [], ("x.csv", b"what,is,this\n1,2,3\n", "text/csv"))
    assert headless.status_code == 400
    assert deployment.container.gazetteer_store.summary(TOWN) == before


# --- refusals ------------------------------------------------------------------------------------


def test_other_roles_are_refused_every_setup_screen(api, staff, deployment) -> None:
    for who in (desk(api, staff, "agent"), desk(api, staff, "analyst"),
                desk(api, staff, "department_worker", departments=("public_works",))):
        who.get("/console")
        for path in (DEPARTMENTS, DEPARTMENTS + "/new", DEPARTMENTS + "/edit/water",
                     ZONES, ROUTING, PLACES):
            assert who.get(path).status_code == 403, path
        assert who.post(DEPARTMENTS + "/new", [("code", "x"), ("name", "X")]
                        ).status_code == 403
        assert who.post(DEPARTMENTS + "/edit/water/delete", []).status_code == 403
        assert upload(who, ZONES, [("code", "w"), ("name", "W"), ("kind", "ward"),
                                   ("geometry", json.dumps(SQUARE))]).status_code == 403
        assert who.post(ZONES + "/old-town/delete", []).status_code == 403
        assert who.post(ROUTING, rules_form(("pothole", "", "water"))).status_code == 403
        assert upload(who, PLACES, [], ("p.csv", CSV, "text/csv")).status_code == 403
        menu = html(who.get("/console"))
        for path in (DEPARTMENTS, ZONES, ROUTING, PLACES):
            assert f'href="{path}"' not in menu
    after = catalogue(deployment)
    assert after.department("x") is None and after.department("water") is not None
    assert "old-town" in {z.code for z in after.zones} and after.routing is None
    assert deployment.container.gazetteer_store.summary(TOWN) is None


def test_posts_without_the_csrf_token_are_refused(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(DEPARTMENTS)
    assert admin.post(DEPARTMENTS + "/new", [("code", "x"), ("name", "X")], token=""
                      ).status_code == 403
    assert admin.post(DEPARTMENTS + "/edit/water/delete", [], token="").status_code == 403
    assert upload(admin, ZONES, [("code", "w"), ("name", "W"), ("kind", "ward"),
                                 ("geometry", json.dumps(SQUARE))], token="").status_code == 403
    assert admin.post(ZONES + "/old-town/delete", [], token="").status_code == 403
    assert admin.post(ROUTING, rules_form(("pothole", "", "water")), token="").status_code == 403
    assert upload(admin, PLACES, [], ("p.csv", CSV, "text/csv"), token="").status_code == 403
    after = catalogue(deployment)
    assert after.department("x") is None and "w" not in {z.code for z in after.zones}
    assert after.routing is None
    assert deployment.container.gazetteer_store.summary(TOWN) is None


def test_the_setup_screens_in_spanish(api, staff) -> None:
    admin = desk(api, staff, "town_admin")
    for path, words in ((DEPARTMENTS, "Añadir un departamento"), (ZONES, "Zonas"),
                        (ROUTING, "Reglas de asignación"), (PLACES, "Subir una lista nueva")):
        page = api.http.get(f"{path}?lang=es", headers={"Cookie": admin.cookie()})
        assert page.status_code == 200 and words in text(page), path
