"""Staff sign-in tokens (chalicelib/adapters/tokens.py): tokens PyJWT signs, from a PEM key
(the local runner) or the pool's JWKS (Cognito), verify to the same person; the claims are
checked as PyJWT checked them; the key set is fetched rarely; and no Lambda code needs
PyJWT or cryptography."""

from __future__ import annotations

import ast
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters import tokens
from chalicelib.adapters.tokens import JwksKeys, JwtVerifier, keys_from_jwks
from chalicelib.domain.access import Role
from chalicelib.domain.errors import Unauthenticated

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"
AUDIENCE = "staff-console-client"
TOWN = "maplefalls.example"
NOT_VALID = "the bearer token is not valid here"
EXPIRED = "your sign-in has expired; sign in again"


def _private_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo
                                         ).decode()


def _jwk(key: rsa.RSAPrivateKey, kid: str, **extra: str) -> dict:
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid,
            "use": "sig", "alg": "RS256", **extra}


def _jwks(*jwks: dict) -> bytes:
    return json.dumps({"keys": list(jwks)}).encode()


def _claims(**changes: object) -> dict:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "sub-ana", "email": "ana@example.org",
              "token_use": "id", "iat": now, "exp": now + 3600,
              "cognito:groups": ["town_admin"], "custom:town": TOWN,
              "custom:departments": "works,water"}
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not _GONE}


_GONE = object()


def _sign(key: rsa.RSAPrivateKey, claims: dict, kid: str | None = None,
          algorithm: str = "RS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm,
                      headers={"kid": kid} if kid is not None else None)


