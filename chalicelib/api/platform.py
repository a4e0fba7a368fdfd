"""The platform operator's API: create, list, suspend, resume and export towns, and what
each uses and costs."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.http import body_as, caller, json_view, query_params, respond
from chalicelib.domain.towns import ACTIVE, SUSPENDED
from chalicelib.schemas import admin as wire
from chalicelib.schemas import admin_documents as documents
from chalicelib.services import platform

blueprint = Blueprint(__name__)


def _town_document(town) -> dict:  # noqa: ANN001
    """The town with its e-mail intake address (the deployment's intake domain)."""
    return documents.town_document(town, bootstrap.container().settings.mail_intake_domain)


@blueprint.route("/platform/towns", methods=["GET"])
@json_view
def list_towns() -> Response:
    towns = platform.list_towns(bootstrap.container().admin, caller(blueprint))
    return respond([_town_document(t) for t in towns])


@blueprint.route("/platform/towns", methods=["POST"])
@json_view
def create_town() -> Response:
    created = platform.create_town(bootstrap.container().admin, caller(blueprint),
                                   body_as(blueprint, wire.NewTownIn))
    return respond({"town": _town_document(created.town),
                    "admin": documents.staff_document(created.admin)}, status=201)


@blueprint.route("/platform/towns/{town}/suspend", methods=["POST"])
@json_view
def suspend_town(town: str) -> Response:
    return respond(_town_document(platform.set_town_status(
        bootstrap.container().admin, caller(blueprint), town, SUSPENDED)))


@blueprint.route("/platform/towns/{town}/resume", methods=["POST"])
@json_view
def resume_town(town: str) -> Response:
    return respond(_town_document(platform.set_town_status(
        bootstrap.container().admin, caller(blueprint), town, ACTIVE)))


@blueprint.route("/platform/towns/{town}/web-domain", methods=["PUT"])
@json_view
def map_web_domain(town: str) -> Response:
    body = body_as(blueprint, wire.WebDomainIn)
    return respond(_town_document(platform.map_web_domain(
        bootstrap.container().admin, caller(blueprint), town, body.domain)))


@blueprint.route("/platform/towns/{town}/export", methods=["GET"])
@json_view
def export_town(town: str) -> Response:
    lines = platform.export_town(bootstrap.container().admin, caller(blueprint), town)
    return Response(body="\n".join(lines) + "\n", status_code=200,
                    headers={"Content-Type": "application/x-ndjson; charset=utf-8"})


@blueprint.route("/platform/usage", methods=["GET"])
@json_view
def usage_of_towns() -> Response:
    """Every town's usage this month and its estimated AWS cost, with the total."""
    from chalicelib.services import usage

    ports = bootstrap.container().usage_ports
    found = usage.towns_usage(ports, caller(blueprint), _month_asked())
    month, _ = usage.month_shown(ports, _month_asked())
    return respond({"month": month,
                    "estimated_cost_usd": usage.total_cost(found),
                    "towns": [usage.document(u) for u in found]})


@blueprint.route("/platform/towns/{town}/usage", methods=["GET"])
@json_view
def usage_of_town(town: str) -> Response:
    from chalicelib.services import usage

    return respond(usage.document(usage.town_usage(bootstrap.container().usage_ports,
                                                   caller(blueprint), town, _month_asked())))


def _month_asked() -> str | None:
    """``?month=2026-11`` (the services check it; absent: this month)."""
    return query_params(blueprint).get("month") or None


@blueprint.route("/platform/towns/{town}/migrations/phones", methods=["POST"])
@json_view
def normalise_phones(town: str) -> Response:
    """Rewrite the town's stored phones as E.164 (once, after upgrading; idempotent)."""
    from dataclasses import asdict

    from chalicelib.services.migrations import normalise_phones as rewrite

    ports = bootstrap.container().migration_ports
    return respond(asdict(rewrite(ports, caller(blueprint), town)))
