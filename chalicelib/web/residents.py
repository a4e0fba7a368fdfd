"""Residents signed in by a one-time code: the sign-in pages (contact → code → session),
"my requests", erasing their contact details, and signing out.

The JSON API hands the session to the client as a bearer token; a page keeps it in a
cookie the browser sends back and no script can read (HttpOnly, SameSite=Lax, Secure but on
the local run). Between the two sign-in steps the contact typed is kept in a short-lived
cookie of its own, not in the address bar, where it would land in history and logs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import InvalidInput, Problem, Throttled, Unauthenticated
from chalicelib.web.pages import (
    FORM_CONTENT_TYPES,
    PageRequest,
    find_town,
    page_view,
    redirect,
    render,
)

if TYPE_CHECKING:
    from chalicelib.domain.towns import Town

blueprint = Blueprint(__name__)
page = page_view(blueprint)
BASE = "/towns/{town}"

SESSION_COOKIE = "t311_resident"
CONTACT_COOKIE = "t311_signin"  # the e-mail or phone a code was just sent to
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
_NUMBER = re.compile(r"[A-Za-z0-9 -]{1,20}")


# --- the session, as every resident page reads it ----------------------------------------


def session_token(req: PageRequest) -> str | None:
    """The session token the browser holds (only its shape is checked here)."""
    token = req.cookies.get(SESSION_COOKIE, "")
    return token if _TOKEN.fullmatch(token) else None


def signed_in_contact(req: PageRequest, town: Town) -> str | None:
    """The signed-in resident's contact hash, or None for anyone else (an expired or
    unknown session is treated as no session: the page is public either way)."""
    from chalicelib.services import residents

    token = session_token(req)
    if token is None:
        return None
    c = bootstrap.container()
    try:
        return residents.signed_in_contact(c.resident_access, town, token, c.now())
    except Unauthenticated:
        return None


def back_to(number: str | None) -> str | None:
    """A tracking number to come back to after signing in, or ``alerts`` (the alert
    settings page): the only ways back offered, so the pages cannot be made to redirect
    anywhere else."""
    if number == ALERT_SETTINGS:
        return number
    return number if number and _NUMBER.fullmatch(number) else None


# Where "manage my alerts" sends a resident to sign in, and comes back to.
ALERT_SETTINGS = "alerts"


def _after_sign_in(place: Town, number: str | None) -> str:
    found = back_to(number)
    if found == ALERT_SETTINGS:
        return f"/towns/{place.town_id}/alerts/manage"
    return f"/towns/{place.town_id}/track/{quote(found.upper().strip(), safe='-')}" if found \
        else f"/towns/{place.town_id}/my-requests"


# --- signing in ---------------------------------------------------------------------------


def _contact(typed: str) -> dict[str, str | None]:
    """One field, "e-mail or mobile phone": an @ makes it an e-mail."""
    typed = typed.strip()
    return {"email": typed or None, "phone": None} if "@" in typed \
        else {"email": None, "phone": typed or None}


def _throttled(req: PageRequest, e: Throttled) -> str:
    minutes = max(1, -(-e.retry_after_seconds // 60))
    return req.gettext("We have sent too many codes to this address or from this "
                       "connection. Please try again in about %(minutes)s min.",
                       minutes=minutes)


@blueprint.route(BASE + "/sign-in", methods=["GET"])
@page
def sign_in_form(req: PageRequest, town: str) -> Response:
    find_town(req, town)
    return render(req, "residents/sign_in.html", number=back_to(req.query.get("number")),
                  contact="", errors={})


@blueprint.route(BASE + "/sign-in", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@page
def send_code(req: PageRequest, town: str) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.schemas import admin as wire
    from chalicelib.services import residents

    place = find_town(req, town)
    form = req.form()
    typed = form.fields.get("contact", "")[:254]
    number = back_to(form.fields.get("number"))
    errors: dict[str, str] = {}
    try:
        if not typed.strip():
            raise InvalidInput.of([Problem("contact", "is required")])
        body = validated(wire.ResidentContactIn, _contact(typed))
        c = bootstrap.container()
        residents.send_sign_in_code(c.sign_in_ports, place, body.email, body.phone,
                                    req.source_ip)
    except InvalidInput:
        errors["contact"] = req.gettext(
            "Enter your e-mail address, like name@example.com, or a mobile phone number "
            "in this country, like 312 555 0100")
    except Throttled as e:
        return render(req, "residents/sign_in.html", status=429, number=number,
                      contact=typed, errors={}, throttled=_throttled(req, e),
                      headers={"Retry-After": str(e.retry_after_seconds)})
    if errors:
        return render(req, "residents/sign_in.html", status=400, number=number,
                      contact=typed, errors=errors)
    req.set_cookie(CONTACT_COOKIE, quote(typed.strip(), safe=""), max_age=15 * 60,
                   same_site="Strict")
    return redirect(req, f"/towns/{place.town_id}/sign-in/code", number=number)


def _typed_contact(req: PageRequest) -> str | None:
    typed = unquote(req.cookies.get(CONTACT_COOKIE, ""))[:254].strip()
    return typed or None


@blueprint.route(BASE + "/sign-in/code", methods=["GET"])
@page
def code_form(req: PageRequest, town: str) -> Response:
    place = find_town(req, town)
    number = back_to(req.query.get("number"))
    typed = _typed_contact(req)
    if typed is None:
        return redirect(req, f"/towns/{place.town_id}/sign-in", number=number)
    return render(req, "residents/code.html", number=number, sent_to=typed, errors={})


@blueprint.route(BASE + "/sign-in/code", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@page
def open_session(req: PageRequest, town: str) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.schemas import admin as wire
    from chalicelib.services import residents

    place = find_town(req, town)
    form = req.form()
    number = back_to(form.fields.get("number"))
    typed = _typed_contact(req)
    if typed is None:
        return redirect(req, f"/towns/{place.town_id}/sign-in", number=number)
    code = "".join(ch for ch in form.fields.get("code", "")[:20] if not ch.isspace())
    try:
        body = validated(wire.ResidentCodeIn, {**_contact(typed), "code": code})
        c = bootstrap.container()
        session = residents.open_session(c.sign_in_ports, place, body.email, body.phone,
                                         body.code, req.source_ip)
    except (InvalidInput, Unauthenticated):
        return render(req, "residents/code.html", status=400, number=number, sent_to=typed,
                      errors={"code": req.gettext(
                          "That code is not right or has expired. Check the six digits in "
                          "the message, or ask for a new code.")})
    except Throttled as e:
        return render(req, "residents/code.html", status=429, number=number, sent_to=typed,
                      errors={}, throttled=_throttled(req, e),
                      headers={"Retry-After": str(e.retry_after_seconds)})
    req.set_cookie(SESSION_COOKIE, session.token, max_age=session.expires_in,
                   same_site="Lax")
    req.set_cookie(CONTACT_COOKIE, "", max_age=0, same_site="Strict")
    return redirect(req, _after_sign_in(place, number))


@blueprint.route(BASE + "/sign-out", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@page
def sign_out(req: PageRequest, town: str) -> Response:
    # The browser forgets the session; the stored one expires by itself within the hour
    # (residents' sessions have no server-side revocation yet).
    place = find_town(req, town)
    req.form()
    req.set_cookie(SESSION_COOKIE, "", max_age=0, same_site="Lax")
    return redirect(req, f"/towns/{place.town_id}", signed_out=1)


# --- my requests, erase my contact --------------------------------------------------------


@blueprint.route(BASE + "/my-requests", methods=["GET"])
@page
def my_requests(req: PageRequest, town: str) -> Response:
    from chalicelib.services import residents

    place = find_town(req, town)
    c = bootstrap.container()
    try:
        found = residents.own_requests(c.resident_access, c.requests, place,
                                       session_token(req), c.now())
    except Unauthenticated:
        return redirect(req, f"/towns/{place.town_id}/sign-in")
    return render(req, "residents/my_requests.html", requests=found,
                  erased=req.query.get("erased", "")[:4])


@blueprint.route(BASE + "/my-requests/erase", methods=["GET"])
@page
def erase_form(req: PageRequest, town: str) -> Response:
    place = find_town(req, town)
    if signed_in_contact(req, place) is None:
        return redirect(req, f"/towns/{place.town_id}/sign-in")
    return render(req, "residents/erase.html", errors={})


@blueprint.route(BASE + "/my-requests/erase", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@page
def erase(req: PageRequest, town: str) -> Response:
    from chalicelib.services import residents

    place = find_town(req, town)
    form = req.form()
    if form.fields.get("confirm") != "yes":
        return render(req, "residents/erase.html", status=400, errors={
            "confirm": req.gettext("Tick the box to confirm that you want your contact "
                                   "details erased")})
    c = bootstrap.container()
    try:
        done = residents.erase_own_contact(c.admin, c.resident_access, c.requests, place,
                                           session_token(req), req.source_ip)
    except Unauthenticated:
        return redirect(req, f"/towns/{place.town_id}/sign-in")
    return redirect(req, f"/towns/{place.town_id}/my-requests",
                    erased=str(done.requests_anonymised))
