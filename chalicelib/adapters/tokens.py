"""Verifying staff sign-in tokens (JWTs) with PyJWT.

In the cloud the issuer is the Amazon Cognito user pool in infra/; its ID tokens carry the
town in ``custom:town``, the roles as ``cognito:groups`` and department codes in
``custom:departments``. Locally the runner signs tokens of the same shape with a local RSA
key, and this same code verifies them with the matching public key.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.access import Principal, Role, refuse_impossible_identity
from chalicelib.domain.errors import Unauthenticated

ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 30


class JwtVerifier:
    def __init__(self, issuer: str, audience: str, *, public_key_pem: str | None = None,
                 jwks_url: str | None = None) -> None:
        self._issuer = issuer
        self._audience = audience
        self._public_key_pem = public_key_pem
        self._jwks_url = jwks_url
        self._jwks_client: Any = None

    def verify(self, token: str, source_ip: str | None = None) -> Principal:
        import jwt

        try:
            key = self._key_for(token)
            claims = jwt.decode(
                token, key, algorithms=ALGORITHMS, audience=self._audience,
                issuer=self._issuer, leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("your sign-in has expired; sign in again") from None
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is not valid here") from None
        if claims.get("token_use", "id") != "id":
            raise Unauthenticated("send the ID token, not the access token")
        return principal_from_claims(claims, source_ip)

    def _key_for(self, token: str) -> Any:
        if self._public_key_pem:
            return self._public_key_pem
        if not self._jwks_url:
            raise Unauthenticated("staff sign-in is not configured for this deployment")
        import jwt

        if self._jwks_client is None:
            # Cognito's keys are fetched once per container and cached by kid.
            self._jwks_client = jwt.PyJWKClient(self._jwks_url, cache_keys=True)
        return self._jwks_client.get_signing_key_from_jwt(token).key


def principal_from_claims(claims: dict[str, Any], source_ip: str | None) -> Principal:
    """What the token claims. Only a claim: ``services.signin.StaffRoster`` then checks it
    against the staff record before any call acts on it."""
    groups = claims.get("cognito:groups") or []
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        raise Unauthenticated("the bearer token is not valid here")
    roles = frozenset(Role(g) for g in groups
                      if isinstance(g, str) and g in Role._value2member_map_)
    departments = frozenset(
        d.strip() for d in str(claims.get("custom:departments") or "").split(",") if d.strip())
    town = claims.get("custom:town") or None
    if town is not None and not isinstance(town, str):
        raise Unauthenticated("the bearer token is not valid here")
    refuse_impossible_identity(town, roles)
    return Principal(subject=str(claims["sub"]), town_id=town, roles=roles,
                     departments=departments, email=claims.get("email"), source_ip=source_ip)
