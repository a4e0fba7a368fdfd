"""Emergency alerts for residents, as pages: the alerts in force (the same path as the
JSON list, chosen by the browser's Accept header), signing up with the confirmation code,
managing a subscription once signed in with a one-time code, and the stop page of the link
in every alert e-mail.

Every send goes through the existing services (``subscribers``, ``residents``): the
anonymous budgets, the town's countries and the SMS cap hold here as on the JSON API. The
resident's session is an HttpOnly cookie, never a URL; the contact waiting for its sign-in
code is one too, for a quarter of an hour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    Problem,
    Throttled,
    Unauthenticated,
)
from chalicelib.web.pages import (
    FORM_CONTENT_TYPES,
    PageRequest,
    find_town,
    page_view,
    redirect,
    render,
    town_languages,
    wants_page,
)
from chalicelib.web.residents import ALERT_SETTINGS, SESSION_COOKIE

if TYPE_CHECKING:
    from chalicelib.api.forms import PostedForm
    from chalicelib.domain.towns import Town

blueprint = Blueprint(__name__)
page = page_view(blueprint)
BASE = "/towns/{town}/alerts"


def _fields(form: PostedForm, names: tuple[str, ...]) -> dict[str, str]:
    """The named fields, blanks left out (an empty box is "not given")."""
    return {n: v for n in names if (v := form.fields.get(n, "").strip())}


def _ticked(form: PostedForm, codes: list[str]) -> list[str]:
    # One checkbox per zone, named zone_<code>: PostedForm keeps one value per name.
    return [code for code in codes if form.fields.get(f"zone_{code}")]


def _code(raw: str) -> str:
    """A code typed forgivingly: spaces and dashes dropped."""
    return "".join(ch for ch in raw if ch.isdigit() or ch.isalpha())[:12]


def _zone_shapes(zones: list[Any]) -> list[dict[str, Any]]:
    return [{"code": z.code, "name": z.name, "geometry": z.geometry} for z in zones]


# --- the alerts in force ------------------------------------------------------------------





@blueprint.route(BASE, methods=["GET"])
def alerts(town: str) -> Response:
    """One path for the alerts in force: the page for a browser, the JSON of
    ``api.emergency.public_list`` (unchanged) for everyone else."""
    request = blueprint.current_request
    if wants_page(request.headers.get("accept", ""), request.query_params or {}):
        return _alerts_page(town=town)
    from chalicelib.api.emergency import public_list

    return public_list(town=town)


@page
def _alerts_page(req: PageRequest, town: str) -> Response:
    from chalicelib.services import alert_signup, resident_site
    from chalicelib.web.requests_map import local_day

    place = find_town(req, town)
    c = bootstrap.container()
    active = resident_site.active_alerts(c.alert_store, place, c.now())
    names = {z.code: z.name for z in alert_signup.town_zones(c.towns, place)} \
        if any(a.zones for a in active) else {}
    return render(req, "alerts/list.html", alerts=active,
                  day=lambda at: local_day(at, place.zone, req.language),
                  zones_said=lambda codes: ", ".join(names.get(z, z) for z in codes))


# --- signing up ---------------------------------------------------------------------------


def _sign_up_form(req: PageRequest, place: Town, *, status: int = 200,
                  values: dict[str, str] | None = None, ticked: list[str] | None = None,
                  errors: dict[str, str] | None = None, choices: list[Any] | None = None,
                  throttled: bool = False) -> Response:
    from chalicelib.services import alert_signup

    zones = alert_signup.town_zones(bootstrap.container().towns, place)
    return render(req, "alerts/sign_up.html", status=status, zones=zones,
                  zone_shapes=_zone_shapes(zones), values=values or {},
                  ticked=set(ticked or ()), errors=errors or {}, choices=choices or [],
                  throttled=throttled, offered=town_languages(place))


@blueprint.route(BASE + "/sign-up", methods=["GET"])
@page
def sign_up_form(req: PageRequest, town: str) -> Response:
    place = find_town(req, town)
    return _sign_up_form(req, place, values={"language": req.language})


@blueprint.route(BASE + "/sign-up", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@page
def sign_up(req: PageRequest, town: str) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.schemas import alert_pages as forms
    from chalicelib.services import alert_signup

    place = find_town(req, town)
    form = req.form()
    c = bootstrap.container()
    values = _fields(form, ("phone", "email", "language", "address"))
    if form.fields.get("address_choice", "").strip():
        values["address"] = form.fields["address_choice"].strip()[:200]
    codes = [z.code for z in alert_signup.town_zones(c.towns, place)]
    ticked = _ticked(form, codes)
    again: dict[str, Any] = {"values": values, "ticked": ticked}
    errors: dict[str, str] = {}
    try:
        typed = validated(forms.SignUpForm, dict(values))
    except InvalidInput as e:
        errors = _sign_up_errors(req, e, values)
        return _sign_up_form(req, place, status=400, errors=errors, **again)
    try:
        made = alert_signup.sign_up(
            c.subscriber_ports, c.towns, c.geocoder, place, alert_signup.SignUp(
                phone=typed.phone, email=typed.email, language=typed.language,
                zones=ticked, address=typed.address), req.source_ip)
    except Throttled:
        return _sign_up_form(req, place, status=429, throttled=True, **again)
    except alert_signup.AddressUnclear as e:
        errors = {"address": req.gettext("Choose your address from the list, or type it "
                                         "again") if e.choices else
                  req.gettext("We could not find that address. Check it, or tick your "
                              "zones instead.")}
        return _sign_up_form(req, place, status=400, errors=errors, choices=e.choices,
                             **again)
    except InvalidInput as e:
        errors = _sign_up_errors(req, e, values)
        return _sign_up_form(req, place, status=400, errors=errors, **again)
    return redirect(req, f"/towns/{place.town_id}/alerts/sign-up/{made.subscriber_id}",
                    by="sms" if made.phone else "email")


def _sign_up_errors(req: PageRequest, error: InvalidInput,
                    values: dict[str, str]) -> dict[str, str]:
    """The service's problems, said next to each field in the page's language."""
    said = {
        # A number abroad is refused with the same words: the service says which
        # countries in its message, and pages never match on message text.
        "phone": req.gettext("Enter a mobile phone number, like 612 555 0123")
        if values.get("phone") else
        req.gettext("Enter a mobile phone number or an e-mail address, or both"),
        "email": req.gettext("Enter an e-mail address, like name@example.com"),
        "zones": req.gettext("Choose zones from the list"),
        "language": req.gettext("Choose a language from the list"),
        "address": req.gettext("Enter a shorter address"),
    }
    found: dict[str, str] = {}
    for problem in error.problems or [Problem("phone", "")]:
        field = problem.field.split(".")[0].split("[")[0]
        found.setdefault(field if field in said else "phone", said.get(field, said["phone"]))
    return found


@blueprint.route(BASE + "/sign-up/{subscriber_id}", methods=["GET"])
@page
def code_form(req: PageRequest, town: str, subscriber_id: str) -> Response:
    find_town(req, town)
    return render(req, "alerts/code.html", subscriber_id=subscriber_id[:64],
                  by=req.query.get("by", ""), errors={}, expired=False, throttled=False)


@blueprint.route(BASE + "/sign-up/{subscriber_id}", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@page
def confirm_code(req: PageRequest, town: str, subscriber_id: str) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.schemas import alert_pages as forms
    from chalicelib.services import subscribers

    place = find_town(req, town)
    form = req.form()
    c = bootstrap.container()
    shown: dict[str, Any] = {"subscriber_id": subscriber_id[:64],
                             "by": req.query.get("by", ""), "errors": {}, "expired": False,
                             "throttled": False}
    try:
        typed = validated(forms.CodeForm, {"code": _code(form.fields.get("code", ""))})
        subscribers.confirm(c.subscriber_ports, place, subscriber_id, typed.code,
                            req.source_ip)
    except (InvalidInput, Unauthenticated):
        shown["errors"] = {"code": req.gettext("That code is not right. Check the message "
                                               "we sent and type its 6 digits.")}
        return render(req, "alerts/code.html", status=400, **shown)
    except Conflict:
        # Expired, tried too often, or already confirmed: none is fixed by typing again.
        shown["expired"] = True
        return render(req, "alerts/code.html", status=409, **shown)
    except Throttled:
        shown["throttled"] = True
        return render(req, "alerts/code.html", status=429, **shown)
    return redirect(req, f"/towns/{place.town_id}/alerts/signed-up")


@blueprint.route(BASE + "/signed-up", methods=["GET"])
@page
def signed_up(req: PageRequest, town: str) -> Response:
    find_town(req, town)
    return render(req, "alerts/signed_up.html")


# --- managing a subscription --------------------------------------------------------------


def _manage(req: PageRequest, place: Town, *, status: int = 200,
            errors: dict[str, str] | None = None, throttled: bool = False) -> Response:
    """The signed-in resident's subscription, or the sign-in form when not signed in."""
    from chalicelib.services import alert_signup, residents, subscribers

    c = bootstrap.container()
    zones = alert_signup.town_zones(c.towns, place)
    common: dict[str, Any] = {"zones": zones, "zone_shapes": _zone_shapes(zones),
                              "errors": errors or {}, "throttled": throttled,
                              "offered": town_languages(place)}
    try:
        contact = residents.signed_in_contact(c.resident_access, place,
                                              req.cookies.get(SESSION_COOKIE), c.now())
    except Unauthenticated:
        # Signing in is the resident pages' own (web.residents), which come back here.
        return render(req, "alerts/sign_in.html", status=status, then=ALERT_SETTINGS,
                      **common)
    try:
        mine = subscribers.own(c.subscriber_ports, place, contact)
    except NotFound:
        return render(req, "alerts/manage.html", status=status, mine=None, **common)
    return render(req, "alerts/manage.html", status=status, mine=mine, **common)


