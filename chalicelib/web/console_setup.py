"""Town administration in the console, part two: departments and their delivery channels,
zones, routing rules (with the dry run) and the gazetteer upload.

Each screen calls the service its admin JSON route calls (``services.admin``,
``services.delivery``, ``services.gazetteer``: the permission checks are there), and a
form is read into the route's own body (``DepartmentIn``, ``ZoneIn``, ``RoutingIn``,
``DryRunIn``), so a page can store nothing the API would refuse. A refused form comes
back with each problem next to its field: in the page's own words for simple fields, and
as the service says it where only the service knows (a zone's boundary: the plain-Python
polygon checks, with the path of the offending ring; a webhook's address; a gazetteer
row). A message starting with "@" is the page's own, translated by the template.

Two answers are shown on the POST's page rather than after a redirect, because they must
not travel in a URL nor be stored: a webhook's new secret (shown once) and a gazetteer
upload's report.

A department with a queue or a webhook has "Send a test delivery" (``services.delivery``:
a marked test assignment down the real path, budgeted) and its recent delivery results.
The zones screen and the routing dry run draw the zones on a map (``static/
console_setup.js``, from a JSON data block); the table of zones and the typed latitude and
longitude stay, for keyboards, screen readers and browsers without JavaScript.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import InvalidInput, Problem
from chalicelib.web.console import render_console, staff_page
from chalicelib.web.pages import FORM_CONTENT_TYPES, PageRequest, redirect

if TYPE_CHECKING:
    from chalicelib.api.forms import PostedForm
    from chalicelib.domain.access import Principal
    from chalicelib.domain.catalogue import Catalogue
    from chalicelib.domain.deliveries import DeliveryResult
    from chalicelib.services.admin import AdminPorts

blueprint = Blueprint(__name__)
staff = staff_page(blueprint)

DEPARTMENTS = "/console/admin/departments"
ZONES = "/console/admin/zones"
ROUTING = "/console/admin/routing"
PLACES = "/console/admin/places"
ZONE_KINDS = ("ward", "district", "neighbourhood", "service_area", "other")
BLANK_RULES = 3  # empty rows offered under the rules, to add without script
RULES_LIMIT = 500  # RoutingIn's


def _ports() -> AdminPorts:
    return bootstrap.container().admin


def _catalogue(who: Principal) -> Catalogue:
    """The caller's town's catalogue, for town admins (as the admin routes check)."""
    from chalicelib.domain.access import Permission
    from chalicelib.services import admin

    return admin.catalogue_of(_ports(), admin.own_town(_ports(), who, Permission.CONFIGURE_TOWN))


def _by_field(problems: list[Problem], field_of: Any = None) -> dict[str, list[str]]:
    """The service's problems, by the form's field (messages in order, once each)."""
    found: dict[str, list[str]] = {}
    for p in problems:
        name = field_of(p.field) if field_of else p.field.split(".")[0]
        if p.message not in found.setdefault(name, []):
            found[name].append(p.message)
    return found


# --- departments -----------------------------------------------------------------------------


@blueprint.route(DEPARTMENTS, methods=["GET"])
@staff
def departments(req: PageRequest, who: Principal) -> Response:
    catalogue = _catalogue(who)
    used = {d.code: [s.name for s in catalogue.services if s.active and s.department == d.code]
            for d in catalogue.departments}
    return render_console(req, who, "console/setup/departments.html",
                          departments=catalogue.departments, used=used,
                          saved=req.query.get("saved", "")[:40],
                          deleted=req.query.get("deleted", "")[:40])


@blueprint.route(DEPARTMENTS + "/new", methods=["GET"])
@staff
def new_department(req: PageRequest, who: Principal) -> Response:
    _catalogue(who)  # refused here, not only when saved
    return _department_form(req, who, {"code": "", "name": "", "email": "", "queue": False,
                                       "webhook_url": ""}, new=True)


@blueprint.route(DEPARTMENTS + "/edit/{code}", methods=["GET"])
@staff
def edit_department(req: PageRequest, who: Principal, code: str) -> Response:
    from chalicelib.domain.errors import NotFound

    department = _catalogue(who).department(code)
    if department is None:
        raise NotFound(f"no department {code[:40]!r}")
    values = {"code": department.code, "name": department.name,
              "email": department.email or "", "queue": department.queue,
              "webhook_url": department.webhook_url or ""}
    tested = [c for c in req.query.get("tested", "").split(",") if c in ("queue", "webhook")]
    return _department_form(req, who, values, new=False,
                            queue=_queue_of(who, code) if department.queue else None,
                            results=_results_of(who, department.code), tested=tested)


@blueprint.route(DEPARTMENTS + "/edit/{code}/test", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@staff
def test_department(req: PageRequest, who: Principal, code: str) -> Response:
    """Send a test delivery to the department's queue and webhook (town admins; a few per
    department in ten minutes). Its webhook result shows once the webhook function ran."""
    from chalicelib.domain.errors import Throttled
    from chalicelib.services import delivery

    req.form()
    try:
        sent = delivery.send_test_delivery(bootstrap.container().delivery_test_ports, who,
                                           code[:40])
    except Throttled as e:
        department = _catalogue(who).department(code[:40])
        if department is None:  # deleted since: as the service would say
            raise
        values = {"code": department.code, "name": department.name,
                  "email": department.email or "", "queue": department.queue,
                  "webhook_url": department.webhook_url or ""}
        return _department_form(
            req, who, values, new=False, status=429,
            queue=_queue_of(who, department.code) if department.queue else None,
            results=_results_of(who, department.code),
            throttled=max(1, (e.retry_after_seconds + 59) // 60))
    return redirect(req, f"{DEPARTMENTS}/edit/{code[:40]}", tested=",".join(sent))


@blueprint.route(DEPARTMENTS + "/new", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def add_department(req: PageRequest, who: Principal) -> Response:
    return _save_department(req, who, None)


@blueprint.route(DEPARTMENTS + "/edit/{code}", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@staff
def change_department(req: PageRequest, who: Principal, code: str) -> Response:
    return _save_department(req, who, code[:40])


@blueprint.route(DEPARTMENTS + "/edit/{code}/delete", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@staff
def delete_department(req: PageRequest, who: Principal, code: str) -> Response:
    from chalicelib.services import admin

    req.form()
    admin.delete_department(_ports(), who, code[:40])  # Conflict while services use it
    return redirect(req, DEPARTMENTS, deleted=code[:40])


def _save_department(req: PageRequest, who: Principal, code: str | None) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.schemas.admin import DepartmentIn
    from chalicelib.services import admin

    f = req.form().fields
    values: dict[str, Any] = {
        "code": code if code is not None else f.get("code", "").strip(),
        "name": f.get("name", "").strip(), "email": f.get("email", "").strip(),
        "queue": f.get("queue") == "yes", "webhook_url": f.get("webhook_url", "").strip()}
    body = {"name": values["name"], "email": values["email"] or None,
            "queue": values["queue"], "webhook_url": values["webhook_url"] or None,
            "rotate_webhook_secret": f.get("rotate_webhook_secret") == "yes"}
    try:
        department, secret = admin.put_department(_ports(), who, values["code"],
                                                  validated(DepartmentIn, body))
    except InvalidInput as e:
        return _department_form(req, who, values, new=code is None,
                                problems=_by_field(e.problems))
    if secret is None:
        return redirect(req, DEPARTMENTS, saved=department.code)
    # The secret exists nowhere else the town can read: shown on this answer, once.
    return render_console(req, who, "console/setup/department_secret.html",
                          department=department, secret=secret)


def _queue_of(who: Principal, code: str) -> dict[str, object] | None:
    from chalicelib.services import delivery

    c = bootstrap.container()
    return delivery.department_queue(c.town_store, c.channels, who, code)


def _results_of(who: Principal, code: str) -> list[DeliveryResult]:
    from chalicelib.services import delivery

    c = bootstrap.container()
    return delivery.recent_results(c.town_store, c.delivery_results, who, code)


def _department_form(req: PageRequest, who: Principal, values: dict[str, Any], *, new: bool,
                     problems: dict[str, list[str]] | None = None,
                     queue: dict[str, object] | None = None,
                     results: list[DeliveryResult] | None = None,
                     tested: list[str] | None = None, throttled: int | None = None,
                     status: int | None = None) -> Response:
    return render_console(req, who, "console/setup/department.html",
                          status=status or (400 if problems else 200), values=values, new=new,
                          problems=problems or {}, queue=queue, results=results,
                          tested=tested or [], throttled=throttled)


# --- zones -----------------------------------------------------------------------------------


@blueprint.route(ZONES, methods=["GET"])
@staff
def zones(req: PageRequest, who: Principal) -> Response:
    return _zones_page(req, who, _catalogue(who), {"code": "", "name": "", "kind": "ward",
                                                   "geometry": ""})


@blueprint.route(ZONES, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def upload_zone(req: PageRequest, who: Principal) -> Response:
    import json

    from chalicelib.api.http import validated
    from chalicelib.schemas.admin import ZoneIn
    from chalicelib.services import admin

    form = req.form()
    f = form.fields
    values = {"code": f.get("code", "").strip(), "name": f.get("name", "").strip(),
              "kind": f.get("kind", ""), "geometry": f.get("geometry", "")}
    problems: dict[str, list[str]] = {}
    text = values["geometry"]
    if form.media is not None and form.media.content:
        try:
            text = form.media.content.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems["geometry"] = ["@not_utf8"]
    document: Any = None
    if not problems:
        if not text.strip():
            problems["geometry"] = ["@no_geometry"]
        else:
            try:
                document = json.loads(text)
            except ValueError as e:
                problems["geometry"] = ["@not_json", f"{e}"]
    if not problems:
        try:
            admin.put_zone(_ports(), who, values["code"], validated(
                ZoneIn, {"name": values["name"], "kind": values["kind"],
                         "geometry": document}))
            return redirect(req, ZONES, saved=values["code"])
        except InvalidInput as e:
            problems = _by_field(e.problems)
    if problems and "code" not in problems:
        # The service checks the code after the body: say all that is wrong at once.
        from chalicelib.domain.zones import zone_code_problems

        problems |= _by_field(zone_code_problems(values["code"]))
    if len(values["geometry"]) > 20_000:
        values["geometry"] = ""  # a file's worth is not sent back into the page
    return _zones_page(req, who, _catalogue(who), values, problems)


@blueprint.route(ZONES + "/{code}/delete", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def delete_zone(req: PageRequest, who: Principal, code: str) -> Response:
    from chalicelib.services import admin

    req.form()
    admin.delete_zone(_ports(), who, code[:40])
    return redirect(req, ZONES, deleted=code[:40])


def _zones_page(req: PageRequest, who: Principal, catalogue: Catalogue, values: dict[str, Any],
                problems: dict[str, list[str]] | None = None) -> Response:
    saved = req.query.get("saved", "")[:40]
    return render_console(req, who, "console/setup/zones.html",
                          status=400 if problems else 200, zones=catalogue.zones,
                          values=values, kinds=ZONE_KINDS, problems=problems or {},
                          saved=saved, deleted=req.query.get("deleted", "")[:40],
                          shapes={"zones": _zone_shapes(catalogue),
                                  "highlight": [saved] if saved else []})


def _zone_shapes(catalogue: Catalogue) -> list[dict[str, Any]]:
    """The zones as the map draws them (GeoJSON, [longitude, latitude])."""
    return [{"code": z.code, "name": z.name, "geometry": z.geometry} for z in catalogue.zones]


# --- routing rules and the dry run -------------------------------------------------------------


@blueprint.route(ROUTING, methods=["GET"])
@staff
def routing(req: PageRequest, who: Principal) -> Response:
    from chalicelib.domain.routing import RoutingRules

    catalogue = _catalogue(who)
    rules = catalogue.routing or RoutingRules()
    rows = [{"service_code": r.service_code, "department": r.department, "zone": r.zone or ""}
            for r in rules.rules]
    return _routing_page(req, who, catalogue, rules.triage, rows, {},
                         saved=req.query.get("saved") == "1")


@blueprint.route(ROUTING, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def save_routing(req: PageRequest, who: Principal) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.schemas.admin import RoutingIn
    from chalicelib.services import admin

    f = req.form().fields
    triage = f.get("triage", "").strip()
    try:
        count = min(int(f.get("rules", "0")), RULES_LIMIT + BLANK_RULES)
    except ValueError:
        count = 0
    rows = []
    for i in range(count):
        row = {name: f.get(f"r{i}_{name}", "").strip()
               for name in ("service_code", "department", "zone")}
        if f.get(f"r{i}_remove") == "yes" or not (row["service_code"] or row["department"]):
            continue  # removed, or an empty row
        rows.append(row)
    body = {"triage": triage, "rules": [
        {"service_code": r["service_code"], "department": r["department"],
         "zone": r["zone"] or None} for r in rows]}
    try:
        admin.put_routing(_ports(), who, validated(RoutingIn, body))
    except InvalidInput as e:
        return _routing_page(req, who, _catalogue(who), triage, rows,
                             _by_field(e.problems, _rule_field))
    return redirect(req, ROUTING, saved=1)


def _rule_field(name: str) -> str:
    """A problem's field (``rules.2.zone``) as the form's (``r2_zone``)."""
    parts = name.split(".")
    if parts[0] == "rules" and len(parts) > 2 and parts[1].isdigit():
        return f"r{parts[1]}_{parts[2]}"
    return parts[0]


@blueprint.route(ROUTING + "/dry-run", methods=["GET"])
@staff
def dry_run(req: PageRequest, who: Principal) -> Response:
    """Where a service asked for at a point (typed, or the gazetteer's first match for an
    address) would go. A GET: it changes nothing, and the answer can be bookmarked."""
    from chalicelib.api.http import validated
    from chalicelib.domain.routing import RoutingRules
    from chalicelib.schemas.admin import DryRunIn
    from chalicelib.services import admin

    q = req.query
    asked = {name: q.get(name, "").strip()[:200]
             for name in ("service_code", "lat", "long", "address")}
    catalogue = _catalogue(who)
    rules = catalogue.routing or RoutingRules()
    rows = [{"service_code": r.service_code, "department": r.department, "zone": r.zone or ""}
            for r in rules.rules]
    problems: dict[str, list[str]] = {}
    place = None
    point: dict[str, Any] = {"lat": asked["lat"] or None, "long": asked["long"] or None}
    if asked["address"]:
        from chalicelib.services import gazetteer

        c = bootstrap.container()
        found = gazetteer.suggest(c.geocoder, c.towns, who.town_id or "", asked["address"], 1)
        if found:
            place = found[0]
            point = {"lat": place.lat, "long": place.long}
        else:
            problems["address"] = ["@no_place"]
    elif (point["lat"] is None) != (point["long"] is None):
        problems["lat" if point["lat"] is None else "long"] = ["@point"]
    answer = None
    if not problems:
        try:
            body = validated(DryRunIn, {"service_code": asked["service_code"]} | point)
            answer = admin.dry_run_routing(_ports(), who, body)
            if body.lat is not None and body.long is not None:
                # Where it was tried, as read (the map marks it there).
                answer |= {"lat": body.lat, "long": body.long}
        except InvalidInput as e:
            problems = _by_field(e.problems)
    return _routing_page(req, who, catalogue, rules.triage, rows, {}, asked=asked,
                         answer=answer, place=place, dry_problems=problems)


def _routing_page(req: PageRequest, who: Principal, catalogue: Catalogue, triage: str,
                  rows: list[dict[str, str]], problems: dict[str, list[str]], *,
                  saved: bool = False, asked: dict[str, str] | None = None,
                  answer: dict[str, object] | None = None, place: Any = None,
                  dry_problems: dict[str, list[str]] | None = None) -> Response:
    blank = {"service_code": "", "department": "", "zone": ""}
    point = None
    if answer is not None and answer.get("lat") is not None:
        point = {"lat": answer["lat"], "long": answer["long"], "zones": answer["zones"]}
    return render_console(
        req, who, "console/setup/routing.html",
        status=400 if problems or dry_problems else 200, listed=catalogue,
        triage=triage, rows=[*rows, *([blank] * BLANK_RULES)], problems=problems,
        saved=saved, asked=asked or {}, answer=answer, place=place,
        dry_problems=dry_problems or {}, zone_names={z.code: z.name for z in catalogue.zones},
        shapes={"zones": _zone_shapes(catalogue), "point": point})


# --- the gazetteer upload ----------------------------------------------------------------------


@blueprint.route(PLACES, methods=["GET"])
@staff
def places(req: PageRequest, who: Principal) -> Response:
    from chalicelib.domain.access import Permission
    from chalicelib.services import admin, gazetteer

    admin.own_town(_ports(), who, Permission.CONFIGURE_TOWN)  # the upload's permission
    summary = gazetteer.read_summary(bootstrap.container().gazetteer_ports, who)
    return render_console(req, who, "console/setup/places.html", summary=summary,
                          report=None, problems=[])


@blueprint.route(PLACES, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def upload_places(req: PageRequest, who: Principal) -> Response:
    from chalicelib.services import gazetteer

    form = req.form()
    ports = bootstrap.container().gazetteer_ports
    problems = _file_problems(form)
    report = None
    if not problems and form.media is not None:
        try:
            report = gazetteer.upload(ports, who, form.media.content)
        except InvalidInput as e:
            problems = [(p.field, p.message) for p in e.problems]
            if not e.problems or e.message not in [p.message for p in e.problems]:
                problems.insert(0, ("", e.message))
    summary = report.summary if report else gazetteer.read_summary(ports, who)
    # The report is this upload's answer, kept nowhere: shown here rather than after a
    # redirect.
    return render_console(req, who, "console/setup/places.html",
                          status=400 if problems else 200, summary=summary, report=report,
                          problems=problems)


def _file_problems(form: PostedForm) -> list[tuple[str, str]]:
    if form.media is None or not form.media.content:
        return [("", "@no_file")]
    return []
