"""The console's work screens: my departments' inbox, the town-wide list of requests with
its filters, and one request's page with every action of the department API.

Each screen calls the service its JSON route calls (``/departments/{d}/requests`` →
``work.department_queue``, ``/staff/requests`` → ``staff.search``, ``/staff/requests/{id}``
→ ``staff.open_request``, the department actions → ``work.act``) and shows the same
document that route answers, so a screen never shows a person more than the API would and
never decides who may do what: the services refuse (a 403 or 404 page).

Which actions a request's page offers follows the lifecycle's transitions
(``domain.lifecycle.TRANSITIONS``): a form the lifecycle would refuse is not shown; one
that the service refuses anyway (someone acted meanwhile) is explained above the forms.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, Problem
from chalicelib.web.console import render_console, staff_page
from chalicelib.web.pages import FORM_CONTENT_TYPES, PageRequest, redirect

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
    from chalicelib.domain.catalogue import Catalogue
    from chalicelib.domain.requests import ServiceRequest
    from chalicelib.domain.towns import Town
    from chalicelib.services.work import Action

blueprint = Blueprint(__name__)
staff = staff_page(blueprint)

INBOX_SIZE = 200  # the oldest this many per department: an inbox longer is a backlog
REQUEST = "/console/requests/{request_id}"
# The department actions, in the order the page offers them.
ACTIONS = ("acknowledge", "accept", "hold", "note", "decline", "hand_off", "close", "reopen")


def _town(req: PageRequest) -> Town:
    if req.town is None:  # a platform operator: no town's requests to work
        from chalicelib.domain.errors import AccessDenied

        raise AccessDenied("your sign-in belongs to no town")
    return req.town


def _catalogue(town: Town) -> Catalogue:
    from chalicelib.services import directory

    return directory.catalogue_of(bootstrap.container().towns, town)


def _clock(req: PageRequest, town: Town) -> dict[str, Any]:
    """Times in the town's zone and the reader's language, and what "overdue" means: open
    past its expected time (as the service-level figures count it)."""
    from babel.dates import format_datetime

    now = bootstrap.container().now()

    def when(value: str | None) -> str | None:
        if not value:
            return None
        return format_datetime(datetime.fromisoformat(value), "medium", tzinfo=town.zone,
                               locale=req.language)

    def overdue(doc: dict[str, Any]) -> bool:
        due = doc.get("expected_datetime")
        return doc.get("status") == "open" and isinstance(due, str) and bool(due) and \
            datetime.fromisoformat(due) < now

    return {"when": when, "overdue": overdue}


# --- my departments' inbox -----------------------------------------------------------------


@blueprint.route("/console/inbox", methods=["GET"])
@staff
def inbox(req: PageRequest, who: Principal) -> Response:
    """Each of my departments' open work, oldest first. Supervisors and administrators,
    who work every department, choose one (the service refuses a department worker any
    department not theirs)."""
    from chalicelib.schemas.open311_documents import request_document
    from chalicelib.services import work

    town = _town(req)
    catalogue = _catalogue(town)
    asked = req.query.get("department", "")[:40] or None
    chosen = [asked] if asked else sorted(who.departments) or [
        (catalogue.routing.triage if catalogue.routing else "triage")]
    c = bootstrap.container()
    queues = []
    for code in chosen:
        page = work.department_queue(c.routing_ports, who, code, None, INBOX_SIZE, None)
        items = [request_document(r, town.zone, extensions=True, staff=True)
                 | {"lifecycle": r.lifecycle} for r in page.items]
        department = catalogue.department(code)
        queues.append({"code": code, "name": department.name if department else code,
                       "requests": items, "has_more": page.has_more,
                       "counts": sorted(Counter(i["lifecycle"] for i in items).items())})
    return render_console(req, who, "console/work/inbox.html", queues=queues,
                          departments=[(d.code, d.name) for d in catalogue.departments],
                          own=bool(who.departments), asked=asked,
                          done=req.query.get("done", "")[:20], **_clock(req, town))


# --- the town-wide list --------------------------------------------------------------------

_FILTERS = ("status", "service_code", "department", "zone", "channel", "overdue", "disputed",
            "q", "start_date", "end_date")
# Every way a request reaches the town, in the order the filter offers them.
CHANNELS = ("open311", "web", "sms", "phone", "counter", "walk_in", "email", "field",
            "social")


def _filter_problems(req: PageRequest, problems: list[Problem]) -> dict[str, str]:
    """Each refused filter with what to do about it, in the reader's language (the wire
    model's own words are for API clients)."""
    say = req.gettext
    wording = {"start_date": say("Enter a date, like 2026-11-20"),
               "end_date": say("Enter a date, like 2026-11-20"),
               "q": say("Use at most 100 characters"),
               "page": say("Go back to the first page")}
    return {p.field: wording.get(p.field, say("Choose one of the listed values"))
            for p in problems}


