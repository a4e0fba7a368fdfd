"""Town administration in the console: the catalogue editor (services, their questions,
due times and priority answers, retire/restore, adding a template pack), the town's
settings and branding (with a preview of the resident page before saving), its ways in
(the SMS number residents text, the address they e-mail reports to), and its opening
hours, holidays and emergency mode.

Each screen calls the service the admin JSON API calls (``services.admin``: the
permission checks are there); the forms are read into the API's own bodies
(``ServiceIn``, ``TownSettingsIn``), so a page can store nothing the API would refuse.
A refused form comes back with the problem next to each field. Questions are edited
without script: the form lists them, each with a "remove" box, and "Add a question"
shows the form again with one more empty question.

Residents' pages keep a town for a minute per container; a change saved here is dropped
from this container's copy at once (``_reaches_residents``), and the screens say that the
other containers follow within the minute.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.access import Permission
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
HOURS = TOWN + "/hours"
WAYS_IN = TOWN + "/ways-in"
PACKS = SERVICES + "/packs"
QUESTIONS_LIMIT = 50
PRIORITIES_LIMIT = 20  # ServiceIn's
LIST_DATATYPES = ("singlevaluelist", "multivaluelist")
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


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
    _reaches_residents(who)
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
            _reaches_residents(who)
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
    document["sla"] = _sla_from(form, problems)
    return document, problems


def _sla_from(form: PostedForm, problems: list[str]) -> dict[str, Any] | None:
    """The service level as ServiceIn's ``sla``: a target (none when the amount is left
    empty) and the quicker targets for priority answers, each chosen as one of the list
    questions' answers (``question=answer``). Amounts go on as typed: ServiceIn says
    what is wrong with them."""
    f = form.fields
    priorities = []
    try:
        count = min(int(f.get("priorities", "0")), PRIORITIES_LIMIT)
    except ValueError:
        count = 0
    for i in range(count):
        p = f"p{i}_"
        question, sep, answer = f.get(p + "rule", "").partition("=")
        if f.get(p + "remove") == "yes" or not sep:
            continue
        priorities.append({"question": question, "answer": answer,
                           "amount": f.get(p + "amount", "").strip(),
                           "unit": f.get(p + "unit", "")})
    amount = f.get("sla_amount", "").strip()
    if not amount:
        if priorities:
            problems.append("sla_amount")  # a quicker target needs a usual one
            return {"amount": "", "unit": f.get("sla_unit", ""), "priorities": priorities}
        return None
    return {"amount": amount, "unit": f.get("sla_unit", ""), "priorities": priorities}


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
        if len(parts) > 3 and parts[1] == "priorities" and parts[2].isdigit():
            return f"p{parts[2]}_{'amount' if parts[3] == 'amount' else 'rule'}"
        return "sla_unit" if parts[1:2] == ["unit"] else "sla_amount"
    return parts[0]


def _service_form(req: PageRequest, who: Principal, catalogue: Catalogue,
                  document: dict[str, Any], *, new: bool, problems: list[str] | None = None
                  ) -> Response:
    from chalicelib.domain.catalogue import DATATYPES
    from chalicelib.domain.sla import UNITS

    problems = problems or []
    sla = document.get("sla") or {"amount": "", "unit": "business_hours", "priorities": []}
    return render_console(
        req, who, "console/admin/service.html", status=400 if problems else 200,
        service=document, new=new, departments=catalogue.departments, datatypes=DATATYPES,
        problems=problems, sla=sla, units=UNITS, answers=_priority_answers(document, sla))


def _priority_answers(document: dict[str, Any], sla: dict[str, Any]
                      ) -> list[tuple[str, str, str]]:
    """What a priority may be chosen on: each answer of the service's list questions, as
    (``question=answer``, the question, the answer's name); and the rules already there
    on other questions, so that editing never loses one."""
    found = {f"{q['code']}={v['key']}": (q["description"] or q["code"], v["name"])
             for q in document["questions"] if q["datatype"] in LIST_DATATYPES
             for v in q["values"]}
    for rule in sla.get("priorities") or ():
        found.setdefault(f"{rule['question']}={rule['answer']}",
                         (rule["question"], rule["answer"]))
    return [(value, question, answer) for value, (question, answer) in found.items()]


# --- template packs ---------------------------------------------------------------------------


@blueprint.route(PACKS, methods=["GET"])
@staff
def packs(req: PageRequest, who: Principal) -> Response:
    """Choose a template pack and see what it would add (departments and services the
    town has no code for yet), before adding anything."""
    from chalicelib.services import admin
    from chalicelib.services.towns import template_packs

    chosen = req.query.get("pack", "")[:40]
    additions, problems = None, []
    if chosen:
        try:
            additions = admin.pack_additions(_ports(), who, chosen)
        except InvalidInput:
            problems = ["pack"]
    else:
        admin.own_town(_ports(), who, Permission.EDIT_CATALOGUE)
    return render_console(req, who, "console/admin/packs.html", status=400 if problems else 200,
                          packs=template_packs(), chosen=chosen, additions=additions,
                          problems=problems)


@blueprint.route(PACKS, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def add_pack(req: PageRequest, who: Principal) -> Response:
    from chalicelib.services import admin

    pack = req.form().fields.get("pack", "")[:40]
    added = admin.add_pack(_ports(), who, pack)
    _reaches_residents(who)
    return redirect(req, SERVICES, saved="pack", added=len(added))


# --- the town's settings and branding ---------------------------------------------------------


_TOWN_FIELDS = ("name", "contact_email", "contact_phone", "contact_url", "photo_limit")
_BRANDING_FIELDS = ("display_name", "logo_url", "primary_colour", "accent_colour")


def _reaches_residents(who: Principal) -> None:
    bootstrap.container().town_changed(who.town_id)


@blueprint.route(TOWN, methods=["GET"])
@staff
def town_settings(req: PageRequest, who: Principal) -> Response:
    from chalicelib.services import admin

    town = admin.own_town(_ports(), who, Permission.CONFIGURE_TOWN)
    return _town_form(req, who, _stored_values(town), [],
                      saved=req.query.get("saved", "")[:10])


def _stored_values(town: Any) -> dict[str, Any]:
    return {name: getattr(town, name) for name in _TOWN_FIELDS} | {
        name: getattr(town.branding, name) for name in _BRANDING_FIELDS} | {
        "locales": list(town.locales), "open_data_grid_m": town.open_data_grid_m,
        "sensitive_services": list(town.sensitive_services)}


@blueprint.route(WAYS_IN, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def save_ways_in(req: PageRequest, who: Principal) -> Response:
    """The town's SMS number and e-mail intake address, through ``PATCH /admin/town``'s
    body and service (what a number or an address may be, and whose it is, is decided
    there). A refused one comes back next to its field, with the settings as stored."""
    from chalicelib.api.http import validated
    from chalicelib.domain.errors import Conflict
    from chalicelib.schemas.admin import TownSettingsIn
    from chalicelib.services import admin

    f = req.form().fields
    typed = {"sms_number": f.get("sms_number", "").strip()[:60],
             "intake_email": f.get("intake_email", "").strip()[:300]}
    body: dict[str, Any] = {"sms_number": typed["sms_number"] or None}
    if "intake_email" in f:  # shown only where the deployment receives mail
        body["intake_email"] = typed["intake_email"] or None
    try:
        admin.update_settings(_ports(), who, validated(TownSettingsIn, body))
    except (InvalidInput, Conflict) as e:
        taken = isinstance(e, Conflict)
        refused = {p.field.split(".")[0]: "taken" if taken else "invalid"
                   for p in e.problems if p.field in typed}
        if not refused:
            raise
        town = admin.own_town(_ports(), who, Permission.CONFIGURE_TOWN)
        return _town_form(req, who, _stored_values(town), [], ways_typed=typed,
                          ways_problems=refused)
    _reaches_residents(who)
    return redirect(req, TOWN, saved="ways")


def _posted_settings(req: PageRequest) -> tuple[dict[str, Any], Any]:
    """The settings form as typed (to show again) and as TownSettingsIn; InvalidInput
    (with the form's values) when the API would refuse it."""
    from chalicelib.api.http import validated
    from chalicelib.schemas.admin import TownSettingsIn

    f = req.form().fields
    # Every checked language: the form's parser keeps only a field's last value.
    locales = [v for k, v in req.pairs() if k == "locales"]
    values: dict[str, Any] = {name: f.get(name, "").strip() for name in
                              (*_TOWN_FIELDS, *_BRANDING_FIELDS)}
    values["photo_limit"] = _whole(values["photo_limit"])
    values["locales"] = locales
    # Open data: the services whose points are blurred to the grid (every ticked box).
    values["open_data_grid_m"] = _whole(f.get("open_data_grid_m", ""))
    values["sensitive_services"] = [v for k, v in req.pairs() if k == "sensitive_services"]
    branding: dict[str, Any] = {name: values[name] or None for name in _BRANDING_FIELDS}
    for colour in ("primary_colour", "accent_colour"):
        if not branding[colour]:
            branding.pop(colour)  # the default colour
    body: dict[str, Any] = {name: values[name] or None for name in _TOWN_FIELDS} | {
        "name": values["name"], "photo_limit": values["photo_limit"],
        "locales": locales or None, "branding": branding}
    if body["photo_limit"] == "":
        body.pop("photo_limit")
    if values["open_data_grid_m"] != "":
        body["open_data_grid_m"] = values["open_data_grid_m"]
    body["sensitive_services"] = values["sensitive_services"]
    try:
        return values, validated(TownSettingsIn, body)
    except InvalidInput as e:
        raise _Refused(values, e) from None


class _Refused(Exception):
    """A settings form the API's body refuses, with the values to show again."""

    def __init__(self, values: dict[str, Any], error: InvalidInput) -> None:
        super().__init__("refused")
        self.values, self.error = values, error


@blueprint.route(TOWN, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def save_town(req: PageRequest, who: Principal) -> Response:
    from chalicelib.services import admin

    try:
        values, body = _posted_settings(req)
    except _Refused as refused:
        return _refused_settings(req, who, refused.values, refused.error)
    try:
        admin.update_settings(_ports(), who, body)
    except InvalidInput as e:  # checks beyond the body's own (none yet for these fields)
        return _refused_settings(req, who, values, e)
    _reaches_residents(who)
    return redirect(req, TOWN, saved=1)


@blueprint.route(TOWN + "/preview", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def preview_town(req: PageRequest, who: Principal) -> Response:
    """The resident home page with the settings form's values, not saved: the same
    checks as saving (``admin.preview_settings``), the town's own services and reports,
    and a banner that says it is a preview."""
    from chalicelib.services import admin, resident_site
    from chalicelib.web.pages import render, translations

    try:
        values, body = _posted_settings(req)
    except _Refused as refused:
        return _refused_settings(req, who, refused.values, refused.error)
    try:
        shown = admin.preview_settings(_ports(), who, body)
    except InvalidInput as e:
        return _refused_settings(req, who, values, e)
    c = bootstrap.container()
    req.for_town(shown)  # its colours, logo, name and languages as typed
    home = resident_site.home_page(c.towns, c.requests, c.alert_store, shown, c.now(), None,
                                   translations(req.language).gettext)
    return render(req, "console/admin/preview.html", home=home, search="")


@blueprint.route(TOWN + "/preview", methods=["GET"])
@staff
def preview_again(req: PageRequest, who: Principal) -> Response:
    # A link inside the preview (its language switcher) comes here: there is no form
    # to show again, so back to the settings.
    return redirect(req, TOWN)


def _refused_settings(req: PageRequest, who: Principal, values: dict[str, Any],
                      error: InvalidInput) -> Response:
    problems = [_town_field(p) for p in error.problems]
    return _town_form(req, who, values, list(dict.fromkeys(problems)))


def _town_field(problem: Problem) -> str:
    parts = problem.field.split(".")
    return parts[1] if parts[0] == "branding" and len(parts) > 1 else parts[0]


def _town_form(req: PageRequest, who: Principal, values: dict[str, Any], problems: list[str],
               *, saved: str = "", ways_typed: dict[str, str] | None = None,
               ways_problems: dict[str, str] | None = None) -> Response:
    """The settings screen: the ways in (as stored, or as typed when refused), then the
    settings form. ``ways_problems``: field → "invalid" or "taken" (another town's)."""
    from chalicelib.domain.towns import intake_address
    from chalicelib.web.pages import catalogue_languages

    town = req.town
    c = bootstrap.container()
    services = [(s.code, s.name) for s in c.town_store.get_catalogue(
        town.town_id, town.changeset).services] if town else []
    domain = c.settings.mail_intake_domain
    stored = c.town_store.get_town(town.town_id) if town else None  # not a minute-old copy
    ways = {"sms_number": stored.sms_number if stored else None,
            "intake_email": intake_address(stored, domain) if stored else None,
            "own_email": stored.intake_email if stored else None,
            "default_email": f"{stored.town_id}@{domain}" if stored and domain else None,
            "domain": domain}
    typed = ways_typed or {"sms_number": ways["sms_number"] or "",
                           "intake_email": ways["own_email"] or ""}
    ways_problems = ways_problems or {}
    return render_console(req, who, "console/admin/town.html",
                          status=400 if problems or ways_problems else 200, values=values,
                          problems=problems, offered=catalogue_languages(), saved=saved,
                          services=services, ways=ways, ways_typed=typed,
                          ways_problems=ways_problems)


# --- hours, holidays and emergency mode --------------------------------------------------------


@blueprint.route(HOURS, methods=["GET"])
@staff
def hours(req: PageRequest, who: Principal) -> Response:
    from chalicelib.services import admin

    town = admin.own_town(_ports(), who, Permission.CONFIGURE_TOWN)
    return _hours_page(req, who, town, saved=req.query.get("saved", "")[:20])


@blueprint.route(HOURS, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def save_hours(req: PageRequest, who: Principal) -> Response:
    """Opening hours per weekday (both times empty: closed that day)."""
    from chalicelib.domain.towns import WEEKDAYS
    from chalicelib.services import admin

    f = req.form().fields
    town = admin.own_town(_ports(), who, Permission.CONFIGURE_TOWN)
    week: dict[str, tuple[str, str] | None] = {}
    typed: dict[str, tuple[str, str]] = {}
    problems = []
    for day in WEEKDAYS:
        opens, closes = f.get(day + "_opens", "").strip(), f.get(day + "_closes", "").strip()
        typed[day] = (opens, closes)
        if not (opens or closes):
            week[day] = None
        elif not (_CLOCK.fullmatch(opens) and _CLOCK.fullmatch(closes)):
            problems.append(day + ("_closes" if _CLOCK.fullmatch(opens) else "_opens"))
        elif opens >= closes:
            problems.append(day + "_closes")
        else:
            week[day] = (opens, closes)
    if not problems:
        try:
            return _save_calendar(req, who, town, {"hours": week}, "hours")
        except InvalidInput:
            problems = ["hours"]
    return _hours_page(req, who, town, problems=problems, typed=typed)


@blueprint.route(HOURS + "/holidays", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def change_holidays(req: PageRequest, who: Principal) -> Response:
    """Add a holiday, remove one, or add the US federal holidays of a year."""
    from datetime import date

    from chalicelib.services import admin

    f = req.form().fields
    town = admin.own_town(_ports(), who, Permission.CONFIGURE_TOWN)
    holidays = [d.isoformat() for d in town.calendar.holidays]
    if f.get("remove"):
        if f["remove"] not in holidays:
            return redirect(req, HOURS)  # already gone (another tab, another admin)
        holidays.remove(f["remove"])
        return _save_calendar(req, who, town, {"holidays": holidays}, "removed")
    if f.get("federal_year"):
        year = _whole(f["federal_year"])
        if not isinstance(year, int) or not 2000 <= year <= 2100:
            return _hours_page(req, who, town, problems=["federal_year"])
        return _save_calendar(req, who, town, {
            "holidays": [d for d in holidays if d.startswith(f"{year}-")], "year": year,
            "us_federal_holidays": True}, "federal")
    day = f.get("holiday", "").strip()
    try:
        new = date.fromisoformat(day).isoformat()
    except ValueError:
        return _hours_page(req, who, town, problems=["holiday"], holiday=day[:20])
    if new in holidays:
        return _hours_page(req, who, town, problems=["holiday_twice"], holiday=new)
    try:
        return _save_calendar(req, who, town, {"holidays": [*holidays, new]}, "added")
    except InvalidInput:  # a year the service's date parser refuses (before 1970, say)
        return _hours_page(req, who, town, problems=["holiday"], holiday=new)


def _save_calendar(req: PageRequest, who: Principal, town: Any, change: dict[str, Any],
                   saved: str) -> Response:
    """The whole calendar, as CalendarIn wants it: what is not changed is sent as it is."""
    from chalicelib.api.http import validated
    from chalicelib.schemas.admin import TownSettingsIn
    from chalicelib.services import admin

    calendar = {"hours": {d: list(h) if h else None for d, h in town.calendar.hours.items()},
                "holidays": [d.isoformat() for d in town.calendar.holidays]} | change
    admin.update_settings(_ports(), who, validated(TownSettingsIn, {"calendar": calendar}))
    _reaches_residents(who)
    return redirect(req, HOURS, saved=saved)


@blueprint.route(HOURS + "/emergency", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def save_emergency(req: PageRequest, who: Principal) -> Response:
    """Emergency mode on or off, and per service what it does meanwhile: nothing, pause
    the clock, or another target."""
    from chalicelib.api.http import validated
    from chalicelib.schemas.admin import TownSettingsIn
    from chalicelib.services import admin

    f = req.form().fields
    town = admin.own_town(_ports(), who, Permission.CONFIGURE_TOWN)
    services: dict[str, Any] = {}
    typed: dict[str, tuple[str, str, str]] = {}
    for code in [v for k, v in req.pairs() if k == "service"][:100]:
        choice = f.get(f"e_{code}", "usual")
        amount, unit = f.get(f"e_{code}_amount", "").strip(), f.get(f"e_{code}_unit", "")
        typed[code] = (choice, amount, unit)
        if choice == "paused":
            services[code] = None
        elif choice == "target":
            services[code] = {"amount": amount, "unit": unit}
    body = {"sla": {"ladder": [{"at": at, "notify": notify} for at, notify in town.sla_ladder],
                    "emergency": {"active": f.get("emergency") == "on",
                                  "services": services}}}
    try:
        admin.update_settings(_ports(), who, validated(TownSettingsIn, body))
    except InvalidInput as e:
        problems = [_emergency_field(p) for p in e.problems]
        return _hours_page(req, who, town, problems=list(dict.fromkeys(problems)),
                           emergency_typed=typed)
    _reaches_residents(who)
    return redirect(req, HOURS, saved="emergency")


def _emergency_field(problem: Problem) -> str:
    parts = problem.field.split(".")  # sla.emergency.services.<code>.amount
    return f"e_{parts[3]}_amount" if len(parts) > 3 and parts[2] == "services" \
        else "emergency"


def _hours_page(req: PageRequest, who: Principal, town: Any, *, saved: str = "",
                problems: list[str] | None = None, typed: dict[str, tuple[str, str]] | None
                = None, holiday: str = "", emergency_typed: dict[str, tuple[str, str, str]]
                | None = None) -> Response:
    from chalicelib.domain.sla import UNITS
    from chalicelib.domain.towns import WEEKDAYS
    from chalicelib.services import admin

    problems = problems or []
    week = typed or {day: tuple(town.calendar.hours.get(day) or ("", ""))
                     for day in WEEKDAYS}
    catalogue = admin.catalogue_of(_ports(), town)
    emergency = emergency_typed or {
        code: ("paused", "", "business_hours") if target is None else
        ("target", f"{target.amount:g}", target.unit)
        for code, target in town.emergency_services.items()}
    services = [s for s in catalogue.services if s.active or s.code in emergency]
    this_year = bootstrap.container().now().astimezone(town.zone).year
    return render_console(
        req, who, "console/admin/hours.html", status=400 if problems else 200,
        week=week, weekdays=WEEKDAYS, holidays=town.calendar.holidays, problems=problems,
        saved=saved, holiday=holiday, years=(this_year, this_year + 1), units=UNITS,
        emergency_on=town.emergency_active, emergency=emergency, services=services)


