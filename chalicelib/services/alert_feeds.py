"""The public record of a town's emergency alerts: JSON, an Atom feed (RFC 4287) and
CAP 1.2 messages. Only alerts that went out are on it: approved, not a test.

A CAP message never changes once published; a cancel is a new message:

- ``/towns/{town}/alerts/{id}/cap.xml``: the alert as sent (msgType Alert, identifier
  ``<town>-<id>``); it stays readable after a cancel, so the cancel's ``<references>``
  resolve.
- ``/towns/{town}/alerts/{id}/cancel/cap.xml``: the cancel (msgType Cancel, identifier
  ``<town>-<id>-cancel``, ``<references>`` = ``sender,identifier,sent`` of the alert);
  404 unless the alert was cancelled after it went out.

The Atom feed lists the active alerts, and the cancels of alerts that have not expired
yet, each linking to its CAP message, so a feed reader learns of a cancel too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape as _escape
from xml.sax.saxutils import quoteattr as _quoteattr
from zoneinfo import ZoneInfo

from chalicelib.domain import alerts as domain
from chalicelib.domain.alerts import Alert
from chalicelib.domain.errors import NotFound
from chalicelib.domain.text import xml_safe
from chalicelib.domain.towns import Town
from chalicelib.domain.zones import Geometry
from chalicelib.services import directory

if TYPE_CHECKING:
    from chalicelib.services.ports import AlertStore, TownDirectory


def escape(value: str) -> str:
    """XML character data; what XML 1.0 cannot carry is dropped (stored before the edge
    cleaned text), so one old value cannot break a whole feed."""
    return _escape(xml_safe(value))


def quoteattr(value: str) -> str:
    return _quoteattr(xml_safe(value))

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
_CAP_SEVERITY = {"extreme": "Extreme", "severe": "Severe", "moderate": "Moderate",
                 "minor": "Minor"}
_CAP_CATEGORY = {"weather": "Met", "water": "Health", "road_closure": "Transport",
                 "fire": "Fire", "health": "Health", "safety": "Safety", "other": "Other"}


def _active(towns: TownDirectory, store: AlertStore, town: str, now: datetime
            ) -> tuple[Town, list[Alert]]:
    place = directory.find_town(towns, town)
    return place, [a for a in store.list(place.town_id) if a.active(now)]


def public_list(towns: TownDirectory, store: AlertStore, town: str, now: datetime
                ) -> dict[str, object]:
    """The town's active alerts (tests never)."""
    _, active = _active(towns, store, town, now)
    return {"alerts": [
        {"alert_id": a.alert_id, "title": a.title, "body": a.body, "severity": a.severity,
         "category": a.category, "zones": list(a.zones), "sent_at": a.sent_at.isoformat()
         if a.sent_at else None, "expires_at": a.expires_at.isoformat()} for a in active]}


# --- Atom ---------------------------------------------------------------------------------


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).replace(microsecond=0).isoformat()


def atom_feed(towns: TownDirectory, store: AlertStore, town: str, now: datetime,
              base_url: str) -> str:
    """RFC 4287: the feed and each entry have an id, a title, an updated time and an
    author (the town); each entry links to its CAP message (rel alternate)."""
    place = directory.find_town(towns, town)
    published = [a for a in store.list(place.town_id) if a.published]
    base = f"{base_url.rstrip('/')}/towns/{place.town_id}/alerts"
    author = f"<author><name>{escape(place.branding.display_name or place.name)}</name></author>"
    entries: list[tuple[datetime, str]] = []
    for a in published:
        title, summary = a.words(a.fallback_language)
        if a.active(now):
            at, suffix, href = a.sent_at or a.created_at, "", f"{base}/{a.alert_id}/cap.xml"
        elif a.status == domain.CANCELLED and a.expires_at > now:
            at = a.cancelled_at or a.sent_at or a.created_at
            suffix, href = ":cancel", f"{base}/{a.alert_id}/cancel/cap.xml"
            title, summary = f"Cancelled: {title}", f"This alert was cancelled. {summary}"
        else:
            continue
        entries.append((at, (
            f"<entry><id>urn:town311:{escape(a.town_id)}:alert:{escape(a.alert_id)}{suffix}"
            f"</id><title>{escape(title)}</title><updated>{_rfc3339(at)}</updated>{author}"
            f"<link rel=\"alternate\" type=\"application/cap+xml\" href={quoteattr(href)}/>"
            f"<category term={quoteattr(a.category)}/>"
            f"<summary>{escape(summary)}</summary></entry>")))
    entries.sort(key=lambda pair: pair[0], reverse=True)
    changes = [a.cancelled_at or a.sent_at or a.created_at for a in published]
    updated = max(changes, default=datetime(2000, 1, 1, tzinfo=UTC))
    return ('<?xml version="1.0" encoding="utf-8"?>'
            f'<feed xmlns="{ATOM_NS}">'
            f"<id>urn:town311:{escape(place.town_id)}:alerts</id>"
            f"<title>{escape(place.name)} emergency alerts</title>"
            f"<updated>{_rfc3339(updated)}</updated>{author}"
            f"<link rel=\"self\" type=\"application/atom+xml\" "
            f"href={quoteattr(base + '/feed.atom')}/>"
            + "".join(entry for _, entry in entries) + "</feed>")


