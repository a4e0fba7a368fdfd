"""The town's answers in the console (town admins): the list, add, change and remove. Each
screen calls the service the admin JSON API calls (``services.knowledge``: the permission
is decided there, every change audited); a form is read into the API's own body
(``ArticleIn``), so a page stores nothing the API would refuse, and a refused form comes
back with the problem next to each field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import InvalidInput
from chalicelib.web.console import render_console, staff_page
from chalicelib.web.pages import FORM_CONTENT_TYPES, PageRequest, redirect

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
    from chalicelib.domain.knowledge import Article
    from chalicelib.services.knowledge import KnowledgePorts

blueprint = Blueprint(__name__)
staff = staff_page(blueprint)

ANSWERS = "/console/admin/answers"
FIELDS = ("question", "answer", "language", "keywords", "owner_name", "owner_phone",
          "owner_url", "topic")


def _ports() -> KnowledgePorts:
    return bootstrap.container().knowledge_ports


@blueprint.route(ANSWERS, methods=["GET"])
@staff
def answers(req: PageRequest, who: Principal) -> Response:
    from chalicelib.services import knowledge

    listed = knowledge.list_articles(_ports(), who)
    return render_console(req, who, "console/answers/list.html", listed=listed,
                          saved=req.query.get("saved", "")[:20])


@blueprint.route(ANSWERS + "/new", methods=["GET"])
@staff
def new_answer(req: PageRequest, who: Principal) -> Response:
    from chalicelib.services import knowledge

    listed = knowledge.list_articles(_ports(), who)
    blank = dict.fromkeys(FIELDS, "") | {"language": req.language}
    return _form(req, who, listed, blank, None)


@blueprint.route(ANSWERS + "/new", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@staff
def add_answer(req: PageRequest, who: Principal) -> Response:
    from chalicelib.services import knowledge

    typed = _typed(req)
    try:
        knowledge.create_article(_ports(), who, _body(typed))
    except InvalidInput as e:
        return _form(req, who, knowledge.list_articles(_ports(), who), typed, None, e)
    return redirect(req, ANSWERS, saved="added")


@blueprint.route(ANSWERS + "/edit/{article_id}", methods=["GET"])
@staff
def edit_answer(req: PageRequest, who: Principal, article_id: str) -> Response:
    from chalicelib.services import knowledge

    found = knowledge.get_article(_ports(), who, article_id[:80])
    return _form(req, who, knowledge.list_articles(_ports(), who), _as_typed(found),
                 found.article_id)


@blueprint.route(ANSWERS + "/edit/{article_id}", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@staff
def change_answer(req: PageRequest, who: Principal, article_id: str) -> Response:
    from chalicelib.services import knowledge

    typed = _typed(req)
    try:
        knowledge.update_article(_ports(), who, article_id[:80], _body(typed))
    except InvalidInput as e:
        return _form(req, who, knowledge.list_articles(_ports(), who), typed,
                     article_id[:80], e)
    return redirect(req, ANSWERS, saved="changed")


@blueprint.route(ANSWERS + "/edit/{article_id}/delete", methods=["POST"],
                 content_types=FORM_CONTENT_TYPES)
@staff
def delete_answer(req: PageRequest, who: Principal, article_id: str) -> Response:
    from chalicelib.services import knowledge

    req.form()  # the CSRF check
    knowledge.delete_article(_ports(), who, article_id[:80])
    return redirect(req, ANSWERS, saved="deleted")


def _typed(req: PageRequest) -> dict[str, str]:
    fields = req.form().fields
    return {name: fields.get(name, "")[:60_000] for name in FIELDS}


def _as_typed(article: Article) -> dict[str, str]:
    return {"question": article.question, "answer": article.answer,
            "language": article.language, "keywords": ", ".join(article.keywords),
            "owner_name": article.owner.name, "owner_phone": article.owner.phone or "",
            "owner_url": article.owner.url or "",
            "topic": article.topic if article.topic != article.article_id else ""}


def _body(typed: dict[str, str]) -> Any:
    """The form as the API's ArticleIn (InvalidInput naming each field the API would)."""
    from chalicelib.api.http import validated
    from chalicelib.schemas.knowledge import ArticleIn

    owner = {"name": typed["owner_name"], "phone": typed["owner_phone"].strip() or None,
             "url": typed["owner_url"].strip() or None}
    return validated(ArticleIn, {
        "question": typed["question"], "answer": typed["answer"],
        "language": typed["language"], "owner": owner, "topic": typed["topic"] or None,
        "keywords": [k.strip() for k in typed["keywords"].split(",") if k.strip()]})


def _field_of(problem_field: str) -> str:
    """The form field an ArticleIn problem is about ("owner.url" → owner_url)."""
    parts = problem_field.split(".")
    if parts[0] == "owner":
        return "owner_" + parts[1] if len(parts) > 1 and parts[1] in ("phone", "url") \
            else "owner_name"
    return parts[0] if parts[0] in FIELDS else "question"


def _form(req: PageRequest, who: Principal, listed: list[Article], typed: dict[str, str],
          article_id: str | None, error: InvalidInput | None = None) -> Response:
    problems = list(dict.fromkeys(_field_of(p.field) for p in error.problems)) if error else []
    topics = [a for a in listed if a.article_id != article_id and not a.topic]
    return render_console(req, who, "console/answers/form.html",
                          status=400 if problems else 200, typed=typed,
                          article_id=article_id, problems=problems, topics=topics)
