"""The staff console's sign-in in the cloud: the user pool's hosted sign-in page, with the
OAuth 2.0 authorization code grant and PKCE (RFC 7636, S256).

``/console/sign-in`` sends the browser to ``<domain>/oauth2/authorize`` with a random
``state`` and the challenge of a random verifier; both, and the console path to return to,
wait in a short-lived HttpOnly cookie scoped to the callback (never in the URL beyond the
standard parameters). The pool sends the browser back to ``/console/callback`` with a
one-time code; the state must match the cookie's, the code is exchanged for the ID token
(with the verifier, so a stolen code is useless elsewhere) through the ``SignInCodes``
port, and the token is checked exactly as every console screen checks it
(``tokens.verify``, then the staff record) before it becomes the session. MFA is the
pool's business: it asks for the second factor before it sends anyone back.

Only when ``TOWN311_COGNITO_DOMAIN`` is set and the development sign-in is not (a local
run's demo people always win there, and a deployed stage never has them: ``config``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import Unauthenticated
from chalicelib.web.console import keep_session, safe_next
from chalicelib.web.pages import PageRequest, page_view, redirect, render

if TYPE_CHECKING:
    from chalicelib.config import Settings

blueprint = Blueprint(__name__)
page = page_view(blueprint)

PKCE_COOKIE = "t311_signin"
CALLBACK = "/console/callback"
# /console/sign-in and /console/sign-out (chalicelib.web.console) send the browser on to
# these when staff sign in at the pool (the console module does not load this one).
POOL_SIGN_IN = "/console/sign-in/pool"
POOL_SIGN_OUT = "/console/sign-out/pool"
SIGNED_OUT = "/console/signed-out"
SCOPES = "openid email profile"
# Long enough to type a password and a TOTP code at the pool (and to set one up).
PKCE_SECONDS = 10 * 60
_STATE = re.compile(r"[A-Za-z0-9_-]{43}")
_VERIFIER = re.compile(r"[A-Za-z0-9_-]{43,128}")  # RFC 7636 §4.1 (unreserved, 43-128)
_CODE = re.compile(r"[A-Za-z0-9._~-]{1,2048}")


def hosted_sign_in(settings: Settings) -> bool:
    """Whether staff sign in at the user pool's hosted page (the cloud), rather than the
    development page (`make run`) or nowhere (not set up)."""
    return bool(settings.cognito_domain) and not settings.dev_sign_in_file


def challenge_of(verifier: str) -> str:
    """The PKCE S256 challenge: BASE64URL(SHA256(verifier)), unpadded (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _domain(settings: Settings) -> str:
    return (settings.cognito_domain or "").rstrip("/")


def _callback_url(settings: Settings) -> str | None:
    """The redirect_uri registered with the app client (``<public base URL>/console/
    callback``), or None when the deployment has no public base URL."""
    base = settings.public_base_url
    return f"{base.rstrip('/')}{CALLBACK}" if base else None


def _away(req: PageRequest, location: str) -> Response:
    """A 303 to the user pool's pages (another site: ``pages.redirect`` stays inside)."""
    headers: dict[str, str | list[str]] = {"Location": location, "Cache-Control": "no-store"}
    if req.set_cookies:
        headers["Set-Cookie"] = req.set_cookies if len(req.set_cookies) > 1 \
            else req.set_cookies[0]
    return Response(body="", status_code=303, headers=headers)


@blueprint.route(POOL_SIGN_IN, methods=["GET"])
@page
def start(req: PageRequest) -> Response:
    """Off to the pool's sign-in page, PKCE in hand (``/console/sign-in`` sends the
    browser here in the cloud)."""
    settings = bootstrap.container().settings
    target = safe_next(req.query.get("next"))
    if not hosted_sign_in(settings):
        return redirect(req, "/console/sign-in", next=target)
    redirect_uri = _callback_url(settings)
    if redirect_uri is None:
        return render(req, "console/no_sign_in.html", status=503)
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    back = base64.urlsafe_b64encode(target.encode()).rstrip(b"=").decode()
    req.set_cookie(PKCE_COOKIE, f"{state}.{verifier}.{back}", max_age=PKCE_SECONDS,
                   same_site="Lax", path=CALLBACK)
    query = urlencode({"response_type": "code", "client_id": settings.jwt_audience or "",
                       "redirect_uri": redirect_uri, "scope": SCOPES, "state": state,
                       "code_challenge": challenge_of(verifier),
                       "code_challenge_method": "S256"})
    return _away(req, f"{_domain(settings)}/oauth2/authorize?{query}")


def _waiting(req: PageRequest) -> tuple[str, str, str] | None:
    """The state, verifier and return path this browser's sign-in left in its cookie."""
    state, _, rest = req.cookies.get(PKCE_COOKIE, "").partition(".")
    verifier, _, back = rest.partition(".")
    if not (_STATE.fullmatch(state) and _VERIFIER.fullmatch(verifier)
            and re.fullmatch(r"[A-Za-z0-9_-]{0,700}", back)):
        return None
    try:
        target = base64.urlsafe_b64decode(back + "=" * (-len(back) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        target = ""
    return state, verifier, safe_next(target)


@blueprint.route(CALLBACK, methods=["GET"])
@page
def callback(req: PageRequest) -> Response:
    """Back from the pool: check the state, exchange the code, keep the checked token."""
    # One use only, whatever happens next: the cookie goes with this answer.
    req.set_cookie(PKCE_COOKIE, "", max_age=0, same_site="Lax", path=CALLBACK)
    c = bootstrap.container()
    redirect_uri = _callback_url(c.settings)
    waiting = _waiting(req)
    code, state = req.query.get("code", ""), req.query.get("state", "")
    if not hosted_sign_in(c.settings) or redirect_uri is None or waiting is None \
            or not _CODE.fullmatch(code) or not _STATE.fullmatch(state) \
            or not hmac.compare_digest(state.encode(), waiting[0].encode()):
        # No sign-in of this browser's is waiting for this answer (another tab's, an
        # expired one, a forged link, or the pool's own refusal: ?error=...).
        raise Unauthenticated("the sign-in did not complete; sign in again")
    token, seconds = c.sign_in_codes.exchange(code, waiting[1], redirect_uri)
    c.roster.confirm(c.tokens.verify(token, req.source_ip))
    keep_session(req, token, seconds)
    return redirect(req, waiting[2])


@blueprint.route(POOL_SIGN_OUT, methods=["GET"])
@page
def sign_out(req: PageRequest) -> Response:
    """After ``POST /console/sign-out`` dropped the session: the pool forgets its own
    session too (else the next sign-in would not ask), then sends the browser to the
    console's signed-out page."""
    settings = bootstrap.container().settings
    base = settings.public_base_url
    if not hosted_sign_in(settings) or not base:
        return redirect(req, SIGNED_OUT)
    query = urlencode({"client_id": settings.jwt_audience or "",
                       "logout_uri": f"{base.rstrip('/')}{SIGNED_OUT}"})
    return _away(req, f"{_domain(settings)}/logout?{query}")


@blueprint.route(SIGNED_OUT, methods=["GET"])
@page
def signed_out(req: PageRequest) -> Response:
    """Where the pool's sign-out returns to: not the sign-in page, which would send the
    browser straight back to the pool."""
    return render(req, "console/signed_out.html")
