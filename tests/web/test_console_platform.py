"""The platform operator's screens: towns and their state, a new town from a pack,
suspend and resume, through the same services as /platform/towns."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from chalicelib.domain.towns import SUSPENDED
from tests.web.pages import FORM, csrf, html, text

NEW_TOWN = {"jurisdiction_id": "oakridge.example", "name": "Oakridge",
            "timezone": "America/Chicago", "pack": "small_town",
            "admin_email": "clerk@oakridge.example", "admin_name": "Olive Clerk"}


@pytest.fixture
def operator(staff) -> str:  # noqa: ANN001
    """An operator's session cookie (with the CSRF cookie a form post needs)."""
    return staff.token("operator", town=None)


def get(api, path: str, token: str, **extra: str):  # noqa: ANN001, ANN201
    return api.http.get(path, headers={"Cookie": f"t311_staff={token}", **extra})


def post(api, path: str, token: str, fields: dict[str, str], csrf_token: str):  # noqa: ANN001, ANN201
    return api.http.post(path, body=urlencode({"csrf_token": csrf_token, **fields}), headers={
        **FORM, "Cookie": f"t311_csrf={csrf_token}; t311_staff={token}"})


def test_the_operator_sees_every_town_with_its_state(api, operator) -> None:
    home = get(api, "/console", operator)
    assert 'href="/console/towns"' in html(home)
    page = get(api, "/console/towns", operator)
    assert page.status_code == 200
    seen = text(page)
    assert "Maple Falls" in seen and "riverton.example" in seen and "Active" in seen


def test_the_operator_creates_a_town_from_a_pack(api, operator, deployment) -> None:
    form = get(api, "/console/towns/new", operator)
    assert form.status_code == 200 and 'name="admin_email"' in html(form)
    made = post(api, "/console/towns", operator, NEW_TOWN, csrf(form))
    assert made.status_code == 303
    assert made.headers["Location"] == "/console/towns?done=created&town=oakridge.example"
    town = deployment.container.town_store.get_town("oakridge.example")
    assert town is not None and town.name == "Oakridge" and town.timezone == "America/Chicago"
    listed = get(api, made.headers["Location"], operator)
    assert "Town oakridge.example created" in text(listed) and "Oakridge" in text(listed)


def test_bad_input_is_said_next_to_each_field_and_nothing_is_made(api, operator,
                                                                  deployment) -> None:
    token = csrf(get(api, "/console/towns/new", operator))
    bad = {**NEW_TOWN, "jurisdiction_id": "not a domain", "timezone": "Mars/Olympus",
           "admin_email": "nobody", "name": "<script>alert(1)</script>"}
    refused = post(api, "/console/towns", operator, bad, token)
    assert refused.status_code == 400
    page = html(refused)
    assert "data-error-summary" in page
    for field in ("jurisdiction_id", "timezone", "admin_email"):
        assert f'id="{field}-error"' in page, field
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert deployment.container.town_store.get_town("not a domain") is None
    unknown_pack = post(api, "/console/towns", operator, {**NEW_TOWN, "pack": "megacity"},
                        token)
    assert unknown_pack.status_code == 400 and 'id="pack-error"' in html(unknown_pack)
    assert deployment.container.town_store.get_town("oakridge.example") is None


def test_a_town_that_exists_is_not_made_twice(api, operator) -> None:
    token = csrf(get(api, "/console/towns/new", operator))
    again = post(api, "/console/towns", operator,
                 {**NEW_TOWN, "jurisdiction_id": "maplefalls.example"}, token)
    assert again.status_code == 400
    assert "A town with this id already exists" in text(again)


def test_the_operator_suspends_and_resumes_a_town(api, operator, deployment) -> None:
    token = csrf(get(api, "/console/towns", operator))
    out = post(api, "/console/towns/riverton.example/suspend", operator, {}, token)
    assert out.status_code == 303 and "done=suspended" in out.headers["Location"]
    store = deployment.container.town_store
    assert store.get_town("riverton.example").status == SUSPENDED
    listed = text(get(api, out.headers["Location"], operator))
    assert "Suspended" in listed and "Resume" in listed
    back = post(api, "/console/towns/riverton.example/resume", operator, {}, token)
    assert back.status_code == 303 and store.get_town("riverton.example").status == "active"


def test_a_form_without_its_token_changes_nothing(api, operator, deployment) -> None:
    token = csrf(get(api, "/console/towns", operator))
    refused = api.http.post("/console/towns/riverton.example/suspend", body="", headers={
        **FORM, "Cookie": f"t311_csrf={token}; t311_staff={operator}"})
    assert refused.status_code == 403
    assert deployment.container.town_store.get_town("riverton.example").status == "active"


def test_an_unknown_town_is_a_not_found_page(api, operator) -> None:
    token = csrf(get(api, "/console/towns", operator))
    missing = post(api, "/console/towns/nowhere.example/suspend", operator, {}, token)
    assert missing.status_code == 404 and html(missing)