# --- CAP 1.2 ------------------------------------------------------------------------------


def _cap_time(at: datetime, zone: ZoneInfo) -> str:
    """CAP's dateTime: local time with its offset, no fractions, UTC as -00:00."""
    text = at.astimezone(zone).replace(microsecond=0).isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def _rings(geometry: Geometry) -> list[list[list[float]]]:
    """The exterior ring of each polygon (holes are left out: the area is larger, never
    smaller, than the zone)."""
    polygons = [geometry["coordinates"]] if geometry.get("type") == "Polygon" \
        else geometry.get("coordinates") or []
    return [polygon[0] for polygon in polygons if polygon]


def _number(value: float) -> str:
    return f"{float(value):.6f}".rstrip("0").rstrip(".")


def _cap_polygon(ring: list[list[float]]) -> str:
    """"lat,lon lat,lon …", first pair = last (GeoJSON rings are closed already)."""
    pairs = [f"{_number(p[1])},{_number(p[0])}" for p in ring]
    if pairs and pairs[0] != pairs[-1]:
        pairs.append(pairs[0])
    return " ".join(pairs)


def _cap_area(towns: TownDirectory, place: Town, alert: Alert) -> str:
    """One <area>: areaDesc, then its polygons (CAP's order: areaDesc, polygon*, circle*,
    geocode*, altitude, ceiling)."""
    catalogue = towns.get_catalogue(place.town_id, place.changeset)
    zones = {z.code: z for z in catalogue.zones}
    names = [zones[c].name if c in zones else c for c in alert.zones]
    if alert.area is not None:
        desc = f"Area drawn for this alert in {place.name}" + (
            f" ({', '.join(names)})" if names else "")
        rings = _rings(alert.area)
    elif alert.zones:
        desc = ", ".join(names)
        rings = [r for c in alert.zones if c in zones for r in _rings(zones[c].geometry)]
    else:
        desc, rings = place.name, []
    polygons = "".join(f"<polygon>{_cap_polygon(r)}</polygon>" for r in rings
                       if len(r) >= 4)
    return f"<area><areaDesc>{escape(desc)}</areaDesc>{polygons}</area>"


def cap_message(towns: TownDirectory, store: AlertStore, town: str, alert_id: str,
                cancel: bool = False) -> str:
    """The alert as a CAP 1.2 message, one <info> per language; or, with ``cancel``, the
    message that cancels it (a new identifier, referring to the alert's)."""
    place = directory.find_town(towns, town)
    alert = store.get(place.town_id, alert_id[:64])
    if alert is None or not alert.published or (cancel and alert.status != domain.CANCELLED):
        raise NotFound(f"no {'cancelled ' if cancel else ''}alert {alert_id[:64]!r}")
    zone = place.zone
    identifier = f"{place.town_id}-{alert.alert_id}"
    sent = _cap_time(alert.sent_at or alert.created_at, zone)
    area = _cap_area(towns, place, alert)
    infos = "".join(
        f"<info><language>{escape(lang)}</language>"
        f"<category>{_CAP_CATEGORY[alert.category]}</category>"
        f"<event>{escape(alert.category.replace('_', ' '))}</event>"
        "<urgency>Immediate</urgency>"
        f"<severity>{_CAP_SEVERITY[alert.severity]}</severity>"
        "<certainty>Observed</certainty>"
        f"<expires>{_cap_time(alert.expires_at, zone)}</expires>"
        f"<senderName>{escape(place.name)}</senderName>"
        f"<headline>{escape(alert.words(lang)[0])}</headline>"
        f"<description>{escape(alert.words(lang)[1])}</description>"
        f"{area}</info>" for lang in alert.body)
    if cancel:
        head = (f"<identifier>{escape(identifier)}-cancel</identifier>"
                f"<sender>{escape(place.town_id)}</sender>"
                f"<sent>{_cap_time(alert.cancelled_at or alert.sent_at or alert.created_at, zone)}"
                "</sent><status>Actual</status><msgType>Cancel</msgType><scope>Public</scope>"
                f"<references>{escape(place.town_id)},{escape(identifier)},{sent}</references>")
    else:
        head = (f"<identifier>{escape(identifier)}</identifier>"
                f"<sender>{escape(place.town_id)}</sender><sent>{sent}</sent>"
                "<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>")
    return ('<?xml version="1.0" encoding="utf-8"?>'
            f'<alert xmlns="{CAP_NS}">{head}{infos}</alert>')
