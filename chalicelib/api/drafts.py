"""Confirming an e-mail draft through the staff API (the console's form calls the same
service): POST /staff/requests/{request_id}/confirm."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.http import body_as, caller, json_view, respond
from chalicelib.schemas import admin_documents as documents
from chalicelib.schemas.drafts import ConfirmDraftIn
from chalicelib.services import directory, drafts

blueprint = Blueprint(__name__)


@blueprint.route("/staff/requests/{request_id}/confirm", methods=["POST"])
@json_view
def confirm_draft(request_id: str) -> Response:
    """Set a draft's service and place, clear its flag and route it by the town's rules;
    400 names every problem (unknown service, no point), 409 if confirmed already."""
    c = bootstrap.container()
    who = caller(blueprint)
    body = body_as(blueprint, ConfirmDraftIn)
    found = drafts.confirm_draft(c.draft_ports, who, request_id[:64], drafts.Confirmation(
        body.service_code, body.lat, body.long, body.address_string, body.description))
    return respond(documents.staff_request_document(found, directory.zone_of(
        c.towns, who.town_id or "")))
