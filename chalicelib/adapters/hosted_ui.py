"""The user pool's token endpoint: staff coming back from Cognito's hosted sign-in page
bring a one-time code, which the console exchanges here for their ID token (OAuth 2.0
authorization code grant with PKCE, RFC 6749 §4.1.3 and RFC 7636 §4.5).

Standard library only (urllib), as ``tokens.fetch_jwks`` is: no HTTP dependency in the zip.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode, urlsplit

from chalicelib.domain.errors import StorageUnavailable, Unauthenticated

log = logging.getLogger(__name__)

# Cognito answers from the same region in milliseconds; a person waits on this call.
TOKEN_TIMEOUT_SECONDS = 5.0
# Three JWTs and a few fields: a few KB.
MAX_TOKEN_RESPONSE_BYTES = 64 * 1024
# What the pool says when the code (or its verifier, or redirect_uri) is not right: the
# person's sign-in failed, not the service. Anything else is the service being away.
_REFUSALS = frozenset({"invalid_grant", "invalid_request", "unauthorized_client"})


class CognitoSignInCodes:
    """``SignInCodes`` against ``<domain>/oauth2/token`` for one public app client (no
    client secret: the PKCE verifier proves the code is this browser's)."""

    def __init__(self, domain: str, client_id: str) -> None:
        parts = urlsplit(domain)
        # Only https, and only the configured host: a typo in the setting must not send
        # staff's codes in clear text or somewhere else.
        if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/") \
                or parts.query or parts.username or parts.password:
            raise ValueError("TOWN311_COGNITO_DOMAIN must be https://<host> (no path)")
        self._url = f"https://{parts.netloc}/oauth2/token"
        self._client_id = client_id

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> tuple[str, int]:
        import urllib.error
        import urllib.request  # http.client, email, ssl: only on a cloud sign-in

        body = urlencode({"grant_type": "authorization_code", "client_id": self._client_id,
                          "code": code, "redirect_uri": redirect_uri,
                          "code_verifier": verifier}).encode()
        request = urllib.request.Request(self._url, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json"})
        opener = urllib.request.OpenerDirector()
        # https only (an http:// URL meets UnknownHandler), no redirects followed (a
        # redirect is an HTTPError), no proxies from the environment.
        for handler in (urllib.request.UnknownHandler(), urllib.request.HTTPSHandler(),
                        urllib.request.HTTPDefaultErrorHandler(),
                        urllib.request.HTTPErrorProcessor()):
            opener.add_handler(handler)
        try:
            with opener.open(request, timeout=TOKEN_TIMEOUT_SECONDS) as response:
                raw: bytes = response.read(MAX_TOKEN_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as e:
            if 400 <= e.code < 500 and _oauth_error(e) in _REFUSALS:
                raise Unauthenticated("the sign-in did not complete; sign in again") from e
            log.warning("the user pool's token endpoint answered %s", e.code)
            raise StorageUnavailable("the sign-in service is not answering; try again in "
                                     "a minute") from e
        except OSError as e:  # URLError, timeouts, TLS
            log.warning("could not reach the user pool's token endpoint: %r", e)
            raise StorageUnavailable("the sign-in service is not answering; try again in "
                                     "a minute") from e
        return _id_token(raw)


def _oauth_error(error: OSError) -> str:
    """The ``error`` code of an OAuth error answer (RFC 6749 §5.2), or ""."""
    try:
        document = json.loads(error.read(MAX_TOKEN_RESPONSE_BYTES))  # type: ignore[attr-defined]
    except (OSError, ValueError):
        return ""
    found = document.get("error") if isinstance(document, dict) else None
    return found if isinstance(found, str) else ""


def _id_token(raw: bytes) -> tuple[str, int]:
    try:
        document = json.loads(raw) if len(raw) <= MAX_TOKEN_RESPONSE_BYTES else None
    except ValueError:
        document = None
    token = document.get("id_token") if isinstance(document, dict) else None
    if not isinstance(token, str) or not token:
        # The pool gave no ID token: the app client lacks the openid scope (a deployment
        # fault the person cannot fix).
        raise StorageUnavailable("the sign-in service gave no ID token")
    lasts = document.get("expires_in") if isinstance(document, dict) else None
    seconds = lasts if isinstance(lasts, int) and not isinstance(lasts, bool) and lasts > 0 \
        else 3600
    return token, seconds
