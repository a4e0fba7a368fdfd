"""The town admin's API: configure the caller's own town (the town comes from the token)."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.http import body_as, caller, json_view, query_params, respond
from chalicelib.domain.errors import InvalidInput, NotFound, Problem
from chalicelib.schemas import admin as wire
from chalicelib.schemas import admin_documents as documents
from chalicelib.services import admin, platform

blueprint = Blueprint(__name__)


def _ports() -> admin.AdminPorts:
    return bootstrap.container().admin


def _town_document(town) -> dict:  # noqa: ANN001
    """The town with its e-mail intake address (its own, or the deployment's default)."""
    return documents.town_document(town, bootstrap.container().settings.mail_intake_domain)


def _catalogue_document(town, catalogue) -> dict:  # noqa: ANN001
    return {"changeset": town.changeset,
            "departments": [documents.department_document(d) for d in catalogue.departments],
            "zones": [documents.zone_document(z, with_geometry=False) for z in catalogue.zones],
            "services": [documents.service_admin_document(s) for s in catalogue.services]}


@blueprint.route("/admin/town", methods=["GET"])
@json_view
def read_town() -> Response:
    town, catalogue = admin.read_town(_ports(), caller(blueprint))
    return respond({"town": _town_document(town), **_catalogue_document(town, catalogue)})


@blueprint.route("/admin/town", methods=["PATCH"])
@json_view
def update_town() -> Response:
    who = caller(blueprint)
    town = admin.update_settings(_ports(), who,
                                 body_as(blueprint, wire.TownSettingsIn))
    bootstrap.container().town_changed(who.town_id)
    return respond(_town_document(town))


@blueprint.route("/admin/messaging", methods=["GET"])
@json_view
def messaging() -> Response:
    """This month's texts against the cap, and anonymous sends refused, per day."""
    from chalicelib.domain.access import Permission
    from chalicelib.services.outreach import messaging_figures

    town = admin.own_town(_ports(), caller(blueprint), Permission.CONFIGURE_TOWN, None)
    return respond(messaging_figures(bootstrap.container().outreach, town))


@blueprint.route("/admin/departments/{code}", methods=["PUT"])
@json_view
def put_department(code: str) -> Response:
    who = caller(blueprint)
    department, secret = admin.put_department(_ports(), who, code,
                                              body_as(blueprint, wire.DepartmentIn))
    bootstrap.container().town_changed(who.town_id)
    return respond(documents.department_document(department, secret=secret))


@blueprint.route("/admin/departments/{code}", methods=["DELETE"])
@json_view
def delete_department(code: str) -> Response:
    who = caller(blueprint)
    admin.delete_department(_ports(), who, code)
    bootstrap.container().town_changed(who.town_id)
    return respond({"deleted": code})


@blueprint.route("/admin/zones/{code}", methods=["GET"])
@json_view
def read_zone(code: str) -> Response:
    _, catalogue = admin.read_town(_ports(), caller(blueprint))
    zone = next((z for z in catalogue.zones if z.code == code), None)
    if zone is None:
        raise NotFound(f"no zone {code[:40]!r}")
    return respond(documents.zone_document(zone))


@blueprint.route("/admin/zones/{code}", methods=["PUT"])
@json_view
def put_zone(code: str) -> Response:
    who = caller(blueprint)
    zone = admin.put_zone(_ports(), who, code, body_as(blueprint, wire.ZoneIn))
    bootstrap.container().town_changed(who.town_id)
    return respond(documents.zone_document(zone))


@blueprint.route("/admin/zones/{code}", methods=["DELETE"])
@json_view
def delete_zone(code: str) -> Response:
    who = caller(blueprint)
    admin.delete_zone(_ports(), who, code)
    bootstrap.container().town_changed(who.town_id)
    return respond({"deleted": code})


@blueprint.route("/admin/routing", methods=["GET"])
@json_view
def read_routing() -> Response:
    from chalicelib.domain.routing import RoutingRules

    _, catalogue = admin.read_town(_ports(), caller(blueprint))
    return respond(documents.routing_document(catalogue.routing or RoutingRules()))


@blueprint.route("/admin/routing", methods=["PUT"])
@json_view
def put_routing() -> Response:
    who = caller(blueprint)
    routing = admin.put_routing(_ports(), who, body_as(blueprint, wire.RoutingIn))
    bootstrap.container().town_changed(who.town_id)
    return respond(documents.routing_document(routing))


@blueprint.route("/admin/routing/dry-run", methods=["POST"])
@json_view
def dry_run_routing() -> Response:
    return respond(admin.dry_run_routing(_ports(), caller(blueprint),
                                         body_as(blueprint, wire.DryRunIn)))


@blueprint.route("/admin/services/{code}", methods=["PUT"])
@json_view
def put_service(code: str) -> Response:
    who = caller(blueprint)
    service = admin.put_service(_ports(), who, code,
                                body_as(blueprint, wire.ServiceIn))
    bootstrap.container().town_changed(who.town_id)
    return respond(documents.service_admin_document(service))


@blueprint.route("/admin/services/{code}/retire", methods=["POST"])
@json_view
def retire_service(code: str) -> Response:
    who = caller(blueprint)
    bootstrap.container().town_changed(who.town_id)
    return respond(documents.service_admin_document(
        admin.retire_service(_ports(), who, code)))


@blueprint.route("/admin/services/{code}/restore", methods=["POST"])
@json_view
def restore_service(code: str) -> Response:
    who = caller(blueprint)
    bootstrap.container().town_changed(who.town_id)
    return respond(documents.service_admin_document(
        admin.retire_service(_ports(), who, code, active=True)))


@blueprint.route("/admin/catalogue/packs", methods=["POST"])
@json_view
def add_pack() -> Response:
    who = caller(blueprint)
    added = admin.add_pack(_ports(), who, body_as(blueprint, wire.PackIn).pack)
    bootstrap.container().town_changed(who.town_id)
    return respond({"added": added})


@blueprint.route("/admin/api-keys", methods=["GET"])
@json_view
def list_api_keys() -> Response:
    keys = admin.list_api_keys(_ports(), caller(blueprint))
    return respond([documents.api_key_document(k) for k in keys])


@blueprint.route("/admin/api-keys", methods=["POST"])
@json_view
def create_api_key() -> Response:
    key, secret = admin.create_api_key(_ports(), caller(blueprint),
                                       body_as(blueprint, wire.ApiKeyIn))
    return respond(documents.api_key_document(key, secret), status=201)


@blueprint.route("/admin/api-keys/{key_id}/rotate", methods=["POST"])
@json_view
def rotate_api_key(key_id: str) -> Response:
    key, secret = admin.rotate_api_key(_ports(), caller(blueprint), key_id)
    return respond(documents.api_key_document(key, secret), status=201)


@blueprint.route("/admin/api-keys/{key_id}", methods=["DELETE"])
@json_view
def revoke_api_key(key_id: str) -> Response:
    return respond(documents.api_key_document(admin.revoke_api_key(_ports(), caller(blueprint),
                                                              key_id)))


@blueprint.route("/admin/staff", methods=["GET"])
@json_view
def list_staff() -> Response:
    return respond([documents.staff_document(m) for m in admin.list_staff(_ports(),
                                                                     caller(blueprint))])


@blueprint.route("/admin/staff", methods=["POST"])
@json_view
def add_staff() -> Response:
    member = admin.add_staff(_ports(), caller(blueprint), body_as(blueprint, wire.StaffIn))
    return respond(documents.staff_document(member), status=201)


@blueprint.route("/admin/staff/{user_id}", methods=["DELETE"])
@json_view
def remove_staff(user_id: str) -> Response:
    return respond(documents.staff_document(admin.remove_staff(_ports(), caller(blueprint),
                                                          user_id)))


@blueprint.route("/admin/audit", methods=["GET"])
@json_view
def read_audit_log() -> Response:
    from chalicelib.domain.instants import DateRefused, parse_instant

    params = query_params(blueprint)
    before = None
    if params.get("before"):
        try:
            before = parse_instant(params["before"])  # an offset, 1970..2099
        except DateRefused as e:
            raise InvalidInput.of([Problem("before", str(e))]) from None
    try:
        limit = int(params.get("limit") or 50)
    except ValueError:
        raise InvalidInput.of([Problem("limit", "must be a whole number")]) from None
    entries = admin.read_audit_log(_ports(), caller(blueprint), before, limit)
    next_before = entries[-1].at.isoformat() if len(entries) == min(max(limit, 1), 200) else None
    return respond({"entries": [documents.audit_document(e) for e in entries],
                    "next_before": next_before})


@blueprint.route("/admin/residents/erase", methods=["POST"])
@json_view
def erase_resident_contact() -> Response:
    from chalicelib.services import residents

    body = body_as(blueprint, wire.ResidentContactIn)
    done = residents.erase_contact(_ports(), bootstrap.container().requests, caller(blueprint),
                                   body.email, body.phone)
    return respond({"requests_anonymised": done.requests_anonymised})


@blueprint.route("/admin/export", methods=["GET"])
@json_view
def export_own_town() -> Response:
    lines = platform.export_town(_ports(), caller(blueprint), None)
    return Response(body="\n".join(lines) + "\n", status_code=200,
                    headers={"Content-Type": "application/x-ndjson; charset=utf-8"})
