"""Plumbing shared by the JSON APIs (staff, admin, platform): who is calling, what they
sent, and turning domain errors into plain JSON errors (the second error border)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.errors import json_error_response
from chalicelib.api.json_body import parse_json
from chalicelib.domain.errors import InvalidInput, Problem, Town311Error, Unauthenticated

if TYPE_CHECKING:
    from pydantic import BaseModel

    from chalicelib.domain.access import Principal


def json_view(view: Callable[..., Response]) -> Callable[..., Response]:
    @functools.wraps(view)
    def wrapper(**params: str) -> Response:
        try:
            return view(**params)
        except Town311Error as e:
            return json_error_response(e)

    return wrapper


def source_ip(blueprint: Blueprint) -> str | None:
    """The caller's address as API Gateway saw it (budgets per source key on it)."""
    return (blueprint.current_request.context.get("identity") or {}).get("sourceIp")


def caller(blueprint: Blueprint) -> Principal:
    """The verified member of staff behind this call: a valid bearer JWT of someone whose
    staff record is active now; roles and departments come from the record."""
    request = blueprint.current_request
    header = request.headers.get("authorization", "")
    if header[:7].lower() != "bearer " or not header[7:].strip():
        raise Unauthenticated("sign in: send Authorization: Bearer <ID token>")
    c = bootstrap.container()
    return c.roster.confirm(c.tokens.verify(header[7:].strip(), source_ip(blueprint)))


def body_as[M: BaseModel](blueprint: Blueprint, model: type[M]) -> M:
    """The JSON body as ``model``; every JSON route reads its body through here (or through
    ``json_body.parse_json`` itself), so size and depth limits hold everywhere."""
    raw = blueprint.current_request.raw_body or b""
    document = parse_json(raw) if raw.strip() else {}  # no body: no fields
    if not isinstance(document, dict):
        raise InvalidInput.of([Problem("body", "must be a JSON object")])
    return validated(model, document)


def query_params(blueprint: Blueprint) -> dict[str, str]:
    """The query string as a plain dict (Chalice gives None when there is none)."""
    params = blueprint.current_request.query_params
    return {k: params[k] for k in params} if params else {}


def query_as[M: BaseModel](blueprint: Blueprint, model: type[M]) -> M:
    return validated(model, query_params(blueprint))


def validated[M: BaseModel](model: type[M], data: dict[str, Any]) -> M:
    """``data`` as ``model``, or InvalidInput naming every problem. pydantic is loaded
    here, by the first call that parses something: a GET of one request or of the
    services parses nothing and never loads it."""
    from pydantic import ValidationError

    from chalicelib.schemas.open311 import problems_from

    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise InvalidInput.of(problems_from(e)) from None


def respond(document: Any, status: int = 200) -> Response:
    return Response(body=json.dumps(document, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8",
                             "Cache-Control": "no-store"})
