"""Open311 GeoReport v2 over HTTP: a shared base and one base per town.

- ``/open311/v2/...`` serves every hosted town and needs ``jurisdiction_id``;
- ``/towns/{town}/open311/v2/...`` serves one town and needs none (many apps never send it).

Views parse, call one service, and render; the format suffix (``.json``/``.xml``) rides on
the last path segment, because API Gateway path parameters are whole segments.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.api.errors import open311_error_response, open311_failure
from chalicelib.api.formats import render, split_format
from chalicelib.api.forms import PostedForm, read_form
from chalicelib.api.http import query_params, validated
from chalicelib.api.routes import OPEN311_CORS
from chalicelib.domain.errors import (
    InvalidInput,
    NotFound,
    Problem,
    Town311Error,
    UnknownJurisdiction,
)
from chalicelib.domain.towns import SCOPE_SUBMIT, SCOPE_UPDATES, ApiKey, Town
from chalicelib.schemas import open311_documents as documents
from chalicelib.services import directory, lookup

blueprint = Blueprint(__name__)

SHARED = "/open311/v2"
TOWN = "/towns/{town}/open311/v2"
CORS = OPEN311_CORS
POST_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "application/json",
              "text/plain", "application/octet-stream"]


# --- plumbing -------------------------------------------------------------------------


def _query() -> dict[str, str]:
    return query_params(blueprint)


def _open311(view: Callable[..., Response]) -> Callable[..., Response]:
    """Resolve the format from the last path segment, and turn domain errors into Open311
    errors in that format (the second of the two error borders)."""

    @functools.wraps(view)
    def wrapper(**params: str) -> Response:
        last = list(params)[-1]
        name, fmt = split_format(params[last])
        if fmt is None:
            return open311_failure(404, "unknown format; use .json or .xml", "json")
        params[last] = name
        try:
            return view(fmt=fmt, **params)
        except Town311Error as e:
            return open311_error_response(e, fmt)

    return wrapper


def _town(town_in_path: str | None, form: PostedForm | None = None) -> Town:
    named = (form.fields.get("jurisdiction_id") if form else None) \
        or _query().get("jurisdiction_id")
    if town_in_path is not None and named and named != town_in_path:
        # A town's own base never answers for another town, even when asked to.
        raise UnknownJurisdiction(f"this base serves {town_in_path!r}, not {named[:100]!r}")
    jurisdiction = town_in_path or named
    if not jurisdiction:
        raise InvalidInput.of([Problem("jurisdiction_id",
                                       "is required on the shared Open311 base")])
    return directory.find_town(bootstrap.container().towns, jurisdiction)


def _root_url() -> str:
    configured = bootstrap.container().settings.public_base_url
    if configured:
        return configured.rstrip("/")
    request = blueprint.current_request
    host = request.headers.get("host", "localhost")
    scheme = request.headers.get("x-forwarded-proto", "http").split(",")[0].strip()
    stage = request.context.get("stage")
    # On API Gateway's own domain the stage is part of every URL; behind a custom domain
    # or ``chalice local`` it is not (set TOWN311_PUBLIC_BASE_URL for custom domains).
    prefix = f"/{stage}" if stage and host.endswith(".amazonaws.com") else ""
    return f"{scheme}://{host}{prefix}"


def _bases(town: Town) -> tuple[str, str]:
    root = _root_url()
    return f"{root}/towns/{town.town_id}/open311/v2/", f"{root}/open311/v2/"


# --- collections: discovery, services, requests ---------------------------------------


def _collection(town_in_path: str | None, resource: str, fmt: str) -> Response:
    c = bootstrap.container()
    town = _town(town_in_path)
    if resource == "discovery":
        town_base, shared_base = _bases(town)
        return render(documents.discovery_document(town, town_base, shared_base), fmt, "discovery")
    if resource == "services":
        catalogue = directory.catalogue_of(c.towns, town)
        return render(documents.services_document(catalogue), fmt, "services")
    if resource == "servicerequestupdates":
        return _updates_between(town, fmt)
    if resource == "requests":
        from chalicelib.schemas.open311 import RequestSearch

        search = validated(RequestSearch, _query())
        found = lookup.search_requests(c.requests, town, search, c.now())
        root = _root_url()
        docs = [documents.request_document(r, town.zone, extensions=search.extensions, root=root)
                for r in found]
        return render(docs, fmt, "service_requests")
    raise NotFound(f"no Open311 resource {resource[:40]!r}")


@blueprint.route(SHARED + "/{resource}", methods=["GET"], cors=CORS)
@_open311
def shared_collection(fmt: str, resource: str) -> Response:
    return _collection(None, resource, fmt)


@blueprint.route(TOWN + "/{resource}", methods=["GET"], cors=CORS)
@_open311
def town_collection(fmt: str, town: str, resource: str) -> Response:
    return _collection(town, resource, fmt)


# --- POST requests ----------------------------------------------------------------------


def _updates_between(town: Town, fmt: str) -> Response:
    """GET servicerequestupdates: what changed, for FixMyStreet-style integrations."""
    from datetime import timedelta

    from chalicelib.schemas.open311 import RequestSearch
    from chalicelib.services.updates import updates_between

    c = bootstrap.container()
    window = validated(RequestSearch, {k: v for k, v in _query().items()
                                       if k in ("start_date", "end_date")})
    end = documents.as_town_time(window.end_date, town.zone) if window.end_date else c.now()
    start = documents.as_town_time(window.start_date, town.zone) if window.start_date \
        else end - timedelta(days=1)
    start = max(start, end - timedelta(days=90))
    found = updates_between(c.routing_ports, town, start, end)
    return render([documents.update_document(u, town.zone) for u in found], fmt,
                  "service_request_updates")


def _post_update(form: PostedForm, town: Town, key: ApiKey, fmt: str) -> Response:
    from chalicelib.schemas.open311 import ServiceRequestUpdate
    from chalicelib.services.updates import InboundUpdate, apply_update

    update = validated(ServiceRequestUpdate, form.fields)
    update_id = apply_update(bootstrap.container().routing_ports, town, key, InboundUpdate(
        update.service_request_id, update.update_id, update.status, update.description,
        update.updated_datetime))
    return render([{"update_id": update_id}], fmt, "service_request_updates")


def _submit(town_in_path: str | None, resource: str, fmt: str) -> Response:
    if resource not in ("requests", "servicerequestupdates"):
        raise NotFound(f"cannot POST to {resource[:40]!r}")
    c = bootstrap.container()
    request = blueprint.current_request
    body = request.raw_body or b""
    if len(body) > c.settings.max_body_bytes:
        raise InvalidInput.of([Problem("body", f"must be at most "
                                               f"{c.settings.max_body_bytes // 2**20} MB")])
    form = read_form(body, request.headers.get("content-type"))
    town = _town(town_in_path, form)
    key = directory.authorise_key(c.towns, town, _api_key(form), scope=(
        SCOPE_UPDATES if resource == "servicerequestupdates" else SCOPE_SUBMIT))
    if resource == "servicerequestupdates":
        return _post_update(form, town, key, fmt)
    from chalicelib.services import intake  # only a submission needs it

    catalogue = directory.catalogue_of(c.towns, town)
    new_request = intake.read_submission(form.fields, form.attributes, town, catalogue)
    photo = intake.Photo(form.media.content, form.media.content_type, form.media.filename) \
        if form.media else None
    receipt = intake.submit_request_once(
        request.headers.get("idempotency-key"), c.idempotency, new_request, town, catalogue,
        key, c.intake, photo, request.lambda_context,
        source_ip=(request.context.get("identity") or {}).get("sourceIp"))
    document = documents.receipt_document(receipt.service_request_id, receipt.token,
                                          receipt.service_notice, receipt.account_id)
    return render([document], fmt, "service_requests", status=201)


def _api_key(form: PostedForm) -> str | None:
    authorization = blueprint.current_request.headers.get("authorization", "")
    bearer = authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
    return form.fields.get("api_key") or _query().get("api_key") or bearer


@blueprint.route(SHARED + "/{resource}", methods=["POST"], content_types=POST_TYPES,
                   cors=CORS)
@_open311
def shared_submit(fmt: str, resource: str) -> Response:
    return _submit(None, resource, fmt)


@blueprint.route(TOWN + "/{resource}", methods=["POST"], content_types=POST_TYPES,
                   cors=CORS)
@_open311
def town_submit(fmt: str, town: str, resource: str) -> Response:
    return _submit(town, resource, fmt)


# --- single resources: a service definition, a request, a token -----------------------


def _definition(town_in_path: str | None, code: str, fmt: str) -> Response:
    town = _town(town_in_path)
    service = directory.catalogue_of(bootstrap.container().towns, town).service(code)
    if service is None:
        raise NotFound(f"no service {code[:40]!r} in {town.name}")
    return render(documents.definition_document(service), fmt, "service_definition")


def _one_request(town_in_path: str | None, request_id: str, fmt: str) -> Response:
    c = bootstrap.container()
    town = _town(town_in_path)
    found = lookup.get_request(c.requests, town, request_id)
    extensions = (_query().get("extensions") or "").lower() in ("true", "1", "yes")
    return render([documents.request_document(found, town.zone, extensions=extensions,
                                              root=_root_url())], fmt, "service_requests")


def _token(town_in_path: str | None, token: str, fmt: str) -> Response:
    town = _town(town_in_path)
    request_id = lookup.resolve_token(bootstrap.container().requests, town, token)
    return render([documents.token_document(token, request_id)], fmt, "service_requests")


def _routes(path: str, view: Callable[..., Response], name: str) -> None:
    """Register ``view`` on the shared base and on the town base."""

    def shared(fmt: str, **params: Any) -> Response:
        return view(None, *params.values(), fmt)

    def per_town(fmt: str, town: str, **params: Any) -> Response:
        return view(town, *params.values(), fmt)

    shared.__name__, per_town.__name__ = f"shared_{name}", f"town_{name}"
    blueprint.route(SHARED + path, methods=["GET"], cors=CORS)(_open311(shared))
    blueprint.route(TOWN + path, methods=["GET"], cors=CORS)(_open311(per_town))


_routes("/services/{code}", _definition, "service_definition")
_routes("/requests/{request_id}", _one_request, "request")
_routes("/tokens/{token}", _token, "token")
