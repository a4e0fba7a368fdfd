"""Town administration in the console, the people side: staff and their roles, the API
keys of the town's integrations, the audit log and the town's export (a background job
whose page shows its progress, then a link to the file).

Each screen calls the service the admin JSON API calls (``services.admin`` and
``services.platform``: the permission checks are there, never here); forms are read into
the API's own bodies (``StaffIn``, ``ApiKeyIn``), so a page can store nothing the API
would refuse, and a refused form comes back with the problem next to each field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import InvalidInput, Problem
from chalicelib.web.console import render_console, staff_page
from chalicelib.web.pages import FORM_CONTENT_TYPES, PageRequest, redirect

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
    from chalicelib.domain.towns import ApiKey
    from chalicelib.services.admin import AdminPorts

blueprint = Blueprint(__name__)
staff = staff_page(blueprint)

STAFF = "/console/admin/staff"
KEYS = "/console/admin/api-keys"
AUDIT = "/console/admin/audit"
EXPORT = "/console/admin/export"
AUDIT_PAGE = 50  # entries a page of the audit log shows
# The roles a town gives (a town cannot make platform operators: StaffIn refuses it).
TOWN_ROLES = ("town_admin", "agent", "department_worker", "supervisor", "emergency_manager",
              "analyst")
SCOPES = ("submit", "updates")


def _ports() -> AdminPorts:
    return bootstrap.container().admin


# --- staff and roles -------------------------------------------------------------------------


@blueprint.route(STAFF, methods=["GET"])
@staff
def staff_list(req: PageRequest, who: Principal) -> Response:
    values = {"email": "", "name": "", "roles": [], "departments": []}
    return _staff_screen(req, who, values, [], saved=req.query.get("saved", "")[:20])


@blueprint.route(STAFF, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def add_member(req: PageRequest, who: Principal) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.domain.errors import Conflict
    from chalicelib.schemas.admin import StaffIn
    from chalicelib.services import admin

    f = req.form().fields
    pairs = req.pairs()
    values: dict[str, Any] = {
        "email": f.get("email", "").strip()[:320], "name": f.get("name", "").strip()[:200],
        "roles": [v for k, v in pairs if k == "roles"][:10],
        "departments": [v for k, v in pairs if k == "departments"][:25]}
    try:
        admin.add_staff(_ports(), who, validated(StaffIn, values))
    except InvalidInput as e:
        problems = list(dict.fromkeys(p.field.split(".")[0] for p in e.problems))
        return _staff_screen(req, who, values, problems)
    except Conflict:  # already on the staff: said next to the address, as a field problem
        return _staff_screen(req, who, values, ["email_taken"])
    return redirect(req, STAFF, saved="added")


@blueprint.route(STAFF + "/{user_id}/remove", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@staff
def remove_member(req: PageRequest, who: Principal, user_id: str) -> Response:
    from chalicelib.services import admin

    req.form()
    admin.remove_staff(_ports(), who, user_id[:200])
    return redirect(req, STAFF, saved="removed")


def _staff_screen(req: PageRequest, who: Principal, values: dict[str, Any],
                  problems: list[str], *, saved: str = "") -> Response:
    from chalicelib.services import admin

    members = admin.list_staff(_ports(), who)  # MANAGE_STAFF is checked here first
    _, catalogue = admin.read_town(_ports(), who)  # the departments to choose from
    departments = [(d.code, d.name) for d in catalogue.departments]
    return render_console(req, who, "console/people/staff.html",
                          status=400 if problems else 200, members=members, values=values,
                          problems=problems, roles=TOWN_ROLES, departments=departments,
                          saved=saved)


# --- API keys --------------------------------------------------------------------------------


@blueprint.route(KEYS, methods=["GET"])
@staff
def keys(req: PageRequest, who: Principal) -> Response:
    return _keys_screen(req, who, {"name": "", "scopes": ["submit"]}, [],
                        saved=req.query.get("saved", "")[:20])


@blueprint.route(KEYS, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def create_key(req: PageRequest, who: Principal) -> Response:
    from chalicelib.api.http import validated
    from chalicelib.schemas.admin import ApiKeyIn
    from chalicelib.services import admin

    f = req.form().fields
    values: dict[str, Any] = {"name": f.get("name", "").strip()[:200],
                              "scopes": [v for k, v in req.pairs() if k == "scopes"][:4]}
    try:
        key, secret = admin.create_api_key(_ports(), who, validated(ApiKeyIn, values))
    except InvalidInput as e:
        problems = list(dict.fromkeys(p.field.split(".")[0] for p in e.problems))
        return _keys_screen(req, who, values, problems)
    return _secret_shown_once(req, who, key, secret, rotated=False)


@blueprint.route(KEYS + "/{key_id}/rotate", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def rotate_key(req: PageRequest, who: Principal, key_id: str) -> Response:
    from chalicelib.services import admin

    req.form()
    key, secret = admin.rotate_api_key(_ports(), who, key_id[:100])
    return _secret_shown_once(req, who, key, secret, rotated=True)


@blueprint.route(KEYS + "/{key_id}/revoke", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def revoke_key(req: PageRequest, who: Principal, key_id: str) -> Response:
    from chalicelib.services import admin

    req.form()
    admin.revoke_api_key(_ports(), who, key_id[:100])
    return redirect(req, KEYS, saved="revoked")


def _secret_shown_once(req: PageRequest, who: Principal, key: ApiKey, secret: str, *,
                       rotated: bool) -> Response:
    # The one POST in the console that answers with a page instead of a 303: only the
    # secret's hash is kept, so the page after a redirect could not show it, and carrying
    # it there (a cookie, the URL) would put a live credential in the browser's history,
    # logs or storage. The page is sent with Cache-Control: no-store (``pages.render``
    # sends it with every page), so going Back or reloading never shows it from a cache.
    return render_console(req, who, "console/people/key_secret.html", status=201, key=key,
                          secret=secret, rotated=rotated)


def _keys_screen(req: PageRequest, who: Principal, values: dict[str, Any],
                 problems: list[str], *, saved: str = "") -> Response:
    from chalicelib.services import admin

    listed = admin.list_api_keys(_ports(), who)
    listed = sorted(listed, key=lambda k: (k.revoked, k.name.lower()))
    return render_console(req, who, "console/people/keys.html",
                          status=400 if problems else 200, keys=listed, values=values,
                          problems=problems, scopes=SCOPES, saved=saved)


# --- the audit log ---------------------------------------------------------------------------


@blueprint.route(AUDIT, methods=["GET"])
@staff
def audit(req: PageRequest, who: Principal) -> Response:
    from chalicelib.domain.instants import DateRefused, parse_instant
    from chalicelib.services import admin

    before = None
    if req.query.get("before"):
        try:
            before = parse_instant(req.query["before"][:40])
        except DateRefused as e:
            raise InvalidInput.of([Problem("before", str(e))]) from None
    entries = admin.read_audit_log(_ports(), who, before, AUDIT_PAGE)
    older = entries[-1].at.isoformat() if len(entries) == AUDIT_PAGE else None
    # The service has no text search (its store pages by time only): the filter looks
    # within the page shown, and the page says so; "Older" pages on through the whole log.
    words = req.query.get("q", "").strip()[:100]
    if words:
        entries = [e for e in entries if words.lower() in _searchable(e)]
    return render_console(req, who, "console/people/audit.html", entries=entries,
                          words=words, older=older, paged=before is not None)


def _searchable(entry: Any) -> str:
    import json

    return " ".join((entry.actor, entry.actor_kind, entry.action, entry.target,
                     entry.source_ip or "", json.dumps(entry.details, ensure_ascii=False,
                                                       default=str))).lower()


# --- the town's export -----------------------------------------------------------------------


@blueprint.route(EXPORT, methods=["GET"])
@staff
def export_page(req: PageRequest, who: Principal) -> Response:
    # Only a button: the service decides who may export when it is pressed (the menu
    # shows this screen only to those whose role allows it).
    return render_console(req, who, "console/people/export.html")


@blueprint.route(EXPORT, methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def export_start(req: PageRequest, who: Principal) -> Response:
    """Start the town's export (a background job: a town's file can take minutes) and show
    its progress. A POST (a button with the CSRF token), not a link: the export is recorded
    in the audit log, which another site must not be able to trigger."""
    from chalicelib.services import open_data

    req.form()
    job = open_data.request_town_export(bootstrap.container().open_data_ports, who)
    return redirect(req, f"{EXPORT}/{job.job_id}")


@blueprint.route(EXPORT + "/{job}", methods=["GET"])
@staff
def export_progress(req: PageRequest, who: Principal, job: str) -> Response:
    """The export's progress (console_export.js fetches the page again every 3 seconds and
    swaps the progress in; without script, a "Check now" link) until the file is written;
    then a link to it that works for five minutes (a new one each time it is shown)."""
    from chalicelib.domain.errors import NotFound
    from chalicelib.domain.exports import LINK_SECONDS, WHOLE_TOWN
    from chalicelib.services import open_data

    if who.town_id is None:
        raise NotFound("no such export")
    found, link = open_data.job_with_link(bootstrap.container().open_data_ports,
                                          who.town_id, job, WHOLE_TOWN, who)
    return render_console(req, who, "console/people/export_progress.html", job=found,
                          link=link, link_minutes=LINK_SECONDS // 60)
