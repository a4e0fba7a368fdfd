"""Residents following a request: "me too", stop messages, dispute a closure, rate the
work. Staff: merge a duplicate, feedback per department. (Tracking by number,
``GET /towns/{town}/track/{number}``, is in ``chalicelib.web.track``: one route answers the
JSON below and the resident's page.)"""

from __future__ import annotations

import html

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib import bootstrap
from chalicelib.api.forms import read_form
from chalicelib.api.http import body_as, caller, json_view, query_params, respond, source_ip
from chalicelib.api.json_body import parse_json
from chalicelib.domain.errors import InvalidInput, NotFound, Problem, Town311Error
from chalicelib.domain.towns import Town
from chalicelib.schemas import tracking as wire
from chalicelib.schemas.open311 import problems_from
from chalicelib.services import directory, notices, residents, tracking

blueprint = Blueprint(__name__)
BASE = "/towns/{town}"


def _town(town: str) -> Town:
    return directory.find_town(bootstrap.container().towns, town)


def _ports() -> tracking.TrackingPorts:
    return bootstrap.container().tracking_ports


def _maybe_signed_in(town: Town) -> str | None:
    """The signed-in resident's contact hash, if the call carries a session at all."""
    header = blueprint.current_request.headers.get("authorization", "")
    return _signed_in(town) if header[:7].lower() == "bearer " else None


def _signed_in(town: Town) -> str:
    c = bootstrap.container()
    header = blueprint.current_request.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    return residents.signed_in_contact(c.resident_access, town, token, c.now())


@blueprint.route(BASE + "/requests/{reference}/followers", methods=["POST"])
@json_view
def follow(town: str, reference: str) -> Response:
    place = _town(town)
    body = body_as(blueprint, wire.FollowIn)
    done = tracking.follow(_ports(), place, reference, body.email, body.phone, body.language,
                           signed_in=_maybe_signed_in(place), source_ip=source_ip(blueprint))
    return respond({"following": True, "followers": done.followers},
                   status=201 if done.new else 200)


