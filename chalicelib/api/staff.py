"""The town staff's API: who am I, search requests, open one, enter one for a resident."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.http import body_as, caller, json_view, query_as, respond
from chalicelib.schemas import admin as wire
from chalicelib.schemas import admin_documents as documents
from chalicelib.schemas.open311_documents import request_document
from chalicelib.services import directory, staff

blueprint = Blueprint(__name__)


@blueprint.route("/staff/me", methods=["GET"])
@json_view
def who_am_i() -> Response:
    who = caller(blueprint)
    return respond({"subject": who.subject, "email": who.email, "town": who.town_id,
                    "roles": sorted(who.roles), "departments": sorted(who.departments),
                    "permissions": sorted(who.permissions)})


@blueprint.route("/staff/requests", methods=["GET"])
@json_view
def search_requests() -> Response:
    c = bootstrap.container()
    who = caller(blueprint)
    page = staff.search(c.towns, c.requests, who, query_as(blueprint, wire.StaffSearch), c.now())
    zone = directory.zone_of(c.towns, who.town_id or "")
    documents = [request_document(r, zone, extensions=True, staff=True)
                 | {"department": r.department} for r in page.items]
    return respond({"requests": documents, "has_more": page.has_more})


@blueprint.route("/staff/requests/{request_id}", methods=["GET"])
@json_view
def open_request(request_id: str) -> Response:
    c = bootstrap.container()
    who = caller(blueprint)
    found = staff.open_request(c.requests, who, request_id)
    return respond(documents.staff_request_document(found, directory.zone_of(c.towns,
                                                                         who.town_id or "")))


@blueprint.route("/staff/requests", methods=["POST"])
@json_view
def enter_request() -> Response:
    c = bootstrap.container()
    receipt = staff.enter_request(c.towns, c.intake, caller(blueprint),
                                  body_as(blueprint, wire.StaffRequestIn))
    return respond({"service_request_id": receipt.service_request_id, "token": receipt.token},
                   status=201)