def _map_points(req: PageRequest, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page's requests that have a point, as the markers ``map.js`` draws (the same
    shape as the resident map's, with a link to each request's console page)."""
    from chalicelib.web.pages import translations

    name = translations(req.language).gettext
    status = {"open": req.gettext("open"), "closed": req.gettext("closed")}
    return [{"lat": r["lat"], "long": r["long"], "service": name(r["service_name"]),
             "status": r["status"], "status_text": status.get(r["status"], r["status"]),
             "address": r.get("address") or "",
             "number": r["extended_attributes"].get("tracking_number")
             or r["service_request_id"],
             "link": req.url(f"/console/requests/{r['service_request_id']}")}
            for r in items if r.get("lat") is not None and r.get("long") is not None]


@blueprint.route("/console/requests", methods=["GET"])
@staff
def requests(req: PageRequest, who: Principal) -> Response:
    """Every request the person may read (department workers: their departments'),
    filtered as GET /staff/requests filters, a page at a time; with ``view=map``, the
    page's requests on a map above the same table (the table stays: it is the map's
    accessible equivalent, and all there is without JavaScript)."""
    from chalicelib.api.http import validated
    from chalicelib.schemas import admin as wire
    from chalicelib.schemas.open311_documents import request_document
    from chalicelib.services import staff as staff_service

    town = _town(req)
    catalogue = _catalogue(town)
    asked = {name: req.query.get(name, "")[:100] for name in (*_FILTERS, "page")}
    on_map = req.query.get("view", "") == "map"
    context: dict[str, Any] = {
        "asked": asked, "errors": {}, "items": [], "has_more": False, "page": 1,
        "on_map": on_map, "points": [], "channels_list": CHANNELS,
        "query": {k: v for k, v in asked.items() if v and k != "page"},
        "services": [(s.code, s.name) for s in catalogue.services],
        "departments": [(d.code, d.name) for d in catalogue.departments],
        "zones": [(z.code, z.name) for z in catalogue.zones], **_clock(req, town)}
    try:
        search = validated(wire.StaffSearch, {**{k: v for k, v in asked.items() if v},
                                              "page_size": 25})
    except InvalidInput as e:
        context["errors"] = _filter_problems(req, list(e.problems))
        return render_console(req, who, "console/work/requests.html", status=400, **context)
    c = bootstrap.container()
    page = staff_service.search(c.towns, c.requests, who, search, c.now())
    items = [request_document(r, town.zone, extensions=True, staff=True)
             | {"department": r.department} for r in page.items]
    context.update(items=items, has_more=page.has_more, page=search.page,
                   points=_map_points(req, items) if on_map else [])
    return render_console(req, who, "console/work/requests.html", **context)


# --- bulk actions on a selection of the list -------------------------------------------------

BULK_MAX = 50  # a page of the list is 25; a selection is never a whole town


@blueprint.route("/console/requests/bulk", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def bulk(req: PageRequest, who: Principal) -> Response:
    """The requests ticked on the list, each through the call its own page makes: "close
    as duplicate of" → ``tracking.merge``, "hand off to" → ``work.act`` (with the department
    the list showed, so one moved meanwhile is refused, not moved twice). One item refused
    does not stop the others; the page says what became of each. The result is shown, not
    redirected to: it is a report of this post (posting it again changes nothing more —
    merges are idempotent and a handed-off request is no longer where the form says)."""
    from chalicelib.api.http import validated
    from chalicelib.domain.errors import Town311Error
    from chalicelib.schemas import tracking as tracking_wire
    from chalicelib.schemas import work as work_wire
    from chalicelib.services import tracking, work
    from chalicelib.services.work import Action

    town = _town(req)
    form = req.form()
    picked = [(name[5:][:64], department[:40]) for name, department in form.fields.items()
              if name.startswith("pick-")][:BULK_MAX]
    how = form.fields.get("bulk", "")[:20]
    c = bootstrap.container()
    problems: list[Problem] = []
    if not picked:
        problems.append(Problem("pick", "tick at least one request"))
    parent_id = ""
    try:
        if how == "duplicate":
            into = form.fields.get("into", "").strip().lstrip("#")[:64]
            validated(tracking_wire.MergeIn, {"into": into})
            parent_id = tracking.find(c.requests, town, into).request_id
        elif how == "hand_off":
            off = validated(work_wire.HandOffIn, {
                "department": form.fields.get("to", "").strip()[:40],
                "reason": form.fields.get("reason", "").strip() or None})
        else:
            problems.append(Problem("bulk", "choose what to do with the requests"))
    except (InvalidInput, NotFound) as e:
        problems += list(getattr(e, "problems", ()) or ()) or [Problem(how, str(e))]
    results: list[dict[str, str]] = []
    if not problems:
        for request_id, department in picked:
            try:
                if how == "duplicate":
                    tracking.merge(c.tracking_ports, who, request_id, parent_id, None)
                else:
                    work.act(c.routing_ports, who, department, request_id,
                             Action("hand_off", note=off.reason, department=off.department))
            except Town311Error as e:
                found = list(getattr(e, "problems", ()) or ())
                results.append({"id": request_id, "done": "",
                                "why": "; ".join(p.message for p in found) or str(e)})
            else:
                results.append({"id": request_id, "done": how, "why": ""})
    status = 400 if problems else 200
    return render_console(req, who, "console/work/bulk.html", status=status,
                          problems=problems, results=results, how=how)


# --- one request ---------------------------------------------------------------------------


def _request_page(req: PageRequest, who: Principal, request_id: str, *, status: int = 200,
                  problems: list[Problem] | None = None, failed: str | None = None
                  ) -> Response:
    from chalicelib.domain import lifecycle
    from chalicelib.domain.access import Permission
    from chalicelib.schemas.admin_documents import staff_request_document
    from chalicelib.services import staff as staff_service

    town = _town(req)
    c = bootstrap.container()
    found = staff_service.open_request(c.requests, who, request_id[:64])
    document = staff_request_document(found, town.zone)
    catalogue = _catalogue(town)
    state = found.lifecycle
    # The forms the lifecycle allows from here (a note at any time); none for a reader who
    # does not work requests, or for a request no department holds yet.
    works = Permission.WORK_REQUESTS in who.permissions and bool(found.department)
    offered = [a for a in ACTIONS if works and (
        a == "note" or state in lifecycle.TRANSITIONS[a][0])]
    clock = _clock(req, town)
    return render_console(
        req, who, "console/work/request.html", status=status, doc=document,
        duplicates=_nearby(who, town, found) if status < 500 else [],
        timeline=[{**e, "when": clock["when"](e["at"])} for e in reversed(document["timeline"])],
        offered=offered, state=state, resolutions=lifecycle.RESOLUTIONS,
        escalation_level=found.escalation_level,
        next_step=clock["when"](found.next_sla_at.isoformat()) if found.next_sla_at else None,
        departments=[(d.code, d.name) for d in catalogue.departments
                     if d.code != found.department],
        service_names={s.code: s.name for s in catalogue.services},
        problems=problems or [], failed=failed, done=req.query.get("done", "")[:20],
        **clock)


def _nearby(who: Principal, town: Town, found: ServiceRequest) -> list[dict[str, Any]]:
    """Open requests of the same service close by (``duplicates.duplicates_in_town``, the
    possible-duplicates check), offered to whoever may merge; ``tracking.merge`` decides."""
    from chalicelib.domain.access import Permission
    from chalicelib.services import duplicates

    place = found.place
    if Permission.MERGE_REQUESTS not in who.permissions or found.status != "open" \
            or not place.has_point:
        return []
    c = bootstrap.container()
    try:
        check = duplicates.duplicates_in_town(c.nearby, c.towns, town, found.service_code,
                                              place.lat, place.long, c.now())  # type: ignore[arg-type]
    except InvalidInput:  # a retired service: nothing to suggest
        return []
    return [{"id": r.request_id, "number": r.tracking_number or r.request_id,
             "description": r.description, "address": r.place.address,
             "metres": round(distance), "requested_at": r.requested_at.isoformat()}
            for r, distance in check.matches if r.request_id != found.request_id]


@blueprint.route(REQUEST, methods=["GET"])
@staff
def request_page(req: PageRequest, who: Principal, request_id: str) -> Response:
    """The whole request as the staff document has it: timeline with internal notes,
    photos, the reporter's contact, followers, the service-level clock, and the forms."""
    return _request_page(req, who, request_id)