_STOP_PAGE = """<!doctype html><html lang="en"><meta charset="utf-8">
<title>{title}</title><body style="font-family:sans-serif;max-width:36em;margin:2em auto">
<h1>{title}</h1>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> Response:
    return Response(body=_STOP_PAGE.format(title=html.escape(title), body=body),
                    status_code=status, headers={"Content-Type": "text/html; charset=utf-8",
                                                 "Cache-Control": "no-store"})


@blueprint.route(BASE + "/requests/{request_id}/followers/{follower_id}/stop",
                 methods=["GET"])
def stop_page(town: str, request_id: str, follower_id: str) -> Response:
    """The link in every e-mail. GET only asks (mail scanners open links); the button
    POSTs, so nobody is unsubscribed by a link preview."""
    key = query_params(blueprint).get("key", "")
    action = html.escape(f"stop?key={key}", quote=True)
    return _page("Stop these messages?", (
        f'<form method="post" action="{action}"><p><button name="scope" value="request">'
        'Stop messages about this request</button></p><p><button name="scope" '
        'value="town">Stop all messages from the town</button></p></form>'))


@blueprint.route(BASE + "/requests/{request_id}/followers/{follower_id}/stop",
                 methods=["POST"], content_types=["application/x-www-form-urlencoded",
                                                  "application/json"])
def stop(town: str, request_id: str, follower_id: str) -> Response:
    request = blueprint.current_request
    key = query_params(blueprint).get("key", "")
    raw = request.raw_body or b""
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            document = parse_json(raw) if raw.strip() else {}
            scope = document.get("scope", "request") if isinstance(document, dict) \
                else "request"
        else:
            scope = read_form(raw, request.headers.get("content-type")).fields.get(
                "scope", "request")
    except InvalidInput as e:
        return _page("This request was not understood",
                     f"<p>{html.escape(e.problems[0].message if e.problems else e.message)}"
                     "</p>", 400)
    try:
        c = bootstrap.container()
        _town(town)
        stopped = notices.stop_following(c.notice_ports, town, request_id[:64],
                                         follower_id[:64], key, scope == "town")
    except Town311Error as e:
        status = 404 if isinstance(e, NotFound) else 503
        return _page("This link does not work", f"<p>{html.escape(str(e))}</p>", status)
    text = "You will get no more messages from the town." if stopped == "town" else \
        "You will get no more messages about this request."
    return _page("Done", f"<p>{text}</p>")


@blueprint.route(BASE + "/confirm/{secret}", methods=["GET"])
def confirm_page(town: str, secret: str) -> Response:
    """The confirm link in the one message an unproved address gets. GET only asks (mail
    scanners and link previews open links); the button POSTs."""
    return _page("Get messages about this request?", (
        '<form method="post"><p><button>Yes, send me messages about this request'
        "</button></p></form><p>If you did not ask for them, close this page.</p>"))


@blueprint.route(BASE + "/confirm/{secret}", methods=["POST"],
                 content_types=["application/x-www-form-urlencoded", "application/json"])
def confirm(town: str, secret: str) -> Response:
    try:
        _town(town)
        notices.confirm_address(bootstrap.container().notice_ports, town, secret[:64])
    except Town311Error as e:
        status = 404 if isinstance(e, NotFound) else 503
        return _page("This link does not work", f"<p>{html.escape(str(e))}</p>", status)
    return _page("Done", "<p>You will get a message when this request moves.</p>")


@blueprint.route(BASE + "/requests/{reference}/dispute", methods=["POST"],
                 content_types=["application/json", "multipart/form-data"])
@json_view
def dispute(town: str, reference: str) -> Response:
    place = _town(town)
    contact = _signed_in(place)
    request = blueprint.current_request
    photo = None
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = read_form(request.raw_body or b"", request.headers.get("content-type"))
        try:
            note = wire.DisputeIn.model_validate({"note": form.fields.get("note", "")}).note \
                if form.fields.get("note") else ""
        except ValidationError as e:
            raise InvalidInput.of(problems_from(e)) from None
        if form.media is not None:
            photo = (form.media.content, form.media.content_type)
    else:
        note = body_as(blueprint, wire.DisputeIn).note
    if not note:
        raise InvalidInput.of([Problem("note", "say what is still wrong")])
    found = tracking.dispute(_ports(), place, reference, contact, note, photo)
    return respond(wire.tracking_document(found, place), status=201)


@blueprint.route(BASE + "/requests/{reference}/rating", methods=["POST"])
@json_view
def rate(town: str, reference: str) -> Response:
    place = _town(town)
    contact = _signed_in(place)
    body = body_as(blueprint, wire.RatingIn)
    found = tracking.rate(_ports(), place, reference, contact, body.score, body.comment)
    return respond({"rating": found.rating, "comment": found.rating_comment}, status=201)


@blueprint.route("/staff/requests/{request_id}/merge", methods=["POST"])
@json_view
def merge(request_id: str) -> Response:
    who = caller(blueprint)
    body = body_as(blueprint, wire.MergeIn)
    done = tracking.merge(_ports(), who, request_id, body.into, body.note)
    return respond({"duplicate": {"service_request_id": done.duplicate.request_id,
                                  "status": done.duplicate.status,
                                  "parent_service_request_id": done.parent.request_id},
                    "parent": {"service_request_id": done.parent.request_id,
                               "followers": done.parent.followers},
                    "followers_moved": done.followers_moved})


@blueprint.route("/staff/reports/feedback", methods=["GET"])
@json_view
def feedback() -> Response:
    who = caller(blueprint)
    rows = tracking.feedback_by_department(bootstrap.container().requests, who)
    return respond({"departments": [
        {"department": r.department, "disputed_closures": r.disputes, "ratings": r.ratings,
         "average_rating": r.average_rating} for r in rows]})
