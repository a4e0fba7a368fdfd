"""A request's own page, found by its tracking number as a person typed it: its status in
plain words, the expected date, the public timeline (roles, never names), photos, and what
a resident can do with it — follow it ("me too"), dispute its closure, rate the work.

``/towns/{town}/track/{number}`` was a JSON route before there were pages, and API clients
still use it: one route answers both. A browser (its Accept names HTML) gets the page;
everyone else — ``Accept: application/json``, ``?format=json``, curl's ``*/*``, no Accept
at all — gets the JSON exactly as before. The route lives here, not in
``chalicelib.api.tracking``, because pages sit above the JSON edge (.importlinter): a page
may use the API's plumbing, never the other way round.

Who may follow, dispute or rate is the services' decision (``services.tracking``); the
page only shows the forms by the same rules and explains a refusal.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import (
    AccessDenied,
    Conflict,
    InvalidInput,
    NotFound,
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

if TYPE_CHECKING:

    from chalicelib.domain.towns import Town

blueprint = Blueprint(__name__)
page = page_view(blueprint)
NUMBER = "/towns/{town}/track/{number}"





@blueprint.route(NUMBER, methods=["GET"])
def track(town: str, number: str) -> Response:
    """The request by its tracking number: the page for a browser, JSON for the API."""
    request = blueprint.current_request
    # API Gateway hands over path parameters decoded; `chalice local` does not ("k7qd%203m2p").
    number = unquote(number)
    if wants_page(request.headers.get("accept", ""), request.query_params or {}):
        response = _track_page(town=town, number=number)
    else:
        response = _track_json(town=town, number=number)
    # One address, two representations: a cache must keep them apart.
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Accept" if isinstance(vary, str) and vary \
        else "Accept"
    return response


def _track_json(town: str, number: str) -> Response:
    from chalicelib.api.http import json_view, respond
    from chalicelib.schemas import tracking as wire
    from chalicelib.services import directory, tracking

    @json_view
    def answer() -> Response:
        c = bootstrap.container()
        place = directory.find_town(c.towns, town)
        found = tracking.find_by_number(c.requests, place, number)
        return respond(wire.tracking_document(found, place))

    return answer()


@page
def _track_page(req: PageRequest, town: str, number: str) -> Response:
    place = find_town(req, town)
    return _show(req, place, number)


# --- the page -------------------------------------------------------------------------------


def _show(req: PageRequest, place: Town, number: str, *, status: int = 200,
          **forms: Any) -> Response:
    """The track page (also re-shown, with the problems of one of its forms)."""
    from chalicelib.services import tracking
    from chalicelib.web.residents import signed_in_contact

    c = bootstrap.container()
    try:
        shown = tracking.track(c.tracking_ports, place, number,
                               signed_in_contact(req, place))
    except (NotFound, InvalidInput):
        return render(req, "track/not_found.html", status=404, number=number[:40])
    forms = {"follow": {}, "dispute": {}, "rating": {}, **forms}
    # The error summary links each problem to its field (ids are "<form>-<field>").
    problems = [(f"{name}-{field}", message) for name, form in forms.items()
                for field, message in (form.get("errors") or {}).items()]
    return render(req, "track/request.html", status=status, **_context(req, place, shown),
                  problems=problems, **forms)


def _context(req: PageRequest, place: Town, shown: Any) -> dict[str, Any]:
    """What the template needs: the JSON tracking document (so the page shows exactly
    what the API does, no more) with its times in the resident's words."""
    from babel.dates import format_date, format_datetime

    from chalicelib.schemas import tracking as wire

    document = wire.tracking_document(shown.request, place)

    def when(value: str | None) -> str | None:
        if not value:
            return None
        return format_datetime(datetime.fromisoformat(value), "medium", tzinfo=place.zone,
                               locale=req.language)

    def day(value: str | None) -> str | None:
        if not value:
            return None
        return format_date(datetime.fromisoformat(value).astimezone(place.zone).date(),
                           "long", locale=req.language)

    timeline = [{**e, "when": when(e["datetime"])} for e in document["timeline"]]
    number = document["tracking_number"] or document["service_request_id"]
    return {
        "tracked": document,
        "number": number,
        "path": f"/towns/{place.town_id}/track/{quote(number, safe='-')}",
        "timeline": list(reversed(timeline)),  # newest first
        "requested": day(document["requested_datetime"]),
        "expected": day(document["expected_datetime"]) if document["status"] == "open"
        else None,
        "closed": day(document["closed_datetime"]),
        "dispute_until": day(shown.dispute_until.isoformat()) if shown.dispute_until
        else None,
        "shown": shown,
        "signed_in": shown.signed_in,
        "town_languages": town_languages(place),
        "done": req.query.get("done", "")[:20],
        "resolution_note": shown.request.status_notes if document["status"] == "closed"
        else None,
    }


def _canonical(place: Town, number: str) -> str:
    """The request's page, for the redirect after a form (its number as typed)."""
    return f"/towns/{place.town_id}/track/{quote(number.strip()[:40], safe='-')}"


def _sign_in(req: PageRequest, place: Town, number: str) -> Response:
    return redirect(req, f"/towns/{place.town_id}/sign-in", number=number.strip()[:20])


# --- "me too" -------------------------------------------------------------------------------


