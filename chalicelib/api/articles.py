"""The town admin's knowledge base API: ``/admin/articles`` (the town comes from the token;
the permission is decided by chalicelib.services.knowledge)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.http import body_as, caller, json_view, respond

if TYPE_CHECKING:
    from chalicelib.domain.knowledge import Article
    from chalicelib.services.knowledge import KnowledgePorts

blueprint = Blueprint(__name__)


def _ports() -> KnowledgePorts:
    return bootstrap.container().knowledge_ports


def document(article: Article) -> dict[str, Any]:
    """An article as JSON (what GET, POST and PUT answer)."""
    return {"article_id": article.article_id, "question": article.question,
            "answer": article.answer, "language": article.language,
            "keywords": list(article.keywords), "topic": article.topic_id,
            "owner": {"name": article.owner.name, "phone": article.owner.phone,
                      "url": article.owner.url},
            "updated_at": article.updated_at.isoformat() if article.updated_at else None}


@blueprint.route("/admin/articles", methods=["GET"])
@json_view
def list_articles() -> Response:
    from chalicelib.services import knowledge

    found = knowledge.list_articles(_ports(), caller(blueprint))
    return respond({"articles": [document(a) for a in found]})


@blueprint.route("/admin/articles", methods=["POST"])
@json_view
def create_article() -> Response:
    from chalicelib.schemas.knowledge import ArticleIn
    from chalicelib.services import knowledge

    who = caller(blueprint)
    article = knowledge.create_article(_ports(), who, body_as(blueprint, ArticleIn))
    return respond(document(article), status=201)


@blueprint.route("/admin/articles/{article_id}", methods=["GET"])
@json_view
def read_article(article_id: str) -> Response:
    from chalicelib.services import knowledge

    return respond(document(knowledge.get_article(_ports(), caller(blueprint), article_id)))


@blueprint.route("/admin/articles/{article_id}", methods=["PUT"])
@json_view
def update_article(article_id: str) -> Response:
    from chalicelib.schemas.knowledge import ArticleIn
    from chalicelib.services import knowledge

    who = caller(blueprint)
    article = knowledge.update_article(_ports(), who, article_id,
                                       body_as(blueprint, ArticleIn))
    return respond(document(article))


@blueprint.route("/admin/articles/{article_id}", methods=["DELETE"])
@json_view
def delete_article(article_id: str) -> Response:
    from chalicelib.services import knowledge

    gone = knowledge.delete_article(_ports(), caller(blueprint), article_id)
    return respond({"deleted": gone.article_id})
