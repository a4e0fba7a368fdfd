"""Staff sign-in on the emulator: the local runner signs ID tokens shaped like Cognito's
with a local RSA key, and the app verifies them with the public half through the same
code (chalicelib/adapters/tokens.py) that verifies Cognito's in the cloud.

`make run` keeps the key in .run/local-signing-key.pem and its demo logins in
.run/demo.json. Their tokens last 12 hours; for a fresh one while it runs:

    python -m local.tokens --role town_admin      (or: make token ROLE=town_admin)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCAL_ISSUER = "http://127.0.0.1/town311-local-issuer"
LOCAL_AUDIENCE = "town311-local"


@dataclass(frozen=True)
class SigningKey:
    private_pem: str
    public_pem: str


def new_signing_key() -> SigningKey:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return _signing_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def signing_key_from_pem(private_pem: str) -> SigningKey:
    from cryptography.hazmat.primitives import serialization

    return _signing_key(serialization.load_pem_private_key(private_pem.encode(), password=None))


def _signing_key(key: Any) -> SigningKey:
    from cryptography.hazmat.primitives import serialization

    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo
                                           ).decode()
    return SigningKey(private, public)


def load_or_create_signing_key(path: Path) -> SigningKey:
    """The key in `path` (a PKCS#8 PEM), or a new one written there (readable by the owner
    only): tokens printed by an earlier run stay valid across restarts."""
    if path.exists():
        return signing_key_from_pem(path.read_text())
    key = new_signing_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.private_pem)
    return key


def mint(key: SigningKey, *, subject: str, email: str, town: str | None, roles: Iterable[str],
         departments: Iterable[str] = (), ttl_seconds: int = 12 * 3600,
         issuer: str = LOCAL_ISSUER, audience: str = LOCAL_AUDIENCE,
         now: float | None = None) -> str:
    """An ID token for one member of staff, with Cognito's claim names."""
    import jwt

    issued = int(now if now is not None else time.time())
    claims = {
        "iss": issuer, "aud": audience, "sub": subject, "email": email,
        "token_use": "id", "iat": issued, "exp": issued + ttl_seconds,
        "cognito:groups": list(roles),
        "custom:departments": ",".join(departments),
    }
    if town is not None:
        claims["custom:town"] = town
    return jwt.encode(claims, key.private_pem, algorithm="RS256")


def app_environment(key: SigningKey) -> dict[str, str]:
    """What the app needs to verify local tokens."""
    return {"TOWN311_JWT_ISSUER": LOCAL_ISSUER, "TOWN311_JWT_AUDIENCE": LOCAL_AUDIENCE,
            "TOWN311_JWT_PUBLIC_KEY": key.public_pem}


# --- `python -m local.tokens --role ROLE` ---------------------------------------------------

RUN_DIR = Path(__file__).resolve().parent.parent / ".run"
KEY_FILE = "local-signing-key.pem"
DEMO_FILE = "demo.json"


def fresh_demo_token(role: str, run_dir: Path = RUN_DIR, ttl_seconds: int = 12 * 3600) -> str:
    """A new token for the demo person with `role`, as `make run` recorded them."""
    key_path, demo_path = run_dir / KEY_FILE, run_dir / DEMO_FILE
    if not key_path.exists() or not demo_path.exists():
        raise SystemExit(f"no {key_path} or {demo_path}: start `make run` first")
    logins = json.loads(demo_path.read_text()).get("logins", {})
    if role not in logins:
        raise SystemExit(f"no demo login for {role!r}; there are: {', '.join(sorted(logins))}")
    person = logins[role]
    return mint(signing_key_from_pem(key_path.read_text()), subject=person["subject"],
                email=person["email"], town=person.get("town"), roles=person["roles"],
                departments=person.get("departments", ()), ttl_seconds=ttl_seconds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m local.tokens",
        description="Print a fresh ID token for a demo person of the running `make run`.")
    parser.add_argument("--role", required=True, help="town_admin, agent, operator, ...")
    parser.add_argument("--hours", type=float, default=12.0, help="lifetime (default 12)")
    args = parser.parse_args(argv)
    token = fresh_demo_token(args.role, RUN_DIR, ttl_seconds=int(args.hours * 3600))
    sys.stdout.write(token + "\n")


if __name__ == "__main__":
    main()
