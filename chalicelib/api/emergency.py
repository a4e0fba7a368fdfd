"""Emergency alerts for emergency managers (compose, preview, approve, cancel, progress)
and for everyone (the town's active alerts as JSON, an Atom feed, CAP 1.2 documents)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from chalice import Blueprint, Response
from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from chalicelib import bootstrap
from chalicelib.api.http import body_as, caller, json_view, respond
from chalicelib.domain.alerts import CATEGORIES, SEVERITIES
from chalicelib.schemas.fields import Instant, public_text
from chalicelib.schemas.model import WireModel
from chalicelib.services import alert_feeds, alerts

blueprint = Blueprint(__name__)

Lang = Annotated[str, Field(pattern=r"^[a-z]{2}$")]


class AlertIn(WireModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    fallback_language: Lang = "en"  # first: the texts below are checked against it
    title: dict[Lang, Annotated[str, Field(min_length=1, max_length=120),
                                public_text(120)]] = Field(min_length=1, max_length=10)
    body: dict[Lang, Annotated[str, Field(min_length=1, max_length=1200),
                               public_text(1200, multiline=True)]] = Field(
        min_length=1, max_length=10)
    severity: Literal[SEVERITIES]  # type: ignore[valid-type]
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    expires_at: Instant
    zones: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=50)
    area: dict | None = None  # a GeoJSON Polygon drawn for this alert (instead of zones)
    test: bool = False

    @field_validator("title", "body")
    @classmethod
    def _has_fallback(cls, texts: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        # Whoever reads a language the alert lacks gets the fallback: its title and body
        # must both exist, or the preview, the fan-out, Atom and CAP have nothing to show.
        fallback = info.data.get("fallback_language")
        if fallback is not None and fallback not in texts:
            raise ValueError(f"needs the fallback language {fallback!r}")
        return texts


def _ports() -> alerts.AlertPorts:
    return bootstrap.container().alert_ports


@blueprint.route("/staff/alerts", methods=["POST"])
@json_view
def compose() -> Response:
    made = alerts.compose(_ports(), caller(blueprint), body_as(blueprint, AlertIn))
    return respond(alerts.document(made), status=201)


@blueprint.route("/staff/alerts", methods=["GET"])
@json_view
def list_alerts() -> Response:
    """Every alert of the town, newest first, with its progress."""
    found = alerts.list_for_staff(_ports(), caller(blueprint))
    return respond({"alerts": [alerts.document(a) for a in found]})


@blueprint.route("/staff/alerts/{alert_id}/preview", methods=["GET"])
@json_view
def preview(alert_id: str) -> Response:
    return respond(alerts.preview(_ports(), caller(blueprint), alert_id))


@blueprint.route("/staff/alerts/{alert_id}/request-approval", methods=["POST"])
@json_view
def request_approval(alert_id: str) -> Response:
    """The draft is put forward: awaiting approval, in the approvals queue."""
    made = alerts.request_approval(_ports(), caller(blueprint), alert_id)
    return respond(alerts.document(made))


@blueprint.route("/staff/alerts/{alert_id}/approve", methods=["POST"])
@json_view
def approve(alert_id: str) -> Response:
    return respond(alerts.document(alerts.approve(_ports(), caller(blueprint), alert_id)))


@blueprint.route("/staff/alerts/{alert_id}/correction", methods=["POST"])
@json_view
def correction(alert_id: str) -> Response:
    made = alerts.correct(_ports(), caller(blueprint), alert_id, body_as(blueprint, AlertIn))
    return respond(alerts.document(made), status=201)


@blueprint.route("/staff/alerts/{alert_id}/cancel", methods=["POST"])
@json_view
def cancel(alert_id: str) -> Response:
    return respond(alerts.document(alerts.cancel(_ports(), caller(blueprint), alert_id)))


@blueprint.route("/staff/alerts/{alert_id}", methods=["GET"])
@json_view
def show(alert_id: str) -> Response:
    return respond(alerts.document(alerts.show(_ports(), caller(blueprint), alert_id)))


def _public() -> tuple[Any, Any]:
    c = bootstrap.container()
    return c.towns, c.alert_store


# GET /towns/{town}/alerts is routed by the alerts page (chalicelib.web.alerts_pages), which
# answers a browser with HTML and every other caller with this, unchanged.
@json_view
def public_list(town: str) -> Response:
    """The town's active alerts as JSON."""
    return respond(alert_feeds.public_list(*_public(), town, bootstrap.container().now()))


@blueprint.route("/towns/{town}/alerts/feed.atom", methods=["GET"])
@json_view
def atom(town: str) -> Response:
    c = bootstrap.container()
    doc = alert_feeds.atom_feed(*_public(), town, c.now(), c.settings.public_base_url or "")
    return Response(body=doc, status_code=200,
                    headers={"Content-Type": "application/atom+xml; charset=utf-8"})


@blueprint.route("/towns/{town}/alerts/{alert_id}/cap.xml", methods=["GET"])
@json_view
def cap(town: str, alert_id: str) -> Response:
    """The alert as sent, a CAP 1.2 message (still readable after a cancel)."""
    return Response(body=alert_feeds.cap_message(*_public(), town, alert_id), status_code=200,
                    headers={"Content-Type": "application/xml; charset=utf-8"})


@blueprint.route("/towns/{town}/alerts/{alert_id}/cancel/cap.xml", methods=["GET"])
@json_view
def cap_cancel(town: str, alert_id: str) -> Response:
    """The CAP 1.2 message that cancels an alert: its own identifier, referring to the
    alert's."""
    doc = alert_feeds.cap_message(*_public(), town, alert_id, cancel=True)
    return Response(body=doc, status_code=200,
                    headers={"Content-Type": "application/xml; charset=utf-8"})
