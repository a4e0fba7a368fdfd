"""Emergency alerts, for residents: sign up (double opt-in), see or delete their own
subscription, and stop by the link in every alert."""

from __future__ import annotations

from typing import Annotated

from chalice import Blueprint, Response
from pydantic import ConfigDict, Field

from chalicelib import bootstrap
from chalicelib.api.http import body_as, json_view, respond, source_ip
from chalicelib.domain.towns import Town
from chalicelib.schemas.admin import Email
from chalicelib.schemas.model import WireModel
from chalicelib.services import directory, residents, subscribers

blueprint = Blueprint(__name__)
BASE = "/towns/{town}/alerts"


class Point(WireModel):
    model_config = ConfigDict(extra="forbid")

    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
    long: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class SubscribeIn(WireModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: Annotated[str | None, Field(max_length=30)] = None
    email: Email | None = None
    language: Annotated[str | None, Field(pattern=r"^[A-Za-z]{2}(-[A-Za-z]{2})?$")] = None
    zones: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=20)
    home: Point | None = None


class ConfirmIn(WireModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")]


def _town(town: str) -> Town:
    return directory.find_town(bootstrap.container().towns, town)


def _ports() -> subscribers.SubscriberPorts:
    return bootstrap.container().subscriber_ports


def _signed_in(town: Town) -> str:
    c = bootstrap.container()
    header = blueprint.current_request.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    return residents.signed_in_contact(c.resident_access, town, token, c.now())


@blueprint.route(BASE + "/subscribers", methods=["POST"])
@json_view
def subscribe(town: str) -> Response:
    place = _town(town)
    body = body_as(blueprint, SubscribeIn)
    made = subscribers.sign_up(
        _ports(), bootstrap.container().towns, place, email=body.email, phone=body.phone,
        language=body.language, zones=body.zones,
        home=(body.home.lat, body.home.long) if body.home else None, source_ip=source_ip(blueprint))
    return respond({**subscribers.document(made),
                    "confirm_by": "sms" if made.phone else "email"}, status=201)


@blueprint.route(BASE + "/subscribers/{subscriber_id}/confirm", methods=["POST"])
@json_view
def confirm(town: str, subscriber_id: str) -> Response:
    body = body_as(blueprint, ConfirmIn)
    done = subscribers.confirm(_ports(), _town(town), subscriber_id, body.code,
                               source_ip(blueprint))
    return respond(subscribers.document(done))


@blueprint.route(BASE + "/subscription", methods=["GET"])
@json_view
def own(town: str) -> Response:
    place = _town(town)
    return respond(subscribers.document(subscribers.own(_ports(), place, _signed_in(place))))


@blueprint.route(BASE + "/subscription", methods=["DELETE"])
@json_view
def delete_own(town: str) -> Response:
    place = _town(town)
    subscribers.delete_own(_ports(), place, _signed_in(place))
    return respond({"deleted": True})


# The stop link's page (GET and POST .../subscribers/{subscriber_id}/stop) is drawn in the
# town's branding by chalicelib.web.alerts_pages, which checks the key through
# ``subscribers.stop_by_link`` exactly as this module did.
