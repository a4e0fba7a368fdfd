"""Town administration on the console, the people side: staff and roles, API keys (the
secret shown once), the audit log and the town's export; refused for other roles, field
problems shown next to fields, CSRF checked, in Spanish too."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest

from tests.web.pages import html, text
from tests.web.test_console_entry import Desk, desk

TOWN = "maplefalls.example"
STAFF = "/console/admin/staff"
KEYS = "/console/admin/api-keys"
AUDIT = "/console/admin/audit"
EXPORT = "/console/admin/export"

WORKER = [("email", "rosa@maplefalls.example"), ("name", "Rosa Díaz"),
          ("roles", "department_worker"), ("roles", "supervisor"),
          ("departments", "public_works")]
MADE = {"Crew tablets", "Kiosk", "Mine", "Alpha app", "Beta app", "Gamma app"}


def members(deployment: Any) -> dict[str, Any]:
    return {m.email: m for m in deployment.container.towns.list_staff(TOWN)}


def api_keys(deployment: Any) -> list[Any]:
    """The keys made here (the test town comes with keys of its own)."""
    return [k for k in deployment.container.towns.list_api_keys(TOWN) if k.name in MADE]


def test_a_town_admin_adds_and_removes_a_member_of_staff(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    listing = admin.get(STAFF)
    assert listing.status_code == 200
    assert "town_admin@maplefalls.example" in text(listing)
    assert "Town administrator" in text(listing)
    added = admin.post(STAFF, WORKER)
    assert added.status_code == 303, text(added)
    assert added.headers["Location"] == f"{STAFF}?saved=added"
    rosa = members(deployment)["rosa@maplefalls.example"]
    assert rosa.roles == ("department_worker", "supervisor")
    assert rosa.departments == ("public_works",) and rosa.active
    page = admin.get(added.headers["Location"])
    assert "The person was added to the staff." in text(page)
    assert "Rosa Díaz" in text(page) and "Department worker, Supervisor" in text(page)
    # Removing: the same service as DELETE /admin/staff/{user_id} (the person is kept,
    # inactive, so the audit log still names them).
    removed = admin.post(f"{STAFF}/{rosa.user_id}/remove", [])
    assert removed.status_code == 303
    assert members(deployment)["rosa@maplefalls.example"].active is False
    page = admin.get(removed.headers["Location"])
    assert "they can no longer sign in" in text(page) and "Removed" in text(page)
    assert "Remove Rosa Díaz" not in text(page)


def test_bad_staff_input_is_shown_next_to_fields_and_nothing_is_stored(api, staff,
                                                                      deployment) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(STAFF)
    bad = admin.post(STAFF, [("email", "not an address"), ("name", "<script>x</script>")])
    assert bad.status_code == 400
    assert "There is a problem" in text(bad)
    assert 'id="email-error"' in html(bad) and 'id="roles-error"' in html(bad)
    assert "Choose at least one role" in text(bad)
    assert "<script>x</script>" not in html(bad)  # kept in the field, escaped
    # A department worker with no department; a department the town does not have.
    lonely = admin.post(STAFF, [("email", "x@maplefalls.example"), ("name", "X"),
                                ("roles", "department_worker")])
    assert lonely.status_code == 400 and 'id="departments-error"' in html(lonely)
    assert 'value="department_worker" checked' in html(lonely)
    unknown = admin.post(STAFF, [("email", "x@maplefalls.example"), ("name", "X"),
                                 ("roles", "agent"), ("departments", "moon_base")])
    assert unknown.status_code == 400 and 'id="departments-error"' in html(unknown)
    # No platform operators made by a town.
    operator = admin.post(STAFF, [("email", "x@maplefalls.example"), ("name", "X"),
                                  ("roles", "operator")])
    assert operator.status_code == 400 and 'id="roles-error"' in html(operator)
    assert "x@maplefalls.example" not in members(deployment)
    # Someone already on the staff: said next to the address.
    assert admin.post(STAFF, WORKER).status_code == 303
    again = admin.post(STAFF, WORKER)
    assert again.status_code == 400
    assert "This person is already on the staff" in text(again)


def test_an_api_key_secret_is_shown_once_and_never_again(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    assert "First key" in text(admin.get(KEYS))
    made = admin.post(KEYS, [("name", "Crew tablets"), ("scopes", "submit"),
                             ("scopes", "updates")])
    # A page, not a redirect: the secret is only in this answer.
    assert made.status_code == 201, text(made)
    assert made.headers["Cache-Control"] == "no-store"
    assert "Location" not in made.headers
    secret = unescape(re.search(r'id="secret"[^>]*value="([^"]+)"', html(made)).group(1))
    assert len(secret) > 20
    assert secret not in json.dumps(made.headers)  # no cookie, no URL carries it
    (key,) = api_keys(deployment)
    assert key.name == "Crew tablets" and key.scopes == {"submit", "updates"}
    assert secret.startswith(key.prefix)
    towns = deployment.container.town_store
    assert towns.find_api_key(TOWN, secret).key_id == key.key_id  # the secret works
    listing = admin.get(KEYS)
    assert secret not in html(listing) and key.prefix in text(listing)
    assert "Update and close requests" in text(listing)
    # Rotating: a new secret, shown once; the old key is revoked.
    rotated = admin.post(f"{KEYS}/{key.key_id}/rotate", [])
    assert rotated.status_code == 201 and "The old secret no longer works." in text(rotated)
    new_secret = unescape(re.search(r'id="secret"[^>]*value="([^"]+)"',
                                    html(rotated)).group(1))
    assert new_secret != secret
    found = towns.find_api_key(TOWN, secret)
    assert found is None or found.revoked  # the old secret stops
    assert not towns.find_api_key(TOWN, new_secret).revoked
    keys = {k.key_id: k for k in api_keys(deployment)}
    assert keys[key.key_id].revoked and len(keys) == 2
    listing = admin.get(KEYS)
    assert secret not in html(listing) and new_secret not in html(listing)
    # Revoking the new one.
    (current,) = [k for k in keys.values() if not k.revoked]
    revoked = admin.post(f"{KEYS}/{current.key_id}/revoke", [])
    assert revoked.status_code == 303
    assert all(k.revoked for k in api_keys(deployment))
    assert "The key was revoked" in text(admin.get(revoked.headers["Location"]))


def test_bad_key_input_is_shown_next_to_fields_and_nothing_is_made(api, staff,
                                                                  deployment) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(KEYS)
    bad = admin.post(KEYS, [("name", ""), ("scopes", "everything")])
    assert bad.status_code == 400
    assert 'id="name-error"' in html(bad) and 'id="scopes-error"' in html(bad)
    none = admin.post(KEYS, [("name", "Kiosk")])
    assert none.status_code == 400 and "Choose at least one thing the key may do" in text(none)
    assert api_keys(deployment) == []
    assert admin.post(f"{KEYS}/no-such-key/rotate", []).status_code == 404


def test_the_audit_log_newest_first_paged_and_filtered(api, staff, deployment,
                                                       monkeypatch) -> None:
    from chalicelib.web import console_people

    admin = desk(api, staff, "town_admin")
    admin.get(STAFF)
    for name in ("Alpha app", "Beta app", "Gamma app"):
        deployment.clock[0] += timedelta(seconds=5)
        assert admin.post(KEYS, [("name", name), ("scopes", "submit")]).status_code == 201
    page = admin.get(AUDIT)
    assert page.status_code == 200
    shown = text(page)
    assert shown.index("Gamma app") < shown.index("Beta app") < shown.index("Alpha app")
    assert "api_key.created" in shown and "town_admin@maplefalls.example" in shown
    # Filtering looks within the page.
    found = admin.get(f"{AUDIT}?q=beta")
    assert "Beta app" in text(found) and "Gamma app" not in text(found)
    assert "Nothing in this page matches." in text(admin.get(f"{AUDIT}?q=zzz"))
    # Paging: "Older" continues before the last entry shown.
    monkeypatch.setattr(console_people, "AUDIT_PAGE", 2)
    first = admin.get(AUDIT)
    assert "Gamma app" in text(first) and "Alpha app" not in text(first)
    older = unescape(re.search(r'href="(/console/admin/audit\?before=[^"]+)"',
                               html(first)).group(1))
    second = admin.get(older)
    assert "Alpha app" in text(second) and "Gamma app" not in text(second)
    assert admin.get(f"{AUDIT}?before=yesterday").status_code == 400


def test_the_town_is_exported_in_the_background_with_progress_then_a_link(
        api, staff, deployment) -> None:
    from tests.functional.test_open_data import _download, _run_worker

    admin = desk(api, staff, "town_admin")
    page = admin.get(EXPORT)
    assert page.status_code == 200 and "Start the export" in text(page)
    started = admin.post(EXPORT, [])
    assert started.status_code == 303
    progress_path = started.headers["Location"]
    assert progress_path.startswith(EXPORT + "/")
    waiting = admin.get(progress_path)
    assert waiting.status_code == 200 and "Waiting to start" in text(waiting)
    assert "console_export" in html(waiting) and 'href="' + progress_path in html(waiting)
    assert "Download the export" not in text(waiting)
    assert _run_worker(deployment) == {"batchItemFailures": []}
    ready = admin.get(progress_path)
    assert "The export is ready" in text(ready) and "console_export" not in html(ready)
    link = unescape(re.search(r'href="([^"]+)" data-export-link', html(ready)).group(1))
    lines = [json.loads(line) for line in _download(link).decode().splitlines()]
    assert any(item.get("name") == "Maple Falls" for item in lines)
    assert "town.exported" in text(admin.get(AUDIT))
    assert admin.post(EXPORT, [], token="").status_code == 403
    # Another town's admin cannot follow the job.
    other = Desk(api, staff.token("town_admin", town="riverton.example"))
    assert other.get(progress_path).status_code == 404
    assert admin.get(EXPORT + "/no-such-job").status_code == 404


@pytest.mark.parametrize("role", ["agent", "analyst", "supervisor", "emergency_manager"])
def test_other_roles_are_refused(api, staff, deployment, role) -> None:
    who = desk(api, staff, role)
    menu = html(who.get("/console"))
    for path in (STAFF, KEYS, AUDIT, EXPORT):
        assert f'href="{path}"' not in menu
    assert who.get(STAFF).status_code == 403
    assert who.post(STAFF, WORKER).status_code == 403
    assert who.get(KEYS).status_code == 403
    assert who.post(KEYS, [("name", "Mine"), ("scopes", "updates")]).status_code == 403
    assert who.get(AUDIT).status_code == 403
    assert who.post(EXPORT, []).status_code == 403
    assert who.get(EXPORT + "/anything").status_code == 403
    assert "rosa@maplefalls.example" not in members(deployment)
    assert api_keys(deployment) == []


def test_the_menu_shows_the_screens_to_a_town_admin(api, staff) -> None:
    menu = html(desk(api, staff, "town_admin").get("/console"))
    for path in (STAFF, KEYS, AUDIT, EXPORT):
        assert f'href="{path}"' in menu


def test_posts_without_the_csrf_token_are_refused(api, staff, deployment) -> None:
    admin = desk(api, staff, "town_admin")
    admin.get(KEYS)
    assert admin.post(STAFF, WORKER, token="").status_code == 403
    assert admin.post(KEYS, [("name", "Kiosk"), ("scopes", "submit")], token="").status_code \
        == 403
    assert "rosa@maplefalls.example" not in members(deployment)
    assert api_keys(deployment) == []
    assert admin.post(STAFF, WORKER).status_code == 303
    rosa = members(deployment)["rosa@maplefalls.example"]
    assert admin.post(f"{STAFF}/{rosa.user_id}/remove", [], token="").status_code == 403
    assert members(deployment)["rosa@maplefalls.example"].active


def test_the_screens_in_spanish(api, staff) -> None:
    admin = desk(api, staff, "town_admin")
    cookie = {"Cookie": admin.cookie() + "; t311_lang=es"}
    assert "Personal y funciones" in text(api.http.get(STAFF, headers=cookie))
    assert "Crear una clave" in text(api.http.get(KEYS, headers=cookie))
    assert "Registro de auditoría" in text(api.http.get(AUDIT, headers=cookie))
    assert "Empezar la exportación" in text(api.http.get(EXPORT, headers=cookie))


def test_a_platform_operator_chooses_the_console_language(api, staff) -> None:
    token = staff.token("operator", town=None)
    english = api.http.get("/console", headers={"Cookie": f"t311_staff={token}"})
    assert english.headers["Content-Language"] == "en"
    asked = api.http.get("/console?lang=es", headers={"Cookie": f"t311_staff={token}"})
    assert asked.headers["Content-Language"] == "es" and "Inicio" in text(asked)
    assert "t311_lang=es" in json.dumps(asked.headers)
    kept = api.http.get("/console", headers={"Cookie": f"t311_staff={token}; t311_lang=es"})
    assert kept.headers["Content-Language"] == "es"
    browser = api.http.get("/console", headers={"Cookie": f"t311_staff={token}",
                                                "Accept-Language": "es-MX,es;q=0.9"})
    assert browser.headers["Content-Language"] == "es"
    refused = api.http.get("/console?lang=xx", headers={"Cookie": f"t311_staff={token}"})
    assert refused.headers["Content-Language"] == "en"


