"""Possible duplicates, asked before a request is made: by residents on the web, by staff
entering a phone call, and by apps through an Open311 extension on both Open311 bases
(``possible_duplicates.json`` / ``.xml``, next to ``requests.json``).

Static Open311 paths win over ``{resource}`` in API Gateway and in Chalice's local
gateway alike, so these routes sit beside the Open311 blueprint without touching it.
"""

from __future__ import annotations

from collections.abc import Callable

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.errors import open311_error_response
from chalicelib.api.formats import render
from chalicelib.api.http import caller, json_view, query_as, respond
from chalicelib.api.open311 import CORS, SHARED, TOWN
from chalicelib.api.open311 import _town as open311_town
from chalicelib.domain.errors import Town311Error
from chalicelib.schemas import duplicates as wire
from chalicelib.services import directory
from chalicelib.services.duplicates import duplicates_in_town, staff_town

blueprint = Blueprint(__name__)


@blueprint.route("/towns/{town}/possible-duplicates", methods=["GET"], cors=CORS)
@json_view
def for_residents(town: str) -> Response:
    c = bootstrap.container()
    place = directory.find_town(c.towns, town)
    search = query_as(blueprint, wire.DuplicateSearch)
    check = duplicates_in_town(c.nearby, c.towns, place, search.service_code, search.lat,
                               search.long, c.now())
    return respond(wire.duplicates_document(check, place.zone))


@blueprint.route("/staff/possible-duplicates", methods=["GET"])
@json_view
def for_staff() -> Response:
    c = bootstrap.container()
    town = staff_town(c.towns, caller(blueprint))
    search = query_as(blueprint, wire.DuplicateSearch)
    check = duplicates_in_town(c.nearby, c.towns, town, search.service_code, search.lat,
                               search.long, c.now())
    return respond(wire.duplicates_document(check, town.zone))


# --- the Open311 extension ---------------------------------------------------------------


def _for_apps(town_in_path: str | None, fmt: str) -> Response:
    """Open311's error arrays (in the format asked) for every refusal, as on the other
    Open311 routes; ``jurisdiction_id`` as there (required on the shared base only)."""
    try:
        c = bootstrap.container()
        town = open311_town(town_in_path)
        search = query_as(blueprint, wire.DuplicateSearch)
        check = duplicates_in_town(c.nearby, c.towns, town, search.service_code, search.lat,
                                   search.long, c.now())
    except Town311Error as e:
        return open311_error_response(e, fmt)
    if fmt == "xml":
        return render(wire.duplicates_xml_document(check, town.zone), fmt,
                      "possible_duplicates")
    return render(wire.duplicates_document(check, town.zone), fmt, "possible_duplicates")


def _open311_routes(fmt: str) -> None:
    def shared() -> Response:
        return _for_apps(None, fmt)

    def per_town(town: str) -> Response:
        return _for_apps(town, fmt)

    views: tuple[tuple[str, Callable[..., Response]], ...] = (
        (SHARED, shared), (TOWN, per_town))
    for base, view in views:
        view.__name__ = f"{'shared' if base == SHARED else 'town'}_possible_duplicates_{fmt}"
        blueprint.route(f"{base}/possible_duplicates.{fmt}", methods=["GET"],
                        cors=CORS)(view)


for _fmt in ("json", "xml"):
    _open311_routes(_fmt)