@blueprint.route(NUMBER + "/follow", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@page
def follow(req: PageRequest, town: str, number: str) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.schemas import tracking as wire
    from chalicelib.services import tracking
    from chalicelib.web.residents import signed_in_contact

    place = find_town(req, town)
    form = req.form()
    typed = {k: form.fields.get(k, "").strip()[:254] for k in ("email", "phone", "language")}
    language = typed["language"] if typed["language"] in town_languages(place) \
        else req.language
    state: dict[str, Any] = {"values": {**typed, "language": language}, "errors": {}}
    try:
        body = validated(wire.FollowIn, {"email": typed["email"] or None,
                                         "phone": typed["phone"] or None,
                                         "language": language})
        c = bootstrap.container()
        tracking.follow(c.tracking_ports, place, number, body.email, body.phone,
                        body.language, signed_in=signed_in_contact(req, place),
                        source_ip=req.source_ip)
    except InvalidInput as e:
        state["errors"] = _follow_errors(req, {p.field for p in e.problems})
        return _show(req, place, number, status=400, follow=state)
    except NotFound:
        return _show(req, place, number)
    except Conflict:
        state["refused"] = req.gettext("This request is closed, so it cannot be followed. "
                                       "If the problem is back, please report it again.")
        return _show(req, place, number, status=409, follow=state)
    except Throttled as e:
        state["refused"] = _too_many(req, e)
        response = _show(req, place, number, status=429, follow=state)
        response.headers["Retry-After"] = str(e.retry_after_seconds)
        return response
    return redirect(req, _canonical(place, number), done="follow")


def _follow_errors(req: PageRequest, fields: set[str]) -> dict[str, str]:
    errors = {}
    if "phone" in fields:
        errors["phone"] = req.gettext("Enter a mobile phone number in this country, like "
                                      "312 555 0100")
    if "email" in fields or not errors:
        # Missing both lands here too: the service names the e-mail field for it.
        errors["email"] = req.gettext("Enter an e-mail address like name@example.com, or a "
                                      "phone number")
    return errors


def _too_many(req: PageRequest, e: Throttled) -> str:
    minutes = max(1, -(-e.retry_after_seconds // 60))
    return req.gettext("Too many messages have been asked for just now. Please try "
                       "again in about %(minutes)s min.", minutes=minutes)


# --- dispute a closure, rate the work --------------------------------------------------------


def _refusal_status(e: AccessDenied | Conflict | NotFound) -> int:
    """403 not theirs, 404 no such request, 409 no longer possible (as the API says)."""
    from chalicelib.api.errors import status_of

    return status_of(e)


@blueprint.route(NUMBER + "/dispute", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@page
def dispute(req: PageRequest, town: str, number: str) -> Response:
    from pydantic import ValidationError

    from chalicelib.schemas import tracking as wire
    from chalicelib.services import residents, tracking
    from chalicelib.web.residents import session_token

    place = find_town(req, town)
    form = req.form()
    note = form.fields.get("note", "")[:4000]
    state: dict[str, Any] = {"values": {"note": note}, "errors": {}}
    c = bootstrap.container()
    try:
        contact = residents.signed_in_contact(c.resident_access, place, session_token(req),
                                              c.now())
    except Unauthenticated:
        return _sign_in(req, place, number)
    photo = None
    media = form.media
    if media is not None and media.content and media.filename:
        photo = (media.content, media.content_type)
    try:
        if not note.strip():
            state["errors"]["note"] = req.gettext("Say what is still wrong")
            return _show(req, place, number, status=400, dispute=state)
        try:
            text = wire.DisputeIn.model_validate({"note": note}).note
        except ValidationError:
            state["errors"]["note"] = req.gettext("Keep it under 2,000 characters")
            return _show(req, place, number, status=400, dispute=state)
        tracking.dispute(c.tracking_ports, place, number, contact, text, photo)
    except InvalidInput as e:
        fields = {p.field for p in e.problems}
        if "media" in fields:
            state["errors"]["media"] = req.gettext(
                "The photo must be a JPEG, PNG, WebP or HEIC picture of at most 10 MB")
        if fields - {"media"} or not state["errors"]:
            state["errors"]["note"] = req.gettext("Say what is still wrong")
        return _show(req, place, number, status=400, dispute=state)
    except (AccessDenied, Conflict, NotFound) as e:
        # Unknown number, not theirs, or no longer possible: the page says which.
        return _show(req, place, number, status=_refusal_status(e), dispute=state)
    return redirect(req, _canonical(place, number), done="dispute")


@blueprint.route(NUMBER + "/rating", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@page
def rate(req: PageRequest, town: str, number: str) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.schemas import tracking as wire
    from chalicelib.services import residents, tracking
    from chalicelib.web.residents import session_token

    place = find_town(req, town)
    form = req.form()
    score, comment = form.fields.get("score", "").strip(), form.fields.get("comment", "")
    state: dict[str, Any] = {"values": {"score": score, "comment": comment[:2000]},
                             "errors": {}}
    c = bootstrap.container()
    try:
        contact = residents.signed_in_contact(c.resident_access, place, session_token(req),
                                              c.now())
    except Unauthenticated:
        return _sign_in(req, place, number)
    try:
        body = validated(wire.RatingIn, {"score": int(score) if score.isdigit() else score,
                                         "comment": comment.strip() or None})
        tracking.rate(c.tracking_ports, place, number, contact, body.score, body.comment)
    except InvalidInput as e:
        fields = {p.field for p in e.problems}
        if "comment" in fields:
            state["errors"]["comment"] = req.gettext("Keep it under 1,000 characters")
        if "score" in fields or not state["errors"]:
            state["errors"]["score"] = req.gettext("Choose from 1 to 5 stars")
        return _show(req, place, number, status=400, rating=state)
    except (AccessDenied, Conflict, NotFound) as e:
        return _show(req, place, number, status=_refusal_status(e), rating=state)
    return redirect(req, _canonical(place, number), done="rating")
