"""A department's API: its inbox of open work, and the actions it takes on a request."""

from __future__ import annotations

from datetime import UTC

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.http import body_as, caller, json_view, query_as, respond
from chalicelib.schemas import admin_documents as documents
from chalicelib.schemas import work as work_wire
from chalicelib.services import directory, work

blueprint = Blueprint(__name__)
BASE = "/departments/{department}/requests"


def _document(request) -> dict:  # noqa: ANN001
    zone = directory.zone_of(bootstrap.container().towns, request.town_id)
    return documents.staff_request_document(request, zone) | {
        "lifecycle": request.lifecycle, "resolution": request.resolution}


@blueprint.route(BASE, methods=["GET"])
@json_view
def department_inbox(department: str) -> Response:
    c = bootstrap.container()
    query = query_as(blueprint, work_wire.WorkQuery)
    page = work.department_queue(c.routing_ports, caller(blueprint), department, query.status,
                                 query.page_size, query.after)
    zone = directory.zone_of(c.towns, page.items[0].town_id) if page.items else UTC
    from chalicelib.schemas.open311_documents import request_document

    items = [request_document(r, zone, extensions=True)
             | {"lifecycle": r.lifecycle} for r in page.items]
    return respond({"requests": items, "has_more": page.has_more,
                    "after": items[-1]["service_request_id"] if page.has_more else None})


def _act(department: str, request_id: str, action: work.Action) -> Response:
    c = bootstrap.container()
    changed = work.act(c.routing_ports, caller(blueprint), department, request_id, action)
    return respond(_document(changed))


@blueprint.route(BASE + "/{request_id}/acknowledge", methods=["POST"])
@json_view
def acknowledge(department: str, request_id: str) -> Response:
    body = body_as(blueprint, work_wire.StepIn)
    return _act(department, request_id, work.Action("acknowledge", note=body.note))


@blueprint.route(BASE + "/{request_id}/accept", methods=["POST"])
@json_view
def accept(department: str, request_id: str) -> Response:
    body = body_as(blueprint, work_wire.StepIn)
    return _act(department, request_id, work.Action("accept", note=body.note))


@blueprint.route(BASE + "/{request_id}/hold", methods=["POST"])
@json_view
def hold(department: str, request_id: str) -> Response:
    body = body_as(blueprint, work_wire.StepIn)
    return _act(department, request_id, work.Action("hold", note=body.note))


@blueprint.route(BASE + "/{request_id}/notes", methods=["POST"])
@json_view
def add_note(department: str, request_id: str) -> Response:
    body = body_as(blueprint, work_wire.NoteIn)
    return _act(department, request_id, work.Action("note", note=body.text, public=body.public))


@blueprint.route(BASE + "/{request_id}/decline", methods=["POST"])
@json_view
def decline(department: str, request_id: str) -> Response:
    body = body_as(blueprint, work_wire.DeclineIn)
    return _act(department, request_id, work.Action("decline", note=body.reason))


@blueprint.route(BASE + "/{request_id}/hand-off", methods=["POST"])
@json_view
def hand_off(department: str, request_id: str) -> Response:
    body = body_as(blueprint, work_wire.HandOffIn)
    return _act(department, request_id,
                work.Action("hand_off", note=body.reason, department=body.department))


@blueprint.route(BASE + "/{request_id}/close", methods=["POST"])
@json_view
def close(department: str, request_id: str) -> Response:
    body = body_as(blueprint, work_wire.CloseIn)
    return _act(department, request_id,
                work.Action("close", note=body.note, resolution=body.resolution))


@blueprint.route(BASE + "/{request_id}/reopen", methods=["POST"])
@json_view
def reopen(department: str, request_id: str) -> Response:
    body = body_as(blueprint, work_wire.StepIn)
    return _act(department, request_id, work.Action("reopen", note=body.note))
