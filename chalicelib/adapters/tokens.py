"""Verifying staff sign-in tokens (RS256 JWTs) with the standard library.

In the cloud the issuer is the Amazon Cognito user pool in infra/; its ID tokens carry the
town in ``custom:town``, the roles as ``cognito:groups`` and department codes in
``custom:departments``, and its signing keys are published as a JWKS under the issuer.
Locally the runner signs tokens of the same shape with a local RSA key, and this same code
verifies them with the matching public key (PEM).

The signature check is ``chalicelib.adapters.rs256`` (pure Python: PyJWT's RSA needed
``cryptography`` and ``cffi``, 5.5 MB of the API package); this module adds where keys come from and
what the claims must say, as PyJWT checked them (docs/security.md).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from chalicelib.adapters import rs256
from chalicelib.domain.access import Principal, Role, refuse_impossible_identity
from chalicelib.domain.errors import Unauthenticated

log = logging.getLogger(__name__)

ALGORITHMS = [rs256.ALGORITHM]
LEEWAY_SECONDS = 30
REQUIRED_CLAIMS = ("exp", "iat", "sub", "iss", "aud")

# Cognito answers from the same region in milliseconds; a staff call should not wait long
# for a key set that is not coming (PyJWT waited 30 s).
JWKS_TIMEOUT_SECONDS = 3.0
# A token naming a key we have not seen makes us fetch the key set again (that is how
# Cognito's key rotation arrives), but at most this often per container: a stranger with
# made-up key ids cannot make us hammer Cognito, nor make a call wait on it each time.
JWKS_REFETCH_SECONDS = 60.0
# And even when every token names a known key, the set is fetched again when it is this
# old (PyJWT's cache lifespan): a key the pool withdrew stops working in warm containers.
JWKS_MAX_AGE_SECONDS = 300.0
# Cognito's key set is two keys, under 1 KB.
MAX_JWKS_BYTES = 64 * 1024

_NOT_VALID = "the bearer token is not valid here"


class JwtVerifier:
    """``TokenVerifier`` for RS256 ID tokens of one issuer and audience, checked with the
    deployment's PEM public key (local runs) or else the keys of ``jwks_url`` (Cognito)."""

    def __init__(self, issuer: str, audience: str, *, public_key_pem: str | None = None,
                 jwks_url: str | None = None) -> None:
        self._issuer = issuer
        self._audience = audience
        self._public_key_pem = public_key_pem
        self._jwks_url = jwks_url
        self._public_key: rs256.RsaPublicKey | None = None
        self._jwks: JwksKeys | None = None

    def verify(self, token: str, source_ip: str | None = None) -> Principal:
        if not self._public_key_pem and not self._jwks_url:
            raise Unauthenticated("staff sign-in is not configured for this deployment")
        try:
            signed = rs256.parse(token)
            claims = rs256.verified_claims(signed, self._key_for(signed))
        except rs256.InvalidToken:
            raise Unauthenticated(_NOT_VALID) from None
        self._check_claims(claims, time.time())
        if claims.get("token_use", "id") != "id":
            raise Unauthenticated("send the ID token, not the access token")
        return principal_from_claims(claims, source_ip)

    def _key_for(self, signed: rs256.SignedToken) -> rs256.RsaPublicKey:
        if self._public_key_pem:
            if self._public_key is None:
                # A key that does not parse is a broken deployment, not a bad caller: let
                # it fail loudly (a 500 and its traceback) rather than as 401s.
                self._public_key = rs256.public_key_from_pem(self._public_key_pem)
            return self._public_key  # one key: a kid in the token changes nothing
        if self._jwks is None:
            self._jwks = JwksKeys(self._jwks_url or "")  # verify() checked there is one
        kid = signed.key_id
        key = self._jwks.key(kid) if kid is not None else None
        if key is None:
            raise rs256.InvalidToken("signed with a key that is not the pool's")
        return key

    def _check_claims(self, claims: dict[str, Any], now: float) -> None:
        """What PyJWT's ``decode`` checked for us, in its order (so an expired token that
        is wrong in other ways too still says "expired")."""
        for name in REQUIRED_CLAIMS:
            if claims.get(name) is None:
                raise Unauthenticated(_NOT_VALID)
        # A token issued (or valid only) in the future is refused, with some slack for
        # clocks that disagree.
        if _numeric_date(claims["iat"]) > now + LEEWAY_SECONDS:
            raise Unauthenticated(_NOT_VALID)
        if "nbf" in claims and _numeric_date(claims["nbf"]) > now + LEEWAY_SECONDS:
            raise Unauthenticated(_NOT_VALID)
        if _numeric_date(claims["exp"]) <= now - LEEWAY_SECONDS:
            raise Unauthenticated("your sign-in has expired; sign in again")
        if claims["iss"] != self._issuer:  # a non-string is never equal to ours
            raise Unauthenticated(_NOT_VALID)
        audience = claims["aud"]
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences) \
                or self._audience not in audiences:
            raise Unauthenticated(_NOT_VALID)
        if not isinstance(claims["sub"], str) or not isinstance(claims.get("jti", ""), str):
            raise Unauthenticated(_NOT_VALID)


