"""Departments' delivery channels, as town admins see them: where a department's own
queue is, so that its work-order system can poll it."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.http import caller, json_view, respond
from chalicelib.services import delivery

blueprint = Blueprint(__name__)


@blueprint.route("/admin/departments/{code}/queue", methods=["GET"])
@json_view
def department_queue(code: str) -> Response:
    """The department's queue URL and name, and the version of the messages on it."""
    c = bootstrap.container()
    return respond(delivery.department_queue(c.town_store, c.channels, caller(blueprint), code))
