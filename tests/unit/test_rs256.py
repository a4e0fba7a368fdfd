"""RS256 in pure Python (chalicelib/adapters/rs256.py) against PyJWT + cryptography as the
oracle: what they sign verifies, and nothing else does, however it is taken apart."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.adapters import rs256

CLAIMS = {"sub": "u1", "custom:town": "maplefalls.example", "cognito:groups": ["agent"]}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _part(value: object) -> str:
    return _b64(json.dumps(value).encode())


def _private_key(bits: int, exponent: int = 65537) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=exponent, key_size=bits)


def _spki_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo
                                         ).decode()


def _sign(key: rsa.RSAPrivateKey, claims: dict, **headers: object) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers=headers or None)


def _sign_as_is(key: rsa.RSAPrivateKey, header: dict, claims: dict) -> str:
    """A correctly signed token with exactly this header (PyJWT refuses to write some)."""
    signing_input = f"{_part(header)}.{_part(claims)}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


@pytest.fixture(scope="module")
def key2048() -> rsa.RSAPrivateKey:
    return _private_key(2048)


@pytest.fixture(scope="module")
def key4096() -> rsa.RSAPrivateKey:
    return _private_key(4096)


@pytest.fixture(scope="module")
def public2048(key2048) -> rs256.RsaPublicKey:
    return rs256.public_key_from_pem(_spki_pem(key2048))


def _verify(token: str, key: rs256.RsaPublicKey) -> dict:
    return rs256.verified_claims(rs256.parse(token), key)


# --- what PyJWT signs verifies ----------------------------------------------------------------


@pytest.mark.parametrize("bits", [2048, 4096])
def test_a_token_pyjwt_signed_verifies_with_the_pem_key(bits, key2048, key4096):
    private = {2048: key2048, 4096: key4096}[bits]
    public = rs256.public_key_from_pem(_spki_pem(private))
    numbers = private.public_key().public_numbers()
    assert (public.modulus, public.exponent, public.size_bytes) == (numbers.n, numbers.e,
                                                                   bits // 8)
    assert _verify(_sign(private, CLAIMS, kid="k1"), public) == CLAIMS


@pytest.mark.parametrize("bits", [2048, 4096])
def test_a_key_from_a_jwk_is_the_same_key_as_from_its_pem(bits, key2048, key4096):
    private = {2048: key2048, 4096: key4096}[bits]
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    from_jwk = rs256.public_key_from_jwk(jwk)
    assert from_jwk == rs256.public_key_from_pem(_spki_pem(private))
    assert _verify(_sign(private, CLAIMS), from_jwk) == CLAIMS


def test_a_pkcs1_pem_is_the_same_key(key2048, public2048):
    pkcs1 = key2048.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.PKCS1).decode()
    assert pkcs1.startswith("-----BEGIN RSA PUBLIC KEY-----")
    assert rs256.public_key_from_pem(pkcs1) == public2048


def test_the_local_runners_key_is_a_spki_pem_that_verifies_its_tokens():
    from local.tokens import mint, new_signing_key

    key = new_signing_key()
    assert key.public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    token = mint(key, subject="u1", email="u1@x", town="t", roles=["agent"])
    assert _verify(token, rs256.public_key_from_pem(key.public_pem))["sub"] == "u1"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=60, deadline=None)
@given(claims=st.dictionaries(st.text(), json_values, max_size=8))
def test_any_claims_pyjwt_signs_come_back_as_they_were(key2048, public2048, claims):
    assert _verify(_sign(key2048, claims), public2048) == claims


# --- the signature ------------------------------------------------------------------------------


def _split(token: str) -> tuple[str, str, bytes]:
    header, claims, signature = token.split(".")
    return header, claims, base64.urlsafe_b64decode(signature + "==")


@settings(max_examples=150, deadline=None)
@given(at=st.integers(0, 255), mask=st.integers(1, 255))
def test_a_signature_with_any_byte_flipped_is_refused(key2048, public2048, at, mask):
    header, claims, signature = _split(_sign(key2048, CLAIMS))
    flipped = bytearray(signature)
    flipped[at] ^= mask
    with pytest.raises(rs256.InvalidToken):
        _verify(f"{header}.{claims}.{_b64(bytes(flipped))}", public2048)


def test_flipping_the_low_bit_of_each_signature_byte_is_refused(key2048, public2048):
    header, claims, signature = _split(_sign(key2048, CLAIMS))
    message = f"{header}.{claims}".encode()
    assert rs256.signature_is_valid(public2048, message, signature)
    for at in range(len(signature)):
        flipped = bytearray(signature)
        flipped[at] ^= 1
        assert not rs256.signature_is_valid(public2048, message, bytes(flipped)), at


def test_changed_claims_under_the_same_signature_are_refused(key2048, public2048):
    header, _, signature = _sign(key2048, CLAIMS).split(".")
    for changed in ({**CLAIMS, "cognito:groups": ["town_admin"]},
                    {**CLAIMS, "custom:town": "riverton.example"}, {}):
        with pytest.raises(rs256.InvalidToken):
            _verify(f"{header}.{_part(changed)}.{signature}", public2048)


def test_a_signature_of_the_wrong_length_is_refused(key2048, public2048):
    header, claims, signature = _split(_sign(key2048, CLAIMS))
    message = f"{header}.{claims}".encode()
    for wrong in (signature[1:], b"\x00" + signature, signature + b"\x00", b""):
        assert not rs256.signature_is_valid(public2048, message, wrong)


def test_a_signature_at_or_above_the_modulus_is_refused_not_reduced(public2048):
    """s and s + n decrypt to the same block; RFC 8017 §5.2.2 refuses s >= n. A block
    "signed" as n itself would decrypt to 0, and as n + 1 to 1: refused before pow."""
    n, k = public2048.modulus, public2048.size_bytes
    for s in (n, n + 1, 256**k - 1):
        assert not rs256.signature_is_valid(public2048, b"m", s.to_bytes(k, "big"))


def test_a_signature_made_with_pss_or_sha512_is_refused(key2048, public2048):
    message = b"header.claims"
    pss = key2048.sign(message, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    sha512 = key2048.sign(message, padding.PKCS1v15(), hashes.SHA512())
    sha256 = key2048.sign(message, padding.PKCS1v15(), hashes.SHA256())
    assert rs256.signature_is_valid(public2048, message, sha256)
    assert not rs256.signature_is_valid(public2048, message, pss)
    assert not rs256.signature_is_valid(public2048, message, sha512)


def _cube_root(value: int) -> int:
    root = 1 << ((value.bit_length() + 2) // 3)
    while True:
        better = (2 * root + value // (root * root)) // 3
        if better >= root:
            return root
        root = better


def test_bleichenbachers_forgery_for_exponent_3_is_refused():
    """Bleichenbacher (2006): with e = 3, a cube root of 00 01 FF.. 00 DigestInfo H followed
    by garbage needs no private key, and passes any verifier that parses the block and
    ignores what follows the hash. Comparing the whole block refuses it."""
    numbers = _private_key(2048, exponent=3).public_key().public_numbers()
    key = rs256.RsaPublicKey(numbers.n, numbers.e)
    k, message = key.size_bytes, b"header.claims-of-an-admin"
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + \
        hashlib.sha256(message).digest()
    wanted = b"\x00\x01" + b"\xff" * 8 + b"\x00" + digest_info
    forged = _cube_root(int.from_bytes(wanted + b"\xff" * (k - len(wanted)), "big"))
    block = pow(forged, 3, key.modulus).to_bytes(k, "big")
    # What a lenient parser would see: the right prefix, digest and hash, then garbage.
    assert block.startswith(wanted) and block != wanted + b"\x00" * (k - len(wanted))
    assert not rs256.signature_is_valid(key, message, forged.to_bytes(k, "big"))


# --- taking the token apart ---------------------------------------------------------------------


def test_the_algorithm_is_ours_not_the_tokens(key2048, public2048):
    header, claims, signature = _sign(key2048, CLAIMS).split(".")
    for alg in ("none", "None", "NONE", "", None, "HS256", "RS512", "PS256", "ES256",
                "rs256", ["RS256"]):
        forged = f"{_part({'alg': alg, 'typ': 'JWT'})}.{claims}.{signature}"
        with pytest.raises(rs256.InvalidToken):
            rs256.parse(forged)
    with pytest.raises(rs256.InvalidToken):
        rs256.parse(f"{_part({'typ': 'JWT'})}.{claims}.{signature}")


def test_hs256_keyed_with_the_public_pem_is_refused(key2048, public2048):
    """The key-confusion attack: anyone can read the public key, so an HMAC keyed with it
    is a signature anyone can make."""
    secret = _spki_pem(key2048).encode()
    signing_input = f"{_part({'alg': 'HS256', 'typ': 'JWT'})}.{_part(CLAIMS)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(rs256.InvalidToken):
        _verify(f"{signing_input}.{_b64(mac)}", public2048)


def test_extensions_and_odd_key_ids_are_refused(key2048, public2048):
    for extra in ({"crit": ["exp"]}, {"b64": False, "crit": ["b64"]}, {"b64": False},
                  {"kid": 7}, {"kid": ["a"]}, {"kid": None}):
        with pytest.raises(rs256.InvalidToken):
            rs256.parse(_sign_as_is(key2048, {"alg": "RS256", **extra}, CLAIMS))
    signed = rs256.parse(_sign_as_is(key2048, {"alg": "RS256", "kid": "abc", "b64": True},
                                     CLAIMS))
    assert signed.key_id == "abc"
    assert rs256.verified_claims(signed, public2048) == CLAIMS


def test_a_key_in_the_header_is_never_the_key_used(key2048, public2048):
    """A token may carry "jwk" or point at "jku": we verify with the configured key only."""
    mallory = _private_key(2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(mallory.public_key()))
    forged = _sign(mallory, CLAIMS, jwk=jwk, jku="https://mallory.example/jwks.json")
    assert rs256.parse(forged).claims == CLAIMS  # well formed...
    with pytest.raises(rs256.InvalidToken):
        _verify(forged, public2048)  # ...but not ours


@pytest.mark.parametrize("mangle", [
    lambda t: t.rsplit(".", 1)[0],  # two parts
    lambda t: t + ".",  # four
    lambda t: t + ".e30.e30",  # five, a JWE's shape
    lambda t: "",
    lambda t: "..",
    lambda t: t.replace(".", "..", 1),
    lambda t: t + "=",  # padding is not base64url
    lambda t: t.split(".")[0] + "=." + ".".join(t.split(".")[1:]),
    lambda t: t.replace("-", "+").replace("_", "/") if ("-" in t or "_" in t) else t + "+",
    lambda t: t[:-1] + "\u00e9",  # not ASCII
    lambda t: " " + t,
    lambda t: t + "\n",
    lambda t: t + "A",  # 1 mod 4 characters is no base64 at all, or another signature
    lambda t: t + "A" * 16_384,
], ids=["two", "four", "five", "empty", "dots", "empty-part", "padding", "header-padding",
        "base64-not-url", "non-ascii", "space", "newline", "one-more", "too-long"])
def test_a_mangled_token_is_refused(key2048, public2048, mangle):
    token = _sign(key2048, CLAIMS)
    with pytest.raises(rs256.InvalidToken):
        _verify(mangle(token), public2048)


def test_only_the_canonical_base64url_of_the_signature_is_accepted(key2048, public2048):
    """256 bytes are 342 characters whose last holds 4 unused bits: the same bytes have 16
    spellings, and only the one with zero bits is the token."""
    header, claims, signature = _sign(key2048, CLAIMS).split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    assert last % 16 == 0
    for other in range(last + 1, last + 16):
        with pytest.raises(rs256.InvalidToken):
            _verify(f"{header}.{claims}.{signature[:-1]}{alphabet[other]}", public2048)


@pytest.mark.parametrize("raw", [
    b"[]", b'"RS256"', b"1", b"null", b"",
    b'{"alg": "RS256", "alg": "RS256"}',  # duplicate names: which one did the signer mean?
    b'{"alg": "RS256", "x": NaN}', b'{"alg": "RS256", "x": Infinity}',
    b'{"alg": "RS256"', b'{"alg": "RS256"} x',
    '{"alg": "RS256"}'.encode("utf-16"),  # JSON, but not UTF-8
    b'{"alg": "RS256", "x": "\xff"}',
    b'{"alg": "RS256", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"alg": "RS256", "x": ' + b"9" * 5000 + b"}",
], ids=["array", "string", "number", "null", "nothing", "duplicate", "nan", "infinity",
        "cut", "trailing", "utf16", "bad-utf8", "deep", "huge-number"])
def test_a_header_or_claims_part_that_is_not_one_utf8_json_object_is_refused(raw):
    good = _part({"alg": "RS256"})
    for token in (f"{_b64(raw)}.{_part(CLAIMS)}.AAAA", f"{good}.{_b64(raw)}.AAAA"):
        with pytest.raises(rs256.InvalidToken):
            rs256.parse(token)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_changing_any_character_of_a_token_makes_it_refused(key2048, public2048, data):
    token = _sign(key2048, CLAIMS, kid="k1")
    at = data.draw(st.integers(0, len(token) - 1))
    other = data.draw(st.sampled_from(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ").filter(
        lambda c: c != token[at]))
    with pytest.raises(rs256.InvalidToken):
        _verify(token[:at] + other + token[at + 1:], public2048)


# --- keys ---------------------------------------------------------------------------------------


def test_keys_under_2048_bits_are_refused():
    small = _private_key(1024)
    with pytest.raises(rs256.InvalidKey, match="1024 bits"):
        rs256.public_key_from_pem(_spki_pem(small))
    with pytest.raises(rs256.InvalidKey):
        rs256.public_key_from_jwk(json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(
            small.public_key())))


@pytest.mark.parametrize(("modulus_bits", "exponent"), [
    (2048, 1), (2048, 2), (2048, 65536), (2048, 2**31 + 1), (8200, 65537)])
def test_keys_with_odd_numbers_are_refused(modulus_bits, exponent):
    with pytest.raises(rs256.InvalidKey):
        rs256.RsaPublicKey((1 << (modulus_bits - 1)) | 1, exponent)
    with pytest.raises(rs256.InvalidKey):  # an even modulus is no RSA modulus
        rs256.RsaPublicKey(1 << 2047, 65537)


def test_a_pem_that_is_not_an_rsa_public_key_is_refused(key2048):
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    private = key2048.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    spki = _spki_pem(key2048)
    body = "".join(spki.strip().splitlines()[1:-1])
    for pem in (ec_key, private, "", "not a key", spki.replace("PUBLIC KEY", "CERTIFICATE"),
                spki.replace("END PUBLIC KEY", "END RSA PUBLIC KEY"),
                f"-----BEGIN PUBLIC KEY-----\n{body}!\n-----END PUBLIC KEY-----",
                f"-----BEGIN PUBLIC KEY-----\n{body[:-8]}\n-----END PUBLIC KEY-----"):
        with pytest.raises(rs256.InvalidKey):
            rs256.public_key_from_pem(pem)


def _pem(der: bytes, label: str = "PUBLIC KEY") -> str:
    return f"-----BEGIN {label}-----\n{base64.b64encode(der).decode()}\n-----END {label}-----"


def test_the_der_reader_wants_der_not_ber(key2048, public2048):
    der = key2048.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    assert rs256.public_key_from_pem(_pem(der)) == public2048
    assert der[:2] == b"\x30\x82"  # SEQUENCE, two length bytes
    length = int.from_bytes(der[2:4], "big")
    longer_length = b"\x30\x83\x00" + der[2:]  # same length, a needless leading zero byte
    indefinite = b"\x30\x80" + der[4:] + b"\x00\x00"
    for bad in (der + b"\x00", der[:-1], longer_length, indefinite,
                b"\x30\x82" + (length + 1).to_bytes(2, "big") + der[4:] + b"\x05\x00"):
        with pytest.raises(rs256.InvalidKey):
            rs256.public_key_from_pem(_pem(bad))


def test_rsa_public_key_integers_are_minimal_and_positive(public2048):
    def integer(contents: bytes) -> bytes:
        return b"\x02\x82" + len(contents).to_bytes(2, "big") + contents

    n = public2048.modulus.to_bytes(256, "big")
    exponent = b"\x02\x03\x01\x00\x01"

    def pkcs1(modulus: bytes, e: bytes = exponent) -> str:
        body = integer(modulus) + e
        return _pem(b"\x30\x82" + len(body).to_bytes(2, "big") + body, "RSA PUBLIC KEY")

    assert rs256.public_key_from_pem(pkcs1(b"\x00" + n)) == public2048
    for bad in (pkcs1(n),  # the top bit set: a negative number
                pkcs1(b"\x00\x00" + n),  # a needless zero byte
                pkcs1(b"\x00" + n, b"\x02\x04\x00\x01\x00\x01")):
        with pytest.raises(rs256.InvalidKey):
            rs256.public_key_from_pem(bad)


@settings(max_examples=200, deadline=None)
@given(at=st.integers(0, 293), mask=st.integers(1, 255))
def test_a_corrupted_key_is_refused_or_another_key_never_a_crash(key2048, public2048, at,
                                                                 mask):
    der = bytearray(key2048.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert len(der) == 294
    der[at] ^= mask
    try:
        key = rs256.public_key_from_pem(_pem(bytes(der)))
    except rs256.InvalidKey:
        return
    assert key != public2048  # only a flip inside n or e can parse, and it is another key


@pytest.mark.parametrize("change", [
    {"kty": "EC"}, {"kty": None}, {"use": "enc"}, {"alg": "RS512"}, {"alg": "PS256"},
    {"n": None}, {"e": 65537}, {"n": "not base64!"}, {"e": "AAEAAQ"}, {"e": ""},
])
def test_a_jwk_that_is_not_an_rs256_signing_key_is_refused(key2048, change):
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key2048.public_key()))
    with pytest.raises(rs256.InvalidKey):
        rs256.public_key_from_jwk({**jwk, **change})
    assert rs256.public_key_from_jwk({**jwk, "use": "sig", "alg": "RS256"})


def test_a_jwk_modulus_with_a_leading_zero_byte_is_refused(key2048):
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key2048.public_key()))
    padded = _b64(b"\x00" + base64.urlsafe_b64decode(jwk["n"] + "=="))
    with pytest.raises(rs256.InvalidKey):
        rs256.public_key_from_jwk({**jwk, "n": padded})
