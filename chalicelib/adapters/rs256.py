"""RS256 JSON Web Signatures (RFC 7515/7518), verified with the standard library alone.

Only verification, only RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 8017 §8.2.2 and §9.2),
only public keys. Staff tokens are the one signed thing the API checks, and PyJWT's RSA
needed ``cryptography`` and ``cffi`` (5.5 MB of the 10 MB the API package may weigh);
verifying a PKCS#1 v1.5 signature needs one ``pow`` and a byte comparison, which Python
does in well under a millisecond (docs/security.md, "Staff tokens are checked in the
function").

What makes this safe rather than merely short, each written where it is done:
- the algorithm is fixed by us, never taken from the token (no ``none``, no HS256 keyed
  with the public key, no other RSA padding);
- parsing is strict (canonical base64url, UTF-8 JSON objects without duplicate names, a
  bounded length) so two readers can never see two different tokens in the same bytes;
- the signature is checked by building the whole expected block and comparing it with the
  decrypted one, never by parsing the decrypted block (Bleichenbacher's 2006 forgery for
  small exponents lives in the parsers).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# A Cognito ID token with every group and custom attribute is a few kilobytes, and API
# Gateway refuses request headers beyond 10 KB anyway: anything longer is not ours, and
# the cap bounds what a stranger can make us decode.
MAX_TOKEN_CHARS = 16_384
# NIST SP 800-131A: RSA below 2048 bits is not acceptable for signatures.
MIN_MODULUS_BITS = 2048
# A bound on the work one verification may cost (pow is cubic in the size of n); Cognito
# uses 2048 bits and nobody signs with more than 8192.
MAX_MODULUS_BITS = 8192
# Go's crypto/rsa refuses exponents above 2**31 - 1 too: every real key uses 65537, and a
# huge exponent would make each check as slow as a private-key operation.
MAX_EXPONENT = 2**31 - 1

ALGORITHM = "RS256"

# DER of DigestInfo{ AlgorithmIdentifier{ id-sha256, NULL }, OCTET STRING (32 bytes) }
# without the hash itself (RFC 8017 §9.2, note 1): the prefix every signer writes.
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
# rsaEncryption, 1.2.840.113549.1.1.1 (RFC 3279 §2.3.1), the OID of an RSA
# SubjectPublicKeyInfo.
_RSA_ENCRYPTION_OID = bytes.fromhex("2a864886f70d010101")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class InvalidToken(ValueError):
    """Not a well-formed RS256 JWS, or its signature does not verify with the key."""


class InvalidKey(ValueError):
    """Not an RSA public key we accept (malformed, too small, or an odd exponent)."""


@dataclass(frozen=True)
class RsaPublicKey:
    """An RSA public key (n, e) checked to be worth verifying with."""

    modulus: int
    exponent: int

    def __post_init__(self) -> None:
        bits = self.modulus.bit_length()
        if not MIN_MODULUS_BITS <= bits <= MAX_MODULUS_BITS:
            raise InvalidKey(f"an RSA key of {bits} bits; {MIN_MODULUS_BITS} to "
                             f"{MAX_MODULUS_BITS} are accepted")
        if self.modulus % 2 == 0:
            raise InvalidKey("an RSA modulus is odd")
        if not 3 <= self.exponent <= MAX_EXPONENT or self.exponent % 2 == 0:
            raise InvalidKey("an RSA public exponent is odd, at least 3 and below 2**31")

    @property
    def size_bytes(self) -> int:
        """k in RFC 8017: the length of the modulus, and of every signature, in bytes."""
        return (self.modulus.bit_length() + 7) // 8


@dataclass(frozen=True)
class SignedToken:
    """A compact JWS taken apart, signature not yet checked: trust nothing in it."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def key_id(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None


# --- the token --------------------------------------------------------------------------------


