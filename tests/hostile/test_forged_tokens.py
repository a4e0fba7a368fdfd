"""Forged staff sign-in tokens, through HTTP: the classic JWT attacks on a verifier, each
aimed at a real member of staff so that only the signature check stands in the way.

The verifier is pure Python (chalicelib/adapters/rs256.py) since issue 14: these are the
attacks such a verifier is known to get wrong. Each must answer 401 (never 500), and the
genuine token of the same person must still get in, so the 401 is the forgery's doing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TOWN = "maplefalls.example"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _part(value: object) -> str:
    return _b64(json.dumps(value).encode())


def _unpart(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _me(api, token: str) -> tuple[int, str]:
    r = api.http.get("/staff/me", headers={"Authorization": f"Bearer {token}"})
    return r.status_code, json.loads(r.body)["error"]["code"] if r.status_code >= 400 else ""


def _rsa_signed(key: rsa.RSAPrivateKey, header: dict, claims: dict) -> str:
    signing_input = f"{_part(header)}.{_part(claims)}"
    return f"{signing_input}.{_b64(key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))}"  # noqa: E501


@pytest.fixture
def admin(api, staff) -> tuple[str, dict]:
    """A town admin on the staff list: (their genuine token, its claims)."""
    token = staff.token("town_admin", subject="real-admin")
    assert _me(api, token) == (200, "")
    return token, _unpart(token.split(".")[1])


def test_hs256_keyed_with_the_published_public_key_is_401(api, admin, signing_key):
    """Key confusion: the verifier's key is public, so an HMAC keyed with it is a
    "signature" anyone can make. A verifier that takes the algorithm from the token falls."""
    _, claims = admin
    for secret in (signing_key.public_pem, signing_key.public_pem.strip()):
        signing_input = f"{_part({'alg': 'HS256', 'typ': 'JWT'})}.{_part(claims)}"
        mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
        assert _me(api, f"{signing_input}.{_b64(mac)}") == (401, "unauthenticated")


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", ""])
def test_an_unsigned_token_of_a_real_admin_is_401(api, admin, alg):
    genuine, claims = admin
    unsigned = f"{_part({'alg': alg, 'typ': 'JWT'})}.{_part(claims)}"
    for signature in ("", genuine.split(".")[2]):
        assert _me(api, f"{unsigned}.{signature}") == (401, "unauthenticated")


def test_an_expired_token_with_its_expiry_pushed_on_is_401(api, staff, admin):
    old = staff.token("town_admin", subject="real-admin", now=time.time() - 13 * 3600)
    header, claims, signature = old.split(".")
    assert _me(api, old) == (401, "unauthenticated")
    revived = {**_unpart(claims), "exp": int(time.time()) + 3600}
    assert _me(api, f"{header}.{_part(revived)}.{signature}") == (401, "unauthenticated")


def test_a_token_carrying_its_own_key_or_pointing_at_one_is_401(api, admin):
    """The token names the key ("jwk", "jku", "kid"): a verifier that trusts it checks the
    forger's signature with the forger's key."""
    import jwt

    _, claims = admin
    mallory = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(mallory.public_key()))
    for header in ({"alg": "RS256", "jwk": jwk}, {"alg": "RS256", "kid": "mallory",
                                                  "jku": "http://127.0.0.1:9/jwks.json"},
                   {"alg": "RS256", "x5u": "http://127.0.0.1:9/cert.pem"}):
        assert _me(api, _rsa_signed(mallory, header, claims)) == (401, "unauthenticated")


def test_signatures_that_are_numbers_and_not_signatures_are_401(api, admin, signing_key):
    """The signature is a number below n: n itself (which decrypts to 0), n + s (which
    decrypts like s), all ones, zero, and signatures of the wrong length."""
    from cryptography.hazmat.primitives import serialization

    genuine, _ = admin
    header, claims, signature = genuine.split(".")
    s = base64.urlsafe_b64decode(signature + "==")
    n = serialization.load_pem_public_key(signing_key.public_pem.encode()).public_numbers().n
    k, s_plus_n = len(s), n + int.from_bytes(s, "big")
    forged = [n.to_bytes(k, "big"), b"\xff" * k, b"\x00" * k, s[:-1], s + b"\x00",
              b"\x00" + s, s_plus_n.to_bytes(k if s_plus_n < 256**k else k + 1, "big")]
    for bad in forged:
        assert _me(api, f"{header}.{claims}.{_b64(bad)}") == (401, "unauthenticated")


def test_another_rsa_padding_or_hash_from_the_right_key_is_401(api, admin, signing_key):
    from cryptography.hazmat.primitives import serialization

    _, claims = admin
    key = serialization.load_pem_private_key(signing_key.private_pem.encode(), None)
    for alg, scheme, digest in (
            ("PS256", padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()),
            ("RS512", padding.PKCS1v15(), hashes.SHA512()),
            ("RS256", padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()),
            ("RS256", padding.PKCS1v15(), hashes.SHA1())):
        signing_input = f"{_part({'alg': alg, 'typ': 'JWT'})}.{_part(claims)}"
        token = f"{signing_input}.{_b64(key.sign(signing_input.encode(), scheme, digest))}"
        assert _me(api, token) == (401, "unauthenticated"), (alg, scheme)


@pytest.mark.parametrize("raw_claims", [
    b"[" * 3000 + b"]" * 3000,  # deep enough to exhaust a recursive parser
    b'{"sub": ' + b"9" * 5000 + b"}",  # an integer Python refuses to read
    b'{"sub": "real-admin", "sub": "someone-else"}',
    b'{"exp": NaN}',
    b"\xff\xfe{}",
], ids=["deep", "huge-integer", "duplicate-sub", "nan", "bad-utf8"])
def test_claims_shaped_to_break_the_parser_are_401_not_500(api, admin, signing_key,
                                                           raw_claims):
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(signing_key.private_pem.encode(), None)
    signing_input = f"{_part({'alg': 'RS256'})}.{_b64(raw_claims)}"
    token = f"{signing_input}.{_b64(key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))}"  # noqa: E501
    assert _me(api, token) == (401, "unauthenticated")


@pytest.mark.parametrize("shape", [
    "{g}.{c}.{s}.{s}", "{g}.{c}.{s}.{s}.{s}", "{g}..{s}", "{g}.{c}", "{g}.{c}.{s}=",
    "{g}.{c}.{s}!", "{g}==.{c}.{s}"])
def test_a_genuine_token_reshaped_is_401(api, admin, shape):
    genuine, _ = admin
    g, c, s = genuine.split(".")
    assert _me(api, shape.format(g=g, c=c, s=s)) == (401, "unauthenticated")
