"""Emergency alerts for emergency managers (compose, preview, approve, cancel, progress)
and for everyone (the town's active alerts as JSON, an Atom feed, CAP 1.2 documents)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from chalicelib import bootstrap
from chalicelib.api.formats import xml_text
from chalicelib.api.http import body_as, caller, json_view, respond
from chalicelib.domain.alerts import CATEGORIES, SEVERITIES, Alert
from chalicelib.domain.errors import NotFound
from chalicelib.schemas.fields import Instant, public_text
from chalicelib.services import alerts, directory

blueprint = Blueprint(__name__)

Lang = Annotated[str, Field(pattern=r"^[a-z]{2}$")]


class AlertIn(BaseModel):
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
    from chalicelib.domain.access import Permission, require

    who = caller(blueprint)
    require(who, Permission.SEND_ALERTS, who.town_id)
    store = bootstrap.container().alert_store
    found = store.list(who.town_id or "")[:100]
    for alert in found:
        alert.counts = store.counts(alert.town_id, alert.alert_id)
    return respond({"alerts": [alerts.document(a) for a in found]})


@blueprint.route("/staff/alerts/{alert_id}/preview", methods=["GET"])
@json_view
def preview(alert_id: str) -> Response:
    return respond(alerts.preview(_ports(), caller(blueprint), alert_id))


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
    from chalicelib.domain.access import Permission, require

    who = caller(blueprint)
    require(who, Permission.SEND_ALERTS, who.town_id)
    found = bootstrap.container().alert_store.get(who.town_id or "", alert_id[:64])
    if found is None:
        raise NotFound(f"no alert {alert_id[:64]!r}")
    return respond(alerts.document(found))


def _active(town: str) -> tuple[object, list[Alert]]:
    c = bootstrap.container()
    place = directory.find_town(c.towns, town)
    now = c.now()
    return place, [a for a in c.alert_store.list(place.town_id) if a.active(now)]


@blueprint.route("/towns/{town}/alerts", methods=["GET"])
@json_view
def public_list(town: str) -> Response:
    _, active = _active(town)
    return respond({"alerts": [
        {"alert_id": a.alert_id, "title": a.title, "body": a.body, "severity": a.severity,
         "category": a.category, "zones": list(a.zones), "sent_at": a.sent_at.isoformat()
         if a.sent_at else None, "expires_at": a.expires_at.isoformat()} for a in active]})


@blueprint.route("/towns/{town}/alerts/feed.atom", methods=["GET"])
@json_view
def atom(town: str) -> Response:
    place, active = _active(town)
    base = bootstrap.container().settings.public_base_url or ""
    updated = max((a.sent_at for a in active if a.sent_at), default=datetime(2000, 1, 1))
    entries = "".join(
        f"<entry><id>urn:town311:{xml_text(a.town_id)}:alert:{a.alert_id}</id>"
        f"<title>{xml_text(a.words(a.fallback_language)[0])}</title>"
        f"<updated>{(a.sent_at or a.created_at).isoformat()}</updated>"
        f"<link href=\"{xml_text(base)}/towns/{xml_text(a.town_id)}/alerts/{a.alert_id}/cap.xml\"/>"
        f"<category term=\"{a.category}\"/><summary>{xml_text(a.words(a.fallback_language)[1])}"
        "</summary></entry>" for a in active)
    doc = ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
           f"<id>urn:town311:{xml_text(place.town_id)}:alerts</id>"  # type: ignore[attr-defined]
           f"<title>{xml_text(place.name)} emergency alerts</title>"  # type: ignore[attr-defined]
           f"<updated>{updated.isoformat()}</updated>{entries}</feed>")
    return Response(body=doc, status_code=200,
                    headers={"Content-Type": "application/atom+xml; charset=utf-8"})


_CAP_SEVERITY = {"extreme": "Extreme", "severe": "Severe", "moderate": "Moderate",
                 "minor": "Minor"}
_CAP_CATEGORY = {"weather": "Met", "water": "Health", "road_closure": "Transport",
                 "fire": "Fire", "health": "Health", "safety": "Safety", "other": "Other"}


@blueprint.route("/towns/{town}/alerts/{alert_id}/cap.xml", methods=["GET"])
@json_view
def cap(town: str, alert_id: str) -> Response:
    """The alert as a CAP 1.2 document, one <info> per language."""
    c = bootstrap.container()
    place = directory.find_town(c.towns, town)
    alert = c.alert_store.get(place.town_id, alert_id[:64])
    if alert is None or alert.status not in ("sending", "sent", "cancelled") or alert.test:
        raise NotFound(f"no alert {alert_id[:64]!r}")
    sent = (alert.sent_at or alert.created_at).astimezone(place.zone).replace(microsecond=0)
    infos = "".join(
        f"<info><language>{lang}</language><category>{_CAP_CATEGORY[alert.category]}"
        f"</category><event>{xml_text(alert.category.replace('_', ' '))}</event>"
        "<urgency>Immediate</urgency>"
        f"<severity>{_CAP_SEVERITY[alert.severity]}</severity><certainty>Observed"
        f"</certainty><expires>{alert.expires_at.astimezone(place.zone).replace(microsecond=0).isoformat()}"
        f"</expires><senderName>{xml_text(place.name)}</senderName>"
        f"<headline>{xml_text(alert.words(lang)[0])}</headline>"
        f"<description>{xml_text(alert.words(lang)[1])}</description>"
        f"<area><areaDesc>{xml_text(', '.join(alert.zones) or place.name)}</areaDesc></area>"
        "</info>" for lang in alert.body)
    status = "Cancel" if alert.status == "cancelled" else "Alert"
    doc = ('<?xml version="1.0" encoding="utf-8"?>'
           '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
           f"<identifier>{xml_text(place.town_id)}-{alert.alert_id}</identifier>"
           f"<sender>{xml_text(place.town_id)}</sender><sent>{sent.isoformat()}</sent>"
           f"<status>Actual</status><msgType>{status}</msgType><scope>Public</scope>"
           f"{infos}</alert>")
    return Response(body=doc, status_code=200,
                    headers={"Content-Type": "application/xml; charset=utf-8"})
