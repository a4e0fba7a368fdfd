"""The town's answers for residents: every answer (``/towns/{town}/answers``), one answer's
page (``/towns/{town}/answers/{article_id}``) in the reader's language where the town wrote
it, and its "Did this answer your question? Yes", which counts an information request
(channel ``web``) once a day per browser and answer. The "What's the problem?" searches
(home.py, report.py) list the answers that fit a resident's words and link here.
"""

from __future__ import annotations

import re
import secrets

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.web.pages import (
    FORM_CONTENT_TYPES,
    PageRequest,
    find_town,
    page_view,
    redirect,
    render,
)

blueprint = Blueprint(__name__)
page = page_view(blueprint)

BASE = "/towns/{town}/answers"
# A random id of this browser, only to count its "Yes" once a day (not a session: it
# opens nothing). HttpOnly; kept a year.
BROWSER_COOKIE = "t311_browser"
_BROWSER = re.compile(r"[A-Za-z0-9_-]{16,64}")
_YEAR = 365 * 24 * 3600


@blueprint.route(BASE, methods=["GET"])
@page
def index(req: PageRequest, town: str) -> Response:
    from chalicelib.services import knowledge

    place = find_town(req, town)
    answers = knowledge.answers_index(bootstrap.container().knowledge_ports, place.town_id,
                                      req.language)
    return render(req, "answers/index.html", answers=answers)


@blueprint.route(BASE + "/{article_id}", methods=["GET"])
@page
def article(req: PageRequest, town: str, article_id: str) -> Response:
    from chalicelib.services import knowledge

    place = find_town(req, town)
    shown = knowledge.article_page(bootstrap.container().knowledge_ports, place.town_id,
                                   article_id[:80], req.language)
    if not _BROWSER.fullmatch(req.cookies.get(BROWSER_COOKIE, "")):
        req.set_cookie(BROWSER_COOKIE, secrets.token_urlsafe(16), max_age=_YEAR,
                       same_site="Lax")
    return render(req, "answers/article.html", article=shown,
                  thanks=req.query.get("helped") == "1")


@blueprint.route(BASE + "/{article_id}", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@page
def helped(req: PageRequest, town: str, article_id: str) -> Response:
    """"Yes, this answered my question": counted once a day for this browser."""
    from chalicelib.services import knowledge

    place = find_town(req, town)
    req.form()  # the CSRF check; the form carries nothing else
    browser = req.cookies.get(BROWSER_COOKIE, "")
    if not _BROWSER.fullmatch(browser):
        browser = req.csrf_token  # cookies kept for the session only: this session
    knowledge.answered_on_web(bootstrap.container().knowledge_ports, place.town_id,
                              article_id[:80], browser)
    return redirect(req, f"/towns/{place.town_id}/answers/{article_id[:80]}", helped=1)
