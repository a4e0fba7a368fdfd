"""The platform operator's screens: the towns with their state and this month's usage and
estimated cost, a new town from a template pack, suspending and resuming a town. The same
services as ``/platform/towns`` and ``/platform/usage`` (which refuse anyone but an
operator: a town admin gets the 403 page)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.web.console import render_console, staff_page
from chalicelib.web.pages import FORM_CONTENT_TYPES, PageRequest, redirect

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
    from chalicelib.domain.errors import Town311Error

blueprint = Blueprint(__name__)
staff = staff_page(blueprint)

TOWNS = "/console/towns"
# The new-town form's fields, in the order the page asks for them (NewTownIn's names).
FIELDS = ("jurisdiction_id", "name", "timezone", "pack", "admin_email", "admin_name")


def _packs() -> list[str]:
    """The template packs a town may start from (chalicelib/packs/*.json)."""
    from chalicelib.services.towns import PACKS

    return sorted(p.stem for p in PACKS.glob("*.json"))


@blueprint.route(TOWNS, methods=["GET"])
@staff
def towns(req: PageRequest, who: Principal) -> Response:
    from chalicelib.services import usage

    ports = bootstrap.container().usage_ports
    found = usage.towns_usage(ports, who, req.query.get("month"))  # checks who, then month
    month, previous = usage.month_shown(ports, req.query.get("month"))
    return render_console(req, who, "console/platform/towns.html", towns=found,
                          month=month, previous=previous, asked=bool(req.query.get("month")),
                          total=usage.total_cost(found),
                          done=req.query.get("done", ""), town_id=req.query.get("town", ""))


@blueprint.route(TOWNS + "/new", methods=["GET"])
@staff
def new_town(req: PageRequest, who: Principal) -> Response:
    from chalicelib.domain.access import Permission, require

    # The form is no use to anyone the service would refuse: say so before they type.
    require(who, Permission.MANAGE_TOWNS, None)
    return _form(req, who, {"pack": "small_town"}, {})


def _form(req: PageRequest, who: Principal, values: dict[str, str],
          errors: dict[str, str], status: int = 200) -> Response:
    return render_console(req, who, "console/platform/new_town.html", values=values,
                          errors=errors, packs=_packs(), status=status)


@blueprint.route(TOWNS, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def create_town(req: PageRequest, who: Principal) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.domain.errors import Conflict, InvalidInput
    from chalicelib.schemas import admin as wire
    from chalicelib.services import platform

    form = req.form()
    values = {name: form.fields.get(name, "").strip() for name in FIELDS}
    try:
        made = platform.create_town(bootstrap.container().admin, who,
                                    validated(wire.NewTownIn, values))
    except (InvalidInput, Conflict) as e:
        return _form(req, who, values, _said(req, e), status=400)
    return redirect(req, TOWNS, done="created", town=made.town.town_id)


def _said(req: PageRequest, error: Town311Error) -> dict[str, str]:
    """The problems, next to each field in the page's language (never the service's own
    English text: pages do not match on it, and it is not translated)."""
    from chalicelib.domain.errors import Conflict

    if isinstance(error, Conflict):
        return {"jurisdiction_id": req.gettext("A town with this id already exists")}
    said = {
        "jurisdiction_id": req.gettext(
            "Enter the town's id: its web domain, like maplefalls.gov"),
        "name": req.gettext("Enter the town's name"),
        "timezone": req.gettext("Enter a time zone, like America/Chicago"),
        "pack": req.gettext("Choose a template pack from the list"),
        "admin_email": req.gettext("Enter an e-mail address, like name@example.com"),
        "admin_name": req.gettext("Enter the administrator's name"),
    }
    found: dict[str, str] = {}
    for problem in error.problems:
        field = problem.field.split(".")[0].split("[")[0]
        if field in said:
            found.setdefault(field, said[field])
    return found or {"jurisdiction_id": said["jurisdiction_id"]}


def _set_status(req: PageRequest, who: Principal, town: str, status: str) -> Response:
    from chalicelib.services import platform

    req.form()
    changed = platform.set_town_status(bootstrap.container().admin, who, town, status)
    return redirect(req, TOWNS, done=changed.status, town=changed.town_id)


@blueprint.route(TOWNS + "/{town}/suspend", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def suspend_town(req: PageRequest, who: Principal, town: str) -> Response:
    from chalicelib.domain.towns import SUSPENDED

    return _set_status(req, who, town, SUSPENDED)


@blueprint.route(TOWNS + "/{town}/resume", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def resume_town(req: PageRequest, who: Principal, town: str) -> Response:
    from chalicelib.domain.towns import ACTIVE

    return _set_status(req, who, town, ACTIVE)
