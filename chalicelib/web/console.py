"""The staff console's foundation: who is signed in, and signing in.

A member of staff's session is their ID token (Cognito's in the cloud; locally one the
runner signed) in an HttpOnly cookie, checked on every screen exactly as the JSON API
checks its bearer token (``tokens.verify``, then the staff record: ``roster.confirm``), so
a removed or demoted person is refused within a minute and a screen can never show more
than the API would. Each console screen is ``@staff_page`` and gets the :class:`Principal`
besides the :class:`PageRequest`; services decide what it may see or do.

Signing in: locally (``make run``), a development page lists the demo people by role
(only when the runner gave their tokens, never in Lambda: ``config``); in the cloud, the
user pool's hosted sign-in page (``console_signin``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.access import Permission
from chalicelib.domain.errors import Town311Error, Unauthenticated
from chalicelib.web.pages import (
    FORM_CONTENT_TYPES,
    PageRequest,
    error_page,
    page_view,
    redirect,
    render,
)

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal

blueprint = Blueprint(__name__)
page = page_view(blueprint)

STAFF_COOKIE = "t311_staff"
_TOKEN = re.compile(r"[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+")
# Where the console may send someone back to after signing in: its own screens only.
_NEXT = re.compile(r"/console(?:/[A-Za-z0-9_./-]{0,200})?(?:\?[A-Za-z0-9_=&%.-]{0,300})?")

# The console's screens, as the menu lists them: (label, path, any of these permissions).
# A screen area adds its line here; the menu shows a person what their role allows.
MENU: list[tuple[str, str, frozenset[Permission]]] = [
    ("My inbox", "/console/inbox", frozenset({Permission.WORK_REQUESTS})),
    ("Dashboard", "/console/dashboard", frozenset({Permission.READ_REQUESTS})),
    ("All requests", "/console/requests", frozenset({Permission.READ_REQUESTS,
                                                    Permission.READ_DEPARTMENT_REQUESTS})),
    ("Enter a request", "/console/requests/new", frozenset({Permission.ENTER_REQUESTS})),
    ("Services", "/console/admin/services", frozenset({Permission.EDIT_CATALOGUE})),
    ("Answers", "/console/admin/answers", frozenset({Permission.EDIT_CATALOGUE})),
    ("Town settings", "/console/admin/town", frozenset({Permission.CONFIGURE_TOWN})),
    ("Hours and holidays", "/console/admin/town/hours", frozenset({Permission.CONFIGURE_TOWN})),
    ("Staff and roles", "/console/admin/staff", frozenset({Permission.MANAGE_STAFF})),
    ("API keys", "/console/admin/api-keys", frozenset({Permission.MANAGE_API_KEYS})),
    ("Audit log", "/console/admin/audit", frozenset({Permission.READ_AUDIT_LOG})),
    ("Export the town", "/console/admin/export", frozenset({Permission.EXPORT_TOWN})),
    ("Departments", "/console/admin/departments", frozenset({Permission.CONFIGURE_TOWN})),
    ("Zones", "/console/admin/zones", frozenset({Permission.CONFIGURE_TOWN})),
    ("Routing rules", "/console/admin/routing", frozenset({Permission.CONFIGURE_TOWN})),
    ("Places (gazetteer)", "/console/admin/places", frozenset({Permission.CONFIGURE_TOWN})),
    ("Emergency alerts", "/console/alerts", frozenset({Permission.SEND_ALERTS,
                                                      Permission.APPROVE_ALERTS})),
    ("Towns", "/console/towns", frozenset({Permission.MANAGE_TOWNS})),
]


def staff_token(req: PageRequest) -> str | None:
    token = req.cookies.get(STAFF_COOKIE, "")
    return token if _TOKEN.fullmatch(token) else None


def signed_in(req: PageRequest) -> Principal:
    """The member of staff behind this browser, checked as the API checks a bearer token
    (Unauthenticated when there is none, or it expired, or the person is no longer staff)."""
    token = staff_token(req)
    if token is None:
        raise Unauthenticated("sign in to the staff console")
    c = bootstrap.container()
    who = c.roster.confirm(c.tokens.verify(token, req.source_ip))
    if who.town_id is not None:
        from chalicelib.services import directory

        req.for_town(directory.find_town(c.towns, who.town_id))
    else:
        # A platform operator has no town to take a language from: any the pages are
        # translated into, English first (?lang=, the cookie, then Accept-Language).
        from chalicelib.web.pages import catalogue_languages

        req.choose_language(list(catalogue_languages()))
    return who


def safe_next(target: str | None) -> str:
    """A console path to return to, or the console's home (never another site)."""
    return target if target and _NEXT.fullmatch(target) and "//" not in target \
        and ".." not in target else "/console"


