"""`make run` signs in a demo person per role: a kept local key, tokens the app accepts, and
`python -m local.tokens --role ROLE` for a fresh one."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import jwt
import pytest

from local.run import (
    DEMO_OPERATOR,
    LOGIN_TTL_SECONDS,
    demo_facts,
    demo_logins,
    login_lines,
    seed_demo_operator,
)
from local.tokens import (
    DEMO_FILE,
    KEY_FILE,
    LOCAL_AUDIENCE,
    LOCAL_ISSUER,
    fresh_demo_token,
    load_or_create_signing_key,
    main,
)

TOWN_ROLES = ["town_admin", "agent", "department_worker", "supervisor", "emergency_manager",
              "analyst"]


def claims(token: str, key) -> dict:  # noqa: ANN001
    return jwt.decode(token, key.public_pem, algorithms=["RS256"], audience=LOCAL_AUDIENCE,
                      issuer=LOCAL_ISSUER)


def test_the_signing_key_is_kept_private_and_reused_across_runs(tmp_path: Path):
    path = tmp_path / ".run" / KEY_FILE

    first = load_or_create_signing_key(path)
    second = load_or_create_signing_key(path)

    assert second == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "PRIVATE KEY" in path.read_text()


def test_every_seeded_person_and_a_platform_operator_get_a_twelve_hour_login(deployment,
                                                                           signing_key):
    staff = deployment.container.town_store.list_staff("maplefalls.example")

    logins = demo_logins(signing_key, staff)

    assert set(logins) == {*TOWN_ROLES, "operator"}
    for role, login in logins.items():
        token = claims(login["token"], signing_key)
        assert token["cognito:groups"] == [role]
        assert token["email"] == login["email"]
        assert token["exp"] - token["iat"] == LOGIN_TTL_SECONDS
    assert logins["department_worker"]["departments"] == ["public_works"]
    assert claims(logins["department_worker"]["token"], signing_key)[
        "custom:departments"] == "public_works"
    assert claims(logins["town_admin"]["token"], signing_key)["custom:town"] == (
        "maplefalls.example")
    assert "custom:town" not in claims(logins["operator"]["token"], signing_key)
    assert logins["operator"]["email"] == DEMO_OPERATOR["email"]


def test_each_printed_login_answers_staff_me_with_its_role(api, deployment, signing_key):
    staff = deployment.container.town_store.list_staff("maplefalls.example")
    seed_demo_operator()  # as `make run` does: the operator's platform staff record

    for role, login in demo_logins(signing_key, staff).items():
        response = api.http.get("/staff/me",
                                headers={"Authorization": f"Bearer {login['token']}"})

        assert response.status_code == 200, (role, response.body)
        me = json.loads(response.body)
        assert me["roles"] == [role]
        assert me["email"] == login["email"]
        assert me["town"] == (None if role == "operator" else "maplefalls.example")


def test_the_banner_prints_each_token_on_its_own_curl_line(signing_key):
    logins = demo_logins(signing_key, [])
    facts = demo_facts(8000, "http://127.0.0.1:5055", "maplefalls.example", "t311_x",
                       _EmptyStack(), logins)

    lines = login_lines(facts)

    curl = [line.strip() for line in lines if "curl" in line]
    assert curl == [f'curl -H "Authorization: Bearer {logins["operator"]["token"]}" '
                    "http://127.0.0.1:8000/staff/me"]
    assert any("operator" in line and "operator@town311.local" in line for line in lines)


def test_a_fresh_token_for_a_role_comes_from_the_running_demo(tmp_path: Path, capsys,
                                                              signing_key):
    run_dir = tmp_path / ".run"
    key = load_or_create_signing_key(run_dir / KEY_FILE)
    logins = demo_logins(key, [])
    facts = demo_facts(8000, "http://127.0.0.1:5055", "maplefalls.example", "t311_x",
                       _EmptyStack(), logins)
    (run_dir / DEMO_FILE).write_text(json.dumps(facts))

    fresh = claims(fresh_demo_token("operator", run_dir, ttl_seconds=60), key)

    assert (fresh["sub"], fresh["cognito:groups"]) == ("demo-operator", ["operator"])
    assert fresh["exp"] - fresh["iat"] == 60
    with pytest.raises(SystemExit, match="no demo login for 'mayor'"):
        fresh_demo_token("mayor", run_dir)
    with pytest.raises(SystemExit, match="make run"):
        fresh_demo_token("operator", tmp_path / "elsewhere")


def test_the_token_command_prints_only_the_token(tmp_path: Path, capsys, monkeypatch):
    import local.tokens

    run_dir = tmp_path / ".run"
    key = load_or_create_signing_key(run_dir / KEY_FILE)
    facts = demo_facts(8000, "http://127.0.0.1:5055", "maplefalls.example", "t311_x",
                       _EmptyStack(), demo_logins(key, []))
    (run_dir / DEMO_FILE).write_text(json.dumps(facts))
    monkeypatch.setattr(local.tokens, "RUN_DIR", run_dir)

    main(["--role", "operator"])

    printed = capsys.readouterr().out
    assert printed.count("\n") == 1
    assert claims(printed.strip(), key)["email"] == "operator@town311.local"


class _EmptyStack:
    region = "us-east-1"
    stack_name = "town311-local"
    environment: dict[str, str] = {}
    resources: dict[str, dict[str, str]] = {}