def parse(token: str) -> SignedToken:
    """Take a compact JWS apart (RFC 7515 §7.1), refusing anything but a plain RS256 one."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        raise InvalidToken("not a compact JWS of a sensible length")
    parts = token.split(".")
    if len(parts) != 3:  # five would be a JWE; two an unsecured JWT cut short
        raise InvalidToken("a compact JWS has three parts")
    encoded_header, encoded_claims, encoded_signature = parts
    header = _json_object(_base64url(encoded_header))
    # The algorithm comes from us; the header may only agree with it. A token that says
    # "none", or HS256 (to have its HMAC keyed with our public key, which anyone can read),
    # or another RSA padding is refused here, before any key is looked at.
    if header.get("alg") != ALGORITHM:
        raise InvalidToken("only RS256 tokens are accepted")
    # RFC 7515 §4.1.11: a recipient must refuse extensions it does not understand, and we
    # understand none. RFC 7797's "b64": false would change what was signed.
    if "crit" in header or header.get("b64", True) is not True:
        raise InvalidToken("the token asks for JWS extensions")
    if "kid" in header and not isinstance(header["kid"], str):
        raise InvalidToken("a key id is a string")
    # "jku", "jwk", "x5u" and "x5c" are ignored on purpose: the key is never one the token
    # names or carries, only one the deployment was configured with.
    claims = _json_object(_base64url(encoded_claims))
    return SignedToken(header, claims,
                       f"{encoded_header}.{encoded_claims}".encode("ascii"),
                       _base64url(encoded_signature))


def verified_claims(token: SignedToken, key: RsaPublicKey) -> dict[str, Any]:
    """The token's claims if ``key`` signed it; InvalidToken otherwise. The claims' meaning
    (issuer, audience, times) is the caller's to check."""
    if not signature_is_valid(key, token.signing_input, token.signature):
        raise InvalidToken("the signature does not verify")
    return token.claims


