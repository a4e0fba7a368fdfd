"""Photos: presigned uploads (the submitter with the request's token, or staff), staff
hiding a photo from the public, the reporter deleting their own."""

from __future__ import annotations

from typing import Annotated

from chalice import Blueprint, Response
from pydantic import ConfigDict, Field

from chalicelib import bootstrap
from chalicelib.api.http import body_as, caller, json_view, query_params, respond
from chalicelib.schemas.model import WireModel
from chalicelib.services import directory, photos

blueprint = Blueprint(__name__)


class UploadIn(WireModel):
    model_config = ConfigDict(extra="forbid")

    content_type: Annotated[str, Field(max_length=100)]
    token: Annotated[str | None, Field(max_length=100)] = None  # the request's Open311 token


def _work() -> photos.PhotoWork:
    return bootstrap.container().photo_work


def _photos_document(request) -> dict:  # noqa: ANN001 - a ServiceRequest
    return {"service_request_id": request.request_id, "media_url": request.media_url,
            "photos": [{"photo_id": p.photo_id, "hidden": p.hidden, "by": p.added_by}
                       for p in request.photos]}


@blueprint.route("/towns/{town}/requests/{request_id}/photos", methods=["POST"])
@json_view
def resident_upload(town: str, request_id: str) -> Response:
    place = directory.find_town(bootstrap.container().towns, town)
    body = body_as(blueprint, UploadIn)
    form = photos.upload_form(_work(), place, request_id, body.content_type, token=body.token)
    return respond(form, status=201)


@blueprint.route("/towns/{town}/requests/{request_id}/photos/{photo_id}", methods=["DELETE"])
@json_view
def delete_own(town: str, request_id: str, photo_id: str) -> Response:
    place = directory.find_town(bootstrap.container().towns, town)
    token = query_params(blueprint).get("token")
    done = photos.delete_own_photo(_work(), place, request_id, photo_id[:64], token)
    return respond(_photos_document(done))


@blueprint.route("/staff/requests/{request_id}/photos", methods=["POST"])
@json_view
def staff_upload(request_id: str) -> Response:
    who = caller(blueprint)
    body = body_as(blueprint, UploadIn)
    place = directory.find_town(bootstrap.container().towns, who.town_id or "")
    form = photos.upload_form(_work(), place, request_id, body.content_type, who=who)
    return respond(form, status=201)


@blueprint.route("/staff/requests/{request_id}/photos/{photo_id}/hide", methods=["POST"])
@json_view
def hide(request_id: str, photo_id: str) -> Response:
    done = photos.set_hidden(_work(), caller(blueprint), request_id, photo_id[:64], True)
    return respond(_photos_document(done))


@blueprint.route("/staff/requests/{request_id}/photos/{photo_id}/show", methods=["POST"])
@json_view
def show(request_id: str, photo_id: str) -> Response:
    done = photos.set_hidden(_work(), caller(blueprint), request_id, photo_id[:64], False)
    return respond(_photos_document(done))