def _sign_as_is(key: rsa.RSAPrivateKey, claims: dict) -> str:
    """Signed without PyJWT's checks (it refuses to write some of the odd claims here)."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return _private_key()


@pytest.fixture(scope="module")
def verifier(key) -> JwtVerifier:
    return JwtVerifier(ISSUER, AUDIENCE, public_key_pem=_pem(key))


def _refused(verifier: JwtVerifier, token: str, message: str = NOT_VALID) -> None:
    with pytest.raises(Unauthenticated) as refused:
        verifier.verify(token)
    assert str(refused.value) == message


# --- tokens that verify ------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [2048, 4096])
def test_a_token_signed_with_the_pem_key_says_who_the_caller_is(bits):
    key = _private_key(bits)
    verifier = JwtVerifier(ISSUER, AUDIENCE, public_key_pem=_pem(key))
    found = verifier.verify(_sign(key, _claims(), kid="anything"), "203.0.113.9")
    assert (found.subject, found.town_id, found.roles, found.departments, found.email,
            found.source_ip) == ("sub-ana", TOWN, frozenset({Role.TOWN_ADMIN}),
                                 frozenset({"works", "water"}), "ana@example.org",
                                 "203.0.113.9")


@pytest.mark.parametrize("bits", [2048, 4096])
def test_a_token_signed_with_a_key_of_the_pools_jwks_verifies(monkeypatch, bits):
    old, current = _private_key(), _private_key(bits)
    monkeypatch.setattr(tokens, "fetch_jwks",
                        lambda url: _jwks(_jwk(old, "old"), _jwk(current, "current")))
    verifier = JwtVerifier(ISSUER, AUDIENCE, jwks_url=f"{ISSUER}/.well-known/jwks.json")
    assert verifier.verify(_sign(current, _claims(), kid="current")).subject == "sub-ana"
    assert verifier.verify(_sign(old, _claims(sub="bo"), kid="old")).subject == "bo"
    _refused(verifier, _sign(old, _claims(), kid="current"))  # each key only as itself


role_names = st.lists(st.sampled_from([r.value for r in Role if r is not Role.OPERATOR]),
                      min_size=1, max_size=3, unique=True)
codes = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(subject=st.text(min_size=1, max_size=40), roles=role_names,
       departments=st.lists(codes, max_size=4, unique=True),
       email=st.emails(), audience_list=st.booleans(), lifetime=st.integers(60, 86_400))
def test_any_staff_member_pyjwt_signs_for_comes_back_as_signed(
        key, verifier, subject, roles, departments, email, audience_list, lifetime):
    now = int(time.time())
    claims = _claims(sub=subject, email=email, exp=now + lifetime,
                     aud=["other-client", AUDIENCE] if audience_list else AUDIENCE,
                     **{"cognito:groups": roles, "custom:departments": ",".join(departments)})
    found = verifier.verify(_sign(key, claims))
    assert (found.subject, found.email, found.town_id) == (subject, email, TOWN)
    assert found.roles == frozenset(Role(r) for r in roles)
    assert found.departments == frozenset(departments)


# --- tokens that do not ------------------------------------------------------------------------


def test_a_token_from_another_key_is_refused(verifier):
    _refused(verifier, _sign(_private_key(), _claims()))


def test_a_token_with_changed_claims_is_refused(key, verifier):
    import base64

    header, _, signature = _sign(key, _claims()).split(".")
    promoted = base64.urlsafe_b64encode(json.dumps(
        _claims(**{"cognito:groups": ["town_admin", "emergency_manager"]})).encode())
    _refused(verifier, f"{header}.{promoted.rstrip(b'=').decode()}.{signature}")


def test_an_hs256_token_keyed_with_the_public_pem_is_refused(key, verifier):
    import base64
    import hashlib
    import hmac

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(_claims())}"
    mac = hmac.new(_pem(key).encode(), signing_input.encode(), hashlib.sha256).digest()
    _refused(verifier, f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}")


def test_other_rsa_algorithms_of_the_same_key_are_refused(key, verifier):
    for algorithm in ("RS384", "RS512", "PS256"):
        _refused(verifier, _sign(key, _claims(), algorithm=algorithm))


@pytest.mark.parametrize("name", ["exp", "iat", "sub", "iss", "aud"])
def test_a_token_without_a_required_claim_is_refused(key, verifier, name):
    _refused(verifier, _sign_as_is(key, _claims(**{name: _GONE})))
    _refused(verifier, _sign_as_is(key, _claims(**{name: None})))
    assert verifier.verify(_sign_as_is(key, _claims())).subject == "sub-ana"


def test_an_expired_token_says_sign_in_again_after_the_leeway(key, verifier):
    now = int(time.time())
    _refused(verifier, _sign(key, _claims(iat=now - 7200, exp=now - 3600)), EXPIRED)
    _refused(verifier, _sign(key, _claims(exp=now - tokens.LEEWAY_SECONDS - 10)), EXPIRED)
    assert verifier.verify(_sign(key, _claims(exp=now - tokens.LEEWAY_SECONDS + 10)))
    # Expired and wrong in other ways too: PyJWT said "expired" first, so do we.
    _refused(verifier, _sign(key, _claims(exp=now - 3600, aud="someone-else")), EXPIRED)


def test_a_token_not_yet_valid_is_refused_after_the_leeway(key, verifier):
    now = int(time.time())
    for claims in (_claims(nbf=now + 600), _claims(iat=now + 600),
                   _claims(nbf=now + tokens.LEEWAY_SECONDS + 10)):
        _refused(verifier, _sign(key, claims))
    assert verifier.verify(_sign(key, _claims(nbf=now + tokens.LEEWAY_SECONDS - 10,
                                              iat=now + tokens.LEEWAY_SECONDS - 10)))


@pytest.mark.parametrize("changes", [
    {"iss": "https://evil.example"}, {"iss": ISSUER + "/"}, {"iss": [ISSUER]},
    {"aud": "someone-else"}, {"aud": ["someone-else"]}, {"aud": []}, {"aud": ""},
    {"aud": [AUDIENCE, 7]}, {"aud": {"x": AUDIENCE}}, {"aud": 7},
    {"sub": 42}, {"jti": 42},
    {"exp": "99999999999"}, {"exp": True}, {"iat": "now"}, {"nbf": None}, {"nbf": [1]},
    {"exp": 1e400}, {"iat": 10**400}, {"nbf": 10**400},
], ids=lambda changes: json.dumps(changes, default=str)[:60])
def test_a_token_for_another_issuer_audience_or_with_odd_claims_is_refused(
        key, verifier, changes):
    _refused(verifier, _sign_as_is(key, _claims(**changes)))


def test_an_access_token_is_refused_for_what_it_is(key, verifier):
    _refused(verifier, _sign(key, _claims(token_use="access")),
             "send the ID token, not the access token")


def test_numeric_dates_may_be_fractional_as_pyjwt_allowed(key, verifier):
    now = time.time()
    assert verifier.verify(_sign(key, _claims(iat=now, exp=now + 60.5))).subject == "sub-ana"


def test_without_a_key_or_a_jwks_sign_in_is_not_configured():
    with pytest.raises(Unauthenticated, match="not configured"):
        JwtVerifier(ISSUER, AUDIENCE).verify("anything")


def test_a_configured_pem_that_is_no_key_fails_loudly_not_as_401(key):
    from chalicelib.adapters import rs256

    broken = JwtVerifier(ISSUER, AUDIENCE, public_key_pem="-----BEGIN PUBLIC KEY-----\n...")
    with pytest.raises(rs256.InvalidKey):
        broken.verify(_sign(key, _claims()))


@pytest.mark.filterwarnings("ignore:The RSA key is 1024 bits")
def test_a_1024_bit_key_is_refused_from_a_pem_and_from_the_jwks(monkeypatch):
    from chalicelib.adapters import rs256

    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(rs256.InvalidKey):
        JwtVerifier(ISSUER, AUDIENCE, public_key_pem=_pem(small)).verify(
            _sign(small, _claims()))
    monkeypatch.setattr(tokens, "fetch_jwks", lambda url: _jwks(_jwk(small, "small")))
    _refused(JwtVerifier(ISSUER, AUDIENCE, jwks_url="https://x"),
             _sign(small, _claims(), kid="small"))


# --- the key set ------------------------------------------------------------------------------


class CountingFetch:
    def __init__(self, *answers: bytes | Exception) -> None:
        self.answers = list(answers)
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        answer = self.answers[min(len(self.urls), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_keys_are_fetched_once_and_kept_for_five_minutes(key):
    fetch, now = CountingFetch(_jwks(_jwk(key, "k1"))), [1000.0]
    keys = JwksKeys("https://pool/jwks.json", fetch=fetch, clock=lambda: now[0])
    for _ in range(100):
        assert keys.key("k1") is not None
        now[0] += tokens.JWKS_MAX_AGE_SECONDS / 100 - 0.01
    assert fetch.urls == ["https://pool/jwks.json"]
    now[0] += 1
    assert keys.key("k1") is not None
    assert len(fetch.urls) == 2


def test_a_key_the_pool_withdrew_stops_working_once_the_set_is_old(key):
    fetch = CountingFetch(_jwks(_jwk(key, "k1")), _jwks(_jwk(_private_key(), "k2")))
    now = [1000.0]
    keys = JwksKeys("https://pool/jwks.json", fetch=fetch, clock=lambda: now[0])
    assert keys.key("k1") is not None
    now[0] += tokens.JWKS_MAX_AGE_SECONDS
    assert keys.key("k1") is None
    assert keys.key("k2") is not None
    assert len(fetch.urls) == 2


def test_unknown_key_ids_fetch_the_set_again_at_most_once_a_minute(key):
    rotated = _private_key()
    fetch = CountingFetch(_jwks(_jwk(key, "k1")), _jwks(_jwk(key, "k1"), _jwk(rotated, "k2")))
    now = [1000.0]
    keys = JwksKeys("https://pool/jwks.json", fetch=fetch, clock=lambda: now[0])
    assert keys.key("k1") is not None
    for made_up in range(100):  # a stranger's made-up key ids in the same minute
        assert keys.key(f"guess-{made_up}") is None
    assert len(fetch.urls) == 1
    now[0] += tokens.JWKS_REFETCH_SECONDS
    assert keys.key("k2") is not None  # the pool rotated its key: the new one arrives
    assert keys.key("guess-again") is None  # and that used this minute's fetch
    assert len(fetch.urls) == 2
    assert keys.key("k1") is not None


def test_when_the_pool_cannot_be_reached_known_keys_still_work(key, caplog):
    fetch = CountingFetch(_jwks(_jwk(key, "k1")), TimeoutError("timed out"), b"<html>",
                          json.dumps({"keys": "none"}).encode())
    now = [1000.0]
    keys = JwksKeys("https://pool/jwks.json", fetch=fetch, clock=lambda: now[0])
    assert keys.key("k1") is not None
    for _ in range(3):
        now[0] += tokens.JWKS_REFETCH_SECONDS
        assert keys.key("k-new") is None
        assert keys.key("k1") is not None
    assert len(fetch.urls) == 4
    assert caplog.text.count("could not fetch the staff sign-in keys") == 3


def test_a_failed_first_fetch_is_not_retried_within_the_minute(key):
    fetch, now = CountingFetch(OSError("unreachable"), _jwks(_jwk(key, "k1"))), [1000.0]
    keys = JwksKeys("https://pool/jwks.json", fetch=fetch, clock=lambda: now[0])
    assert keys.key("k1") is None and keys.key("k1") is None
    now[0] += tokens.JWKS_REFETCH_SECONDS
    assert keys.key("k1") is not None
    assert len(fetch.urls) == 2


def test_a_key_set_keeps_only_rs256_signing_keys_with_one_meaning_per_id(key):
    other, small = _private_key(), rsa.generate_private_key(public_exponent=65537,
                                                            key_size=1024)
    found = keys_from_jwks(_jwks(
        _jwk(key, "good"),
        {k: v for k, v in _jwk(key, "bare").items() if k not in ("use", "alg")},
        _jwk(key, "enc", use="enc"), _jwk(key, "rs512", alg="RS512"), _jwk(small, "small"),
        {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
        _jwk(key, "twice"), _jwk(other, "twice"), {"kty": "RSA"}, "not a key", 7))
    assert sorted(found) == ["bare", "good"]


def test_through_the_verifier_made_up_key_ids_cost_one_fetch(monkeypatch, key):
    fetch = CountingFetch(_jwks(_jwk(key, "k1")))
    monkeypatch.setattr(tokens, "fetch_jwks", fetch)
    verifier = JwtVerifier(ISSUER, AUDIENCE, jwks_url="https://pool/jwks.json")
    stranger = _private_key()
    for made_up in range(50):
        _refused(verifier, _sign(stranger, _claims(), kid=f"k{made_up + 2}"))
    _refused(verifier, _sign(key, _claims()))  # no kid: which of the pool's keys?
    assert verifier.verify(_sign(key, _claims(), kid="k1")).subject == "sub-ana"
    assert len(fetch.urls) == 1


@pytest.fixture
def issuer() -> Iterator[tuple[str, dict[str, tuple[int, bytes, dict[str, str]]]]]:
    """An HTTP server on 127.0.0.1 answering each path as told: (base URL, answers)."""
    answers: dict[str, tuple[int, bytes, dict[str, str]]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            status, body, headers = answers.get(self.path, (404, b"", {}))
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", answers
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_proxy(monkeypatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def test_the_key_set_is_fetched_over_http_from_the_issuer(key, issuer, no_proxy):
    base, answers = issuer
    answers["/pool/.well-known/jwks.json"] = (200, _jwks(_jwk(key, "k1")), {})
    verifier = JwtVerifier(ISSUER, AUDIENCE, jwks_url=f"{base}/pool/.well-known/jwks.json")
    assert verifier.verify(_sign(key, _claims(), kid="k1")).town_id == TOWN


def test_a_redirect_an_error_or_a_huge_answer_gives_no_keys(key, issuer, no_proxy, caplog):
    base, answers = issuer
    answers["/moved"] = (302, b"", {"Location": f"{base}/keys"})
    answers["/keys"] = (200, _jwks(_jwk(key, "k1")), {})
    answers["/broken"] = (500, b"", {})
    answers["/huge"] = (200, b" " * (tokens.MAX_JWKS_BYTES + 1) + _jwks(_jwk(key, "k1")), {})
    assert JwksKeys(f"{base}/keys").key("k1") is not None  # where the redirect points
    for path in ("/moved", "/broken", "/huge", "/missing"):
        assert JwksKeys(f"{base}{path}").key("k1") is None, path
    assert caplog.text.count("could not fetch the staff sign-in keys") == 4


def test_an_issuer_on_the_disk_is_never_read(key, tmp_path):
    keys_file = tmp_path / "jwks.json"
    keys_file.write_bytes(_jwks(_jwk(key, "k1")))
    assert JwksKeys(keys_file.as_uri()).key("k1") is None
    with pytest.raises(OSError):
        tokens.fetch_jwks(keys_file.as_uri())


# --- what ships -------------------------------------------------------------------------------


def test_no_lambda_code_imports_pyjwt_or_cryptography():
    """PyJWT's RSA needs cryptography and cffi (5.5 MB): the package leaves them out, so
    chalicelib/ and app.py must not import them, even lazily inside a function."""
    banned = {"jwt", "cryptography", "cffi"}
    found = []
    files = [ROOT / "app.py", *sorted((ROOT / "chalicelib").rglob("*.py"))]
    assert len(files) > 20
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found += [f"{path.relative_to(ROOT)}: {name}" for name in names
                      if name.split(".")[0] in banned]
    assert found == []


def test_the_runtime_requirements_leave_pyjwt_to_the_tests_and_the_local_runner():
    def requirements(name: str) -> list[str]:
        lines = (ROOT / name).read_text().splitlines()
        return [line.split("#")[0].strip().lower() for line in lines
                if line.split("#")[0].strip()]

    runtime = requirements("requirements.txt")
    assert not [r for r in runtime if r.startswith(("pyjwt", "cryptography", "cffi"))]
    assert "pyjwt[crypto]>=2.8,<3" in requirements("requirements-dev.txt")