def signature_is_valid(key: RsaPublicKey, message: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-v1_5-VERIFY with SHA-256 (RFC 8017 §8.2.2), done the safe way."""
    k = key.size_bytes
    # Step 1: the signature is exactly as long as the modulus (JWA §3.3 sends all k bytes).
    if len(signature) != k:
        return False
    # Step 2 (RSAVP1, §5.2.2): a representative outside [0, n-1] is refused, not reduced,
    # or s and s + n would both "verify".
    s = int.from_bytes(signature, "big")
    if s >= key.modulus:
        return False
    decrypted = pow(s, key.exponent, key.modulus).to_bytes(k, "big")
    # Step 3 (EMSA-PKCS1-v1_5, §9.2): the one block a genuine signature can decrypt to,
    # 00 01 FF..FF 00 DigestInfo(SHA-256, H). k >= 256 here, so the padding is far longer
    # than the 8 bytes the RFC requires.
    digest_info = _SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    expected = b"\x00\x01" + b"\xff" * (k - len(digest_info) - 3) + b"\x00" + digest_info
    # Step 4: compare the whole block. Nothing of the decrypted block is parsed, so there is
    # no leniency (garbage after the hash, short padding, odd DigestInfo lengths) to abuse;
    # compare_digest because how far two blocks agree is nobody's business.
    return hmac.compare_digest(decrypted, expected)


def _base64url(segment: str) -> bytes:
    """RFC 7515 §2: base64url without padding, and only the one spelling of each value
    (unused trailing bits zero), so a token has exactly one encoding."""
    if not _BASE64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise InvalidToken("not base64url")
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != segment:
        raise InvalidToken("not the canonical base64url of its bytes")
    return raw


def _json_object(raw: bytes) -> dict[str, Any]:
    """RFC 7515 §5.2 / RFC 7519 §7.2: UTF-8 JSON, one object. Duplicate names are refused
    (readers disagree on which one wins), and so are NaN and Infinity."""
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_without_duplicates,
                           parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError also covers JSONDecodeError and integers of more than 4300 digits.
        raise InvalidToken("not a JSON object") from None
    if not isinstance(value, dict):
        raise InvalidToken("not a JSON object")
    return value


def _without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("duplicate member name")
    return found


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# --- keys ---------------------------------------------------------------------------------


def public_key_from_jwk(jwk: Mapping[str, Any]) -> RsaPublicKey:
    """An RSA signing key from one JWK of a key set (RFC 7517 §4, RFC 7518 §6.3.1)."""
    if jwk.get("kty") != "RSA":
        raise InvalidKey("not an RSA key")
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", ALGORITHM) != ALGORITHM:
        raise InvalidKey("not a key for RS256 signatures")
    n, e = jwk.get("n"), jwk.get("e")
    if not isinstance(n, str) or not isinstance(e, str):
        raise InvalidKey("an RSA JWK has n and e")
    try:
        modulus, exponent = _base64url(n), _base64url(e)
    except InvalidToken:
        raise InvalidKey("n and e are base64url") from None
    # §6.3.1.1: n and e are unsigned big-endian with no leading zero byte.
    if not modulus or not exponent or modulus[0] == 0 or exponent[0] == 0:
        raise InvalidKey("n and e are minimal unsigned integers")
    return RsaPublicKey(int.from_bytes(modulus, "big"), int.from_bytes(exponent, "big"))


def public_key_from_pem(pem: str) -> RsaPublicKey:
    """An RSA public key from PEM (RFC 7468): "PUBLIC KEY", an X.509 SubjectPublicKeyInfo
    (what local/tokens.py writes and ``openssl rsa -pubout`` prints), or "RSA PUBLIC KEY",
    the bare PKCS#1 RSAPublicKey (``openssl rsa -RSAPublicKey_out``)."""
    lines = [line.strip() for line in pem.strip().splitlines() if line.strip()]
    if len(lines) < 3:
        raise InvalidKey("not a PEM public key")
    label = lines[0].removeprefix("-----BEGIN ").removesuffix("-----")
    if label not in ("PUBLIC KEY", "RSA PUBLIC KEY") or lines[0] != f"-----BEGIN {label}-----" \
            or lines[-1] != f"-----END {label}-----":
        raise InvalidKey("not a PEM public key (BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY)")
    try:
        der = base64.b64decode("".join(lines[1:-1]), validate=True)
    except binascii.Error:
        raise InvalidKey("the PEM body is not base64") from None
    if label == "RSA PUBLIC KEY":
        return _rsa_public_key(der)
    return _rsa_public_key(_subject_public_key(der))


def _subject_public_key(der: bytes) -> bytes:
    """RFC 5280 §4.1: SEQUENCE { SEQUENCE { OID rsaEncryption, NULL }, BIT STRING }, and the
    bit string's bytes, which hold the PKCS#1 key."""
    info = _Der(_Der(der).only(_SEQUENCE))
    algorithm = _Der(info.next(_SEQUENCE))
    if algorithm.next(_OID) != _RSA_ENCRYPTION_OID:
        raise InvalidKey("not an RSA key")
    # RFC 3279 §2.3.1: the parameters of rsaEncryption are NULL, and present.
    if algorithm.next(_NULL) != b"":
        raise InvalidKey("rsaEncryption's parameters are NULL")
    algorithm.end()
    bits = info.next(_BIT_STRING)
    info.end()
    if not bits or bits[0] != 0:  # the first byte counts unused bits: a key uses them all
        raise InvalidKey("the key's bit string is not whole bytes")
    return bits[1:]


def _rsa_public_key(der: bytes) -> RsaPublicKey:
    """RFC 8017 Appendix A.1.1: RSAPublicKey ::= SEQUENCE { modulus, publicExponent }."""
    key = _Der(_Der(der).only(_SEQUENCE))
    modulus, exponent = _positive_integer(key.next(_INTEGER)), _positive_integer(
        key.next(_INTEGER))
    key.end()
    return RsaPublicKey(modulus, exponent)


_INTEGER, _BIT_STRING, _NULL, _OID, _SEQUENCE = 0x02, 0x03, 0x05, 0x06, 0x30


class _Der:
    """Just enough of a DER reader (X.690 §8 and §10) for a public key, and strict: definite
    minimal lengths, expected tags in order, nothing left over. A key is configuration, not
    a stranger's input, but a lenient reader is how two programs come to disagree on one."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def next(self, tag: int) -> bytes:
        """The contents of the next element, which must have ``tag``."""
        data, at = self._data, self._at
        if at + 2 > len(data) or data[at] != tag:
            raise InvalidKey("not the DER of an RSA public key")
        length, at = data[at + 1], at + 2
        if length & 0x80:
            count = length & 0x7F
            # 0x80 is BER's indefinite length; more than 4 length bytes is no key of ours.
            if not 1 <= count <= 4 or at + count > len(data) or data[at] == 0:
                raise InvalidKey("not a DER length")
            length, at = int.from_bytes(data[at:at + count], "big"), at + count
            if length < 0x80:  # would have fitted in the short form
                raise InvalidKey("not a DER length")
        if at + length > len(data):
            raise InvalidKey("a DER element longer than its key")
        self._at = at + length
        return data[at:at + length]

    def only(self, tag: int) -> bytes:
        """The contents of the one element, which must have ``tag``."""
        contents = self.next(tag)
        self.end()
        return contents

    def end(self) -> None:
        if self._at != len(self._data):
            raise InvalidKey("bytes after the DER of an RSA public key")


def _positive_integer(contents: bytes) -> int:
    """A DER INTEGER that must be positive, in its shortest two's-complement form."""
    if not contents or contents[0] & 0x80:
        raise InvalidKey("an RSA key's numbers are positive")
    if len(contents) > 1 and contents[0] == 0 and not contents[1] & 0x80:
        raise InvalidKey("not the shortest encoding of an integer")
    return int.from_bytes(contents, "big")