def _action(name: str, fields: dict[str, str]) -> Action:
    """The posted form as the department API's body for the action, validated by the same
    wire models (so a page and a JSON client are held to the same limits)."""
    from chalicelib.api.http import validated
    from chalicelib.schemas import work as wire
    from chalicelib.services.work import Action

    def typed(field: str) -> str | None:
        return fields.get(field, "").strip() or None

    if name in ("acknowledge", "accept", "hold", "reopen"):
        return Action(name, note=validated(wire.StepIn, {"note": typed("note")}).note)
    if name == "note":
        note = validated(wire.NoteIn, {"text": typed("text") or "",
                                       "public": fields.get("public") == "yes"})
        return Action("note", note=note.text, public=note.public)
    if name == "decline":
        return Action("decline", note=validated(wire.DeclineIn,
                                                {"reason": typed("reason") or ""}).reason)
    if name == "hand_off":
        off = validated(wire.HandOffIn, {"department": typed("to") or "",
                                         "reason": typed("reason")})
        return Action("hand_off", note=off.reason, department=off.department)
    if name == "close":
        close = validated(wire.CloseIn, {"resolution": typed("resolution") or "",
                                         "note": typed("note")})
        return Action("close", note=close.note, resolution=close.resolution)
    raise InvalidInput.of([Problem("action", "is not an action on a request")])