@blueprint.route(BASE + "/manage", methods=["GET"])
@page
def manage(req: PageRequest, town: str) -> Response:
    return _manage(req, find_town(req, town))


@blueprint.route(BASE + "/manage", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@page
def change(req: PageRequest, town: str) -> Response:
    from chalicelib.services import alert_signup, residents

    place = find_town(req, town)
    form = req.form()
    c = bootstrap.container()
    contact = residents.signed_in_contact(c.resident_access, place,
                                          req.cookies.get(SESSION_COOKIE), c.now())
    codes = [z.code for z in alert_signup.town_zones(c.towns, place)]
    language = form.fields.get("language", "")
    if language not in town_languages(place):
        return _manage(req, place, status=400, errors={
            "language": req.gettext("Choose a language from the list")})
    alert_signup.change_own(c.subscriber_ports, c.towns, place, contact,
                            _ticked(form, codes), language)
    return redirect(req, f"/towns/{place.town_id}/alerts/manage", saved=1)


@blueprint.route(BASE + "/manage/delete", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@page
def delete(req: PageRequest, town: str) -> Response:
    from chalicelib.services import residents, subscribers

    place = find_town(req, town)
    req.form()
    c = bootstrap.container()
    contact = residents.signed_in_contact(c.resident_access, place,
                                          req.cookies.get(SESSION_COOKIE), c.now())
    subscribers.delete_own(c.subscriber_ports, place, contact)
    return redirect(req, f"/towns/{place.town_id}/alerts/manage", deleted=1)


# --- the stop link of an alert e-mail -------------------------------------------------------


def _stop_page(req: PageRequest, town: str, key: str, *, done: bool | None = None,
               status: int = 200) -> Response:
    """The form (``done`` None), the goodbye (True) or the refusal (False), in the town's
    branding; an unknown town gets the same page unbranded, as before."""
    found = bootstrap.container().towns.get_town(town)
    if found is not None:
        req.for_town(found)
    return render(req, "alerts/stop.html", status=status, key=key, done=done,
                  unavailable=status >= 500)


@blueprint.route(BASE + "/subscribers/{subscriber_id}/stop", methods=["GET"])
@page
def stop_form(req: PageRequest, town: str, subscriber_id: str) -> Response:
    return _stop_page(req, town, req.query.get("key", ""))


# No CSRF token here: the key in the link is the proof, and the link must work from any
# mail client (JSON too, for clients that follow it); the checks are the service's.
@blueprint.route(BASE + "/subscribers/{subscriber_id}/stop", methods=["POST"],
                 content_types=["application/x-www-form-urlencoded", "application/json"])
@page
def stop(req: PageRequest, town: str, subscriber_id: str) -> Response:
    from chalicelib.domain.errors import Town311Error
    from chalicelib.services import directory, subscribers

    c = bootstrap.container()
    key = req.query.get("key", "")
    try:
        subscribers.stop_by_link(c.subscriber_ports, directory.find_town(c.towns, town),
                                 subscriber_id, key)
    except Town311Error as e:
        status = 404 if isinstance(e, NotFound) else 503
        return _stop_page(req, town, key, done=False, status=status)
    return _stop_page(req, town, key, done=True)