def _numeric_date(value: Any) -> int:
    """RFC 7519 §2 NumericDate: a JSON number of seconds, whole seconds counted as PyJWT
    did (``int()``). Strings, booleans, NaN and infinities are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or (isinstance(value, float) and not math.isfinite(value)):
        raise Unauthenticated(_NOT_VALID)
    return int(value)


class JwksKeys:
    """The user pool's signing keys by key id, fetched when first needed and again once
    they are ``JWKS_MAX_AGE_SECONDS`` old. A key id we do not have fetches the set again,
    at most once every ``JWKS_REFETCH_SECONDS`` (successful or not); meanwhile such tokens
    are refused."""

    def __init__(self, url: str, *, fetch: Callable[[str], bytes] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._url = url
        self._fetch = fetch or fetch_jwks
        self._clock = clock
        self._keys: dict[str, rs256.RsaPublicKey] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()  # `chalice local` serves calls on threads

    def key(self, kid: str) -> rs256.RsaPublicKey | None:
        """The key with this id, or None if the pool has none (as far as we may ask)."""
        key = self._keys.get(kid)
        if key is not None and not self._older_than(JWKS_MAX_AGE_SECONDS):
            return key
        with self._lock:
            wanted = kid not in self._keys or self._older_than(JWKS_MAX_AGE_SECONDS)
            if wanted and self._older_than(JWKS_REFETCH_SECONDS):
                self._refresh()
            return self._keys.get(kid)

    def _older_than(self, seconds: float) -> bool:
        """Whether the last fetch (or attempt) was at least ``seconds`` ago, or never."""
        return self._fetched_at is None or self._clock() - self._fetched_at >= seconds

    def _refresh(self) -> None:
        self._fetched_at = self._clock()
        try:
            keys = keys_from_jwks(self._fetch(self._url))
        except (OSError, ValueError, RecursionError) as e:  # URLError, timeouts: OSError
            # Keep the keys we had: tokens they signed still work while Cognito is away.
            log.warning("could not fetch the staff sign-in keys from %s: %r", self._url, e)
            return
        self._keys = keys  # a key the pool dropped stops working now


def keys_from_jwks(body: bytes) -> dict[str, rs256.RsaPublicKey]:
    """The RS256 signing keys of a JWK Set (RFC 7517 §5), by key id. Keys of other kinds
    or uses are left out; a key id used twice names no key (which one would it be?)."""
    document = json.loads(body)
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set")
    keys: dict[str, rs256.RsaPublicKey] = {}
    seen: set[str] = set()
    for jwk in document["keys"]:
        kid = jwk.get("kid") if isinstance(jwk, dict) else None
        if not isinstance(kid, str):
            continue
        if kid in seen:
            keys.pop(kid, None)
            continue
        seen.add(kid)
        try:
            keys[kid] = rs256.public_key_from_jwk(jwk)
        except rs256.InvalidKey as e:
            log.info("left out key %s of the staff sign-in key set: %s", kid, e)
    return keys


def fetch_jwks(url: str) -> bytes:
    """GET the key set: http(s) only, no redirects, a short timeout, a bounded body."""
    import urllib.request  # 60 ms of imports (http.client, email, ssl): only in the cloud

    opener = urllib.request.OpenerDirector()
    # No FileHandler (a file:// issuer must not read the disk: UnknownHandler refuses it)
    # and no redirect handler (a redirect becomes an HTTPError): the key set comes from the
    # issuer itself.
    for handler in (urllib.request.ProxyHandler(), urllib.request.UnknownHandler(),
                    urllib.request.HTTPHandler(), urllib.request.HTTPSHandler(),
                    urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with opener.open(request, timeout=JWKS_TIMEOUT_SECONDS) as response:
        body: bytes = response.read(MAX_JWKS_BYTES + 1)
    if len(body) > MAX_JWKS_BYTES:
        raise ValueError("the key set is larger than any pool's")
    return body


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
