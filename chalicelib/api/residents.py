"""Residents following their own requests: sign in with a one-time code sent to their
e-mail or phone, list what they reported, and erase their contact details."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.http import body_as, json_view, respond, source_ip
from chalicelib.domain.towns import Town
from chalicelib.schemas import admin as wire
from chalicelib.schemas.open311_documents import request_document
from chalicelib.services import directory, residents

blueprint = Blueprint(__name__)
BASE = "/towns/{town}/residents"


def _town(town: str) -> Town:
    return directory.find_town(bootstrap.container().towns, town)


def _session() -> str | None:
    header = blueprint.current_request.headers.get("authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else None


def _sign_in() -> residents.SignInPorts:
    return bootstrap.container().sign_in_ports


@blueprint.route(BASE + "/sign-in", methods=["POST"])
@json_view
def send_code(town: str) -> Response:
    body = body_as(blueprint, wire.ResidentContactIn)
    residents.send_sign_in_code(_sign_in(), _town(town), body.email, body.phone,
                                source_ip(blueprint))
    return respond({"sent": True, "expires_in": residents.CODE_SECONDS}, status=202)


@blueprint.route(BASE + "/session", methods=["POST"])
@json_view
def open_session(town: str) -> Response:
    body = body_as(blueprint, wire.ResidentCodeIn)
    session = residents.open_session(_sign_in(), _town(town), body.email, body.phone,
                                     body.code, source_ip(blueprint))
    return respond({"session": session.token, "expires_in": session.expires_in}, status=201)


@blueprint.route(BASE + "/requests", methods=["GET"])
@json_view
def own_requests(town: str) -> Response:
    c = bootstrap.container()
    place = _town(town)
    found = residents.own_requests(c.resident_access, c.requests, place, _session(), c.now())
    return respond([request_document(r, place.zone, extensions=True) for r in found])


@blueprint.route(BASE + "/erase", methods=["POST"])
@json_view
def erase_own_contact(town: str) -> Response:
    c = bootstrap.container()
    done = residents.erase_own_contact(c.admin, c.resident_access, c.requests, _town(town),
                                       _session(), source_ip(blueprint))
    return respond({"requests_anonymised": done.requests_anonymised})