def test_a_town_admin_gets_the_not_allowed_page(api, staff, deployment) -> None:
    admin = staff.token("town_admin")
    assert 'href="/console/towns"' not in html(get(api, "/console", admin))
    for path in ("/console/towns", "/console/towns/new"):
        page = get(api, path, admin)
        assert page.status_code == 403 and "That is not allowed" in text(page), path
    token = csrf(get(api, "/console", admin))
    refused = post(api, "/console/towns/riverton.example/suspend", admin, {}, token)
    assert refused.status_code == 403
    made = post(api, "/console/towns", admin, NEW_TOWN, token)
    assert made.status_code == 403
    assert deployment.container.town_store.get_town("riverton.example").status == "active"
    assert deployment.container.town_store.get_town("oakridge.example") is None


def test_a_stranger_is_sent_to_sign_in(api) -> None:
    page = api.http.get("/console/towns")
    assert page.status_code == 303
    assert page.headers["Location"] == "/console/sign-in?next=%2Fconsole%2Ftowns"



def test_the_operator_sees_this_months_usage_and_cost_of_each_town_and_the_total(
        api, operator, deployment) -> None:
    from tests.functional.helpers import POTHOLE, post_request

    for _ in range(2):  # counted as they are filed, by their channel
        assert post_request(api, POTHOLE).status_code == 201
    deployment.container.usage.add("riverton.example", "2026-11", {
        "requests_phone": 3, "messages_sms": 4, "sms_segments": 5, "messages_email": 7,
        "photos": 2, "photo_bytes": 3 * 1048576, "alert_messages": 1})
    deployment.container.usage.add("riverton.example", "2026-10", {"requests_web": 99})
    page = get(api, "/console/towns", operator)
    assert page.status_code == 200
    seen = text(page)
    assert "Usage in 2026-11" in seen
    assert "Apps (Open311): 2" in seen and "Phone call: 3" in seen
    assert "99" not in seen  # last month's are not this month's
    from chalicelib.services import usage

    found = {u.town.town_id: u for u in usage.towns_usage(
        deployment.container.usage_ports, _operator())}
    assert found["maplefalls.example"].requests_filed == 2
    riverton = found["riverton.example"]
    assert riverton.counts["sms_segments"] == 5 and riverton.cost.lines["sms"] > 0
    for shown in (f"${riverton.cost.total:.2f}",
                  f"${usage.total_cost(list(found.values())):.2f}", "3.0 MB", "4 (5)",
                  "< $0.01"):  # Maple Falls: two requests cost less than a cent
        assert shown in seen, shown


def _operator():  # noqa: ANN202
    from chalicelib.domain.access import Principal, Role

    return Principal(subject="op", town_id=None, roles=frozenset({Role.OPERATOR}))


def test_the_usage_is_in_spanish_too(api, operator) -> None:
    page = get(api, "/console/towns?lang=es", operator)
    seen = text(page)
    assert "Uso en 2026-11" in seen and "Costo estimado" in seen and "Todos los municipios" \
        in seen and "Uso en 2026-10" in seen  # the link to last month


def test_the_operator_looks_back_a_month_and_a_bad_month_is_a_friendly_page(
        api, operator, deployment) -> None:
    deployment.container.usage.add("riverton.example", "2026-10", {"requests_web": 99})
    page = get(api, "/console/towns", operator)
    assert 'href="/console/towns?month=2026-10"' in html(page)
    before = get(api, "/console/towns?month=2026-10", operator)
    seen = text(before)
    assert before.status_code == 200 and "Usage in 2026-10" in seen
    assert "Web pages: 99" in seen and "This month" in seen
    for bad in ("2026-13", "soon", "<script>x</script>"):
        refused = get(api, "/console/towns?" + urlencode({"month": bad}), operator)
        assert refused.status_code == 400 and "<script>x" not in html(refused), bad


def test_the_operator_reads_the_usage_as_json_and_no_one_else_can(api, staff) -> None:
    import json

    from tests.functional.helpers import POTHOLE, post_request

    assert post_request(api, POTHOLE).status_code == 201
    operator = staff.headers("operator", town=None)
    every = api.http.get("/platform/usage", headers=operator)
    assert every.status_code == 200
    found = json.loads(every.body)
    assert found["month"] == "2026-11"
    maple = next(t for t in found["towns"] if t["jurisdiction_id"] == "maplefalls.example")
    assert maple["requests_by_channel"] == {"open311": 1} and maple["status"] == "active"
    assert found["estimated_cost_usd"] == round(sum(
        t["estimated_cost_usd"]["total"] for t in found["towns"]), 6)
    one = api.http.get("/platform/towns/maplefalls.example/usage", headers=operator)
    assert json.loads(one.body) == maple
    missing = api.http.get("/platform/towns/nowhere.example/usage", headers=operator)
    assert missing.status_code == 404
    earlier = json.loads(api.http.get("/platform/usage?month=2026-10", headers=operator).body)
    assert earlier["month"] == "2026-10" and earlier["estimated_cost_usd"] == 0
    bad = api.http.get("/platform/usage?month=2026-1", headers=operator)
    assert bad.status_code == 400 and json.loads(bad.body)["error"]["code"]
    admin = staff.headers("town_admin")
    for path in ("/platform/usage", "/platform/towns/maplefalls.example/usage"):
        refused = api.http.get(path, headers=admin)
        assert refused.status_code == 403, path