@blueprint.route(REQUEST + "/act", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def act(req: PageRequest, who: Principal, request_id: str) -> Response:
    """One department action, as the department API takes it (``work.act``): the form
    names the department the page showed, so a request handed off meanwhile is refused
    rather than acted on elsewhere. A close may carry the "after" photo (multipart),
    sent on to the photo worker as a resident's no-JS photo is."""
    from chalicelib.services import photos, work

    c = bootstrap.container()
    if len(req.raw.raw_body or b"") > c.settings.max_body_bytes:
        raise InvalidInput.of([Problem("media", "the photo is too big to send here")])
    form = req.form()
    name = form.fields.get("action", "")[:20]
    department = form.fields.get("department", "")[:40]
    # The "after" photo, with a close only; its bytes are checked before the request
    # changes, so a file that is no photo leaves the request as it was.
    after = form.media.content if name == "close" and form.media else b""
    try:
        action = _action(name, form.fields)
        if after:
            photos.check_staff_photo(after)
        work.act(c.routing_ports, who, department, request_id[:64], action)
        if after:
            photos.receive_staff_photo(c.photo_work, c.photos, _town(req), who, department,
                                       request_id[:64], after)
    except (InvalidInput, Conflict) as e:
        problems = list(getattr(e, "problems", ()) or ()) or [Problem(name, str(e))]
        return _request_page(req, who, request_id, status=409 if isinstance(e, Conflict)
                             else 400, problems=problems, failed=name)
    if name in ("hand_off", "decline"):
        # It is another department's now: back to the inbox it left.
        return redirect(req, "/console/inbox", done=name)
    return redirect(req, f"/console/requests/{request_id[:64]}", done=name)


@blueprint.route(REQUEST + "/merge", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def merge(req: PageRequest, who: Principal, request_id: str) -> Response:
    """Close this request as a duplicate of another (``tracking.merge``, as POST
    /staff/requests/{id}/merge): its reporter and followers follow the other one."""
    from chalicelib.api.http import validated
    from chalicelib.schemas import tracking as wire
    from chalicelib.services import tracking

    form = req.form()
    try:
        body = validated(wire.MergeIn, {"into": form.fields.get("into", "")[:64],
                                        "note": form.fields.get("note", "").strip() or None})
        tracking.merge(bootstrap.container().tracking_ports, who, request_id[:64], body.into,
                       body.note)
    except (InvalidInput, Conflict) as e:
        problems = list(getattr(e, "problems", ()) or ()) or [Problem("merge", str(e))]
        return _request_page(req, who, request_id, status=409 if isinstance(e, Conflict)
                             else 400, problems=problems, failed="merge")
    return redirect(req, f"/console/requests/{request_id[:64]}", done="merge")


@blueprint.route(REQUEST + "/photos/{photo_id}", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@staff
def photo_visibility(req: PageRequest, who: Principal, request_id: str,
                     photo_id: str) -> Response:
    """Hide a photo from the public (faces, plates) or show it again: ``photos.set_hidden``,
    as POST /staff/requests/{id}/photos/{photo}/hide|show."""
    from chalicelib.services import photos

    form = req.form()
    hidden = form.fields.get("hidden") == "yes"
    photos.set_hidden(bootstrap.container().photo_work, who, request_id[:64], photo_id[:64],
                      hidden)
    return redirect(req, f"/console/requests/{request_id[:64]}",
                    done="hidden" if hidden else "shown")