def staff_page(blueprint: Blueprint) -> Callable[[Callable[..., Response]],
                                                 Callable[..., Response]]:
    """A console screen: called with the PageRequest and the signed-in Principal. Without
    a valid session the browser goes to the sign-in page (and comes back); a domain error
    is a page in the town's branding, as on the resident pages."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(**params: str) -> Response:
            req = PageRequest(blueprint)
            try:
                who = signed_in(req)
            except Unauthenticated:
                path = str(req.context.get("resourcePath") or "/console")
                for name, value in params.items():
                    path = path.replace(f"{{{name}}}", value)
                return redirect(req, "/console/sign-in", next=safe_next(path))
            try:
                return view(req, who, **params)
            except Town311Error as e:
                return error_page(req, e)

        return wrapper

    return decorate


def render_console(req: PageRequest, who: Principal, template: str, **context: Any
                   ) -> Response:
    """A console screen, with the menu of what this person may open."""
    menu = [(label, path) for label, path, needs in MENU if needs & who.permissions]
    # Signing out ends at the pool's /logout: browsers hold a form's redirects to the
    # page's form-action too.
    domain = bootstrap.container().settings.cognito_domain
    headers = {"form_action": (domain.rstrip("/"),)} if domain and _at_the_pool() else None
    return render(req, template, who=who, menu=menu, headers=headers, **context)


# --- signing in ----------------------------------------------------------------------------


def _demo_people() -> dict[str, dict[str, Any]]:
    """The demo people `make run` wrote, by role ({} when this is not a local run)."""
    file = bootstrap.container().settings.dev_sign_in_file
    if not file:
        return {}
    try:
        logins = json.loads(Path(file).read_text(encoding="utf-8")).get("logins") or {}
    except (OSError, ValueError):
        return {}
    return {role: person for role, person in logins.items() if isinstance(person, dict)}


@blueprint.route("/console/sign-in", methods=["GET"])
@page
def sign_in_page(req: PageRequest) -> Response:
    target = safe_next(req.query.get("next"))
    if _at_the_pool():
        return redirect(req, "/console/sign-in/pool", next=target)  # console_signin
    people = _demo_people()
    if people:
        return render(req, "console/dev_sign_in.html", people=people, next=target)
    return render(req, "console/no_sign_in.html", status=503)


@blueprint.route("/console/sign-in", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@page
def dev_sign_in(req: PageRequest) -> Response:
    """Local runs only: sign in as one of the demo people (their token, as the runner
    signed it, checked like any other before it is kept)."""
    form = req.form()
    person = _demo_people().get(form.fields.get("role", ""))
    if person is None:
        raise Unauthenticated("no demo person by that role (is this `make run`?)")
    token = str(person.get("token", ""))
    c = bootstrap.container()
    c.roster.confirm(c.tokens.verify(token, req.source_ip))
    keep_session(req, token, int(person.get("ttl_seconds", 12 * 3600)))
    return redirect(req, safe_next(form.fields.get("next")))


def keep_session(req: PageRequest, token: str, seconds: int) -> None:
    """The staff session: the ID token in an HttpOnly cookie, for the token's life at most
    (it is checked on every screen anyway)."""
    req.set_cookie(STAFF_COOKIE, token, max_age=max(60, min(seconds, 12 * 3600)),
                   same_site="Lax")


@blueprint.route("/console/sign-out", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@page
def sign_out(req: PageRequest) -> Response:
    req.form()
    req.set_cookie(STAFF_COOKIE, "", max_age=0, same_site="Lax")
    if _at_the_pool():  # and out of the pool's session too (console_signin)
        return redirect(req, "/console/sign-out/pool")
    return redirect(req, "/console/sign-in", signed_out=1)


def _at_the_pool() -> bool:
    """Staff sign in at the user pool's hosted page (the cloud: chalicelib.web.
    console_signin), not at the development page of `make run`."""
    settings = bootstrap.container().settings
    return bool(settings.cognito_domain) and not settings.dev_sign_in_file


# --- the console's home --------------------------------------------------------------------


@blueprint.route("/console", methods=["GET"])
@staff_page(blueprint)
def home(req: PageRequest, who: Principal) -> Response:
    return render_console(req, who, "console/home.html")
