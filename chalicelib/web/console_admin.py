"""Town administration in the console: the catalogue editor (services and their
questions, retire/restore) and the town's settings and branding.

Each screen calls the service the admin JSON API calls (``services.admin``: the
permission checks are there); the forms are read into the API's own bodies
(``ServiceIn``, ``TownSettingsIn``), so a page can store nothing the API would refuse.
A refused form comes back with the problem next to each field. Questions are edited
without script: the form lists them, each with a "remove" box, and "Add a question"
shows the form again with one more empty question.
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
    from chalicelib.services.admin import AdminPorts

blueprint = Blueprint(__name__)
staff = staff_page(blueprint)

SERVICES = "/console/admin/services"
TOWN = "/console/admin/town"
QUESTIONS_LIMIT = 50


def _ports() -> AdminPorts:
    return bootstrap.container().admin


# --- the catalogue ---------------------------------------------------------------------------


@blueprint.route(SERVICES, methods=["GET"])
@staff
def services(req: PageRequest, who: Principal) -> Response:
    from chalicelib.services import admin

    _, catalogue = admin.read_town(_ports(), who)
    return render_console(req, who, "console/admin/services.html", listed=catalogue,
                          saved=req.query.get("saved", "")[:40])


@blueprint.route(SERVICES + "/new", methods=["GET"])
@staff
def new_service(req: PageRequest, who: Principal) -> Response:
    from chalicelib.services import admin

    _, catalogue = admin.read_town(_ports(), who)
    blank = {"code": "", "name": "", "group": "", "description": "", "keywords": [],
             "department": None, "duplicate_radius_m": 50, "duplicate_window_days": 30,
             "questions": [_blank_question()]}
    return _service_form(req, who, catalogue, blank, new=True)


@blueprint.route(SERVICES + "/edit/{code}", methods=["GET"])
@staff
def edit_service(req: PageRequest, who: Principal, code: str) -> Response:
    from chalicelib.domain.errors import NotFound
    from chalicelib.schemas.admin_documents import service_admin_document
    from chalicelib.services import admin

    _, catalogue = admin.read_town(_ports(), who)
    service = catalogue.by_code.get(code)
    if service is None:
        raise NotFound(f"no service {code[:40]!r}")
    return _service_form(req, who, catalogue, service_admin_document(service), new=False)


@blueprint.route(SERVICES + "/new", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def add_service(req: PageRequest, who: Principal) -> Response:
    return _save_service(req, who, None)


@blueprint.route(SERVICES + "/edit/{code}", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def change_service(req: PageRequest, who: Principal, code: str) -> Response:
    return _save_service(req, who, code[:40])


@blueprint.route(SERVICES + "/edit/{code}/{change}", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@staff
def retire_or_restore(req: PageRequest, who: Principal, code: str, change: str) -> Response:
    from chalicelib.domain.errors import NotFound
    from chalicelib.services import admin

    req.form()
    if change not in ("retire", "restore"):
        raise NotFound("no such change")
    admin.retire_service(_ports(), who, code[:40], active=change == "restore")
    return redirect(req, SERVICES, saved=change)


def _save_service(req: PageRequest, who: Principal, code: str | None) -> Response:
    from chalicelib.services import admin

    form = req.form()
    document, problems = _service_from(form, code)
    if form.fields.get("action") == "add_question" and len(document["questions"]) < \
            QUESTIONS_LIMIT:
        document["questions"].append(_blank_question())
        _, catalogue = admin.read_town(_ports(), who)
        return _service_form(req, who, catalogue, document, new=code is None)
    if not problems:
        try:
            body = _validated_service(document)
            admin.put_service(_ports(), who, document["code"], body)
            return redirect(req, SERVICES, saved=document["code"])
        except InvalidInput as e:
            problems = [_field_of(p.field) for p in e.problems]
    _, catalogue = admin.read_town(_ports(), who)
    return _service_form(req, who, catalogue, document, new=code is None,
                         problems=list(dict.fromkeys(problems)))


def _validated_service(document: dict[str, Any]) -> Any:
    from chalicelib.api.http import validated
    from chalicelib.schemas.admin import ServiceIn

    body = {k: v for k, v in document.items() if k not in ("code", "active")}
    return validated(ServiceIn, body)


def _blank_question() -> dict[str, Any]:
    return {"code": "", "datatype": "string", "description": "", "required": False,
            "variable": True, "order": 0, "datatype_description": None, "values": []}


def _service_from(form: PostedForm, code: str | None) -> tuple[dict[str, Any], list[str]]:
    """The posted service as ServiceIn's JSON, and the problems found reading it (codes
    of list answers, duplicate codes: a list question with no answers)."""
    f = form.fields
    problems: list[str] = []
    document: dict[str, Any] = {
        "code": code if code is not None else f.get("code", "").strip(),
        "name": f.get("name", "").strip(), "group": f.get("group", "").strip(),
        "description": f.get("description", "").strip(),
        "keywords": [k.strip() for k in f.get("keywords", "").split(",") if k.strip()],
        "department": f.get("department", "").strip() or None,
        "duplicate_radius_m": _whole(f.get("duplicate_radius_m", "")),
        "duplicate_window_days": _whole(f.get("duplicate_window_days", "")),
        "questions": [],
    }
    if not (code is not None or document["code"]):
        problems.append("code")
    sla = f.get("sla_json", "")
    if sla:
        import json

        try:
            document["sla"] = json.loads(sla)
        except ValueError:
            problems.append("sla")
    try:
        count = min(int(f.get("questions", "0")), QUESTIONS_LIMIT)
    except ValueError:
        count = 0
    seen: set[str] = set()
    for i in range(count):
        p = f"q{i}_"
        if f.get(p + "remove") == "yes":
            continue
        question: dict[str, Any] = {
            "code": f.get(p + "code", "").strip(), "datatype": f.get(p + "datatype", ""),
            "description": f.get(p + "description", "").strip(),
            "required": f.get(p + "required") == "yes",
            "variable": f.get(p + "variable", "yes") == "yes",
            "order": len(document["questions"]),
            "datatype_description": f.get(p + "hint", "").strip() or None,
            "values": _values(f.get(p + "values", "")),
        }
        if not (question["code"] or question["description"]):
            continue  # an empty question row is no question
        n = len(document["questions"])
        if question["code"] in seen:
            problems.append(f"q{n}_code")
        seen.add(question["code"])
        if question["datatype"] in ("singlevaluelist", "multivaluelist") and \
                not question["values"]:
            problems.append(f"q{n}_values")
        if question["datatype"] not in ("singlevaluelist", "multivaluelist"):
            question["values"] = []
        document["questions"].append(question)
    return document, problems


def _whole(text: str) -> int | str:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 7 else text


def _values(text: str) -> list[dict[str, str]]:
    """A list question's answers, one a line: "key = Name", or a name alone (its key is
    made from it: lower case, words joined by "_")."""
    import re

    values = []
    for line in text.splitlines():
        key, sep, name = line.partition("=")
        if not sep:
            name = key
            key = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:100]
        if name.strip():
            values.append({"key": key.strip() or name.strip()[:100], "name": name.strip()})
    return values


def _field_of(name: str) -> str:
    """A problem's field (``questions.2.values.0.key``) as the form's (``q2_values``)."""
    parts = name.split(".")
    if parts[0] == "questions" and len(parts) > 2 and parts[1].isdigit():
        return f"q{parts[1]}_{parts[2]}"
    if parts[0] == "sla":
        return "sla"
    return parts[0]


def _service_form(req: PageRequest, who: Principal, catalogue: Catalogue,
                  document: dict[str, Any], *, new: bool, problems: list[str] | None = None
                  ) -> Response:
    import json

    from chalicelib.domain.catalogue import DATATYPES

    problems = problems or []
    return render_console(
        req, who, "console/admin/service.html", status=400 if problems else 200,
        service=document, new=new, departments=catalogue.departments, datatypes=DATATYPES,
        problems=problems, sla_json=json.dumps(document["sla"]) if document.get("sla")
        else "")


# --- the town's settings and branding ---------------------------------------------------------


_TOWN_FIELDS = ("name", "contact_email", "contact_phone", "contact_url", "photo_limit")
_BRANDING_FIELDS = ("display_name", "logo_url", "primary_colour", "accent_colour")


@blueprint.route(TOWN, methods=["GET"])
@staff
def town_settings(req: PageRequest, who: Principal) -> Response:
    from chalicelib.domain.access import Permission
    from chalicelib.services import admin

    town = admin.own_town(_ports(), who, Permission.CONFIGURE_TOWN)
    values = {name: getattr(town, name) for name in _TOWN_FIELDS} | {
        name: getattr(town.branding, name) for name in _BRANDING_FIELDS} | {
        "locales": list(town.locales)}
    return _town_form(req, who, values, [], saved=req.query.get("saved") == "1")


@blueprint.route(TOWN, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def save_town(req: PageRequest, who: Principal) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.schemas.admin import TownSettingsIn
    from chalicelib.services import admin

    f = req.form().fields
    # Every checked language: the form's parser keeps only a field's last value.
    locales = [v for k, v in req.pairs() if k == "locales"]
    values: dict[str, Any] = {name: f.get(name, "").strip() for name in
                              (*_TOWN_FIELDS, *_BRANDING_FIELDS)}
    values["photo_limit"] = _whole(values["photo_limit"])
    values["locales"] = locales
    branding: dict[str, Any] = {name: values[name] or None for name in _BRANDING_FIELDS}
    for colour in ("primary_colour", "accent_colour"):
        if not branding[colour]:
            branding.pop(colour)  # the default colour
    body: dict[str, Any] = {name: values[name] or None for name in _TOWN_FIELDS} | {
        "name": values["name"], "photo_limit": values["photo_limit"],
        "locales": locales or None, "branding": branding}
    if body["photo_limit"] == "":
        body.pop("photo_limit")
    try:
        admin.update_settings(_ports(), who, validated(TownSettingsIn, body))
    except InvalidInput as e:
        problems = [_town_field(p) for p in e.problems]
        return _town_form(req, who, values, list(dict.fromkeys(problems)))
    return redirect(req, TOWN, saved=1)


def _town_field(problem: Problem) -> str:
    parts = problem.field.split(".")
    return parts[1] if parts[0] == "branding" and len(parts) > 1 else parts[0]


def _town_form(req: PageRequest, who: Principal, values: dict[str, Any], problems: list[str],
               *, saved: bool = False) -> Response:
    from chalicelib.web.pages import catalogue_languages

    return render_console(req, who, "console/admin/town.html",
                          status=400 if problems else 200, values=values, problems=problems,
                          offered=catalogue_languages(), saved=saved)
