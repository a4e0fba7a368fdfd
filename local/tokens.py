"""Staff sign-in on the emulator: the local runner signs ID tokens shaped like Cognito's
with a local RSA key, and the app verifies them with the public half through the same
code (chalicelib/adapters/tokens.py) that verifies Cognito's in the cloud."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

LOCAL_ISSUER = "http://127.0.0.1/town311-local-issuer"
LOCAL_AUDIENCE = "town311-local"


@dataclass(frozen=True)
class SigningKey:
    private_pem: str
    public_pem: str


def new_signing_key() -> SigningKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo
                                           ).decode()
    return SigningKey(private, public)


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
