"""Wire formats of the gazetteer: what the address box and "use my location" send, and the
places, summaries and upload reports they get back (plain JSON)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field

from chalicelib.domain.gazetteer import GazetteerEntry, GazetteerSummary, Nearest
from chalicelib.schemas.fields import public_text
from chalicelib.schemas.model import WireModel


class PlacesQuery(WireModel):
    """``GET /towns/{town}/places?q=…&limit=…``: what the resident has typed so far."""

    model_config = ConfigDict(extra="ignore")  # a cache-busting parameter harms nothing

    q: Annotated[str, public_text(100), Field(min_length=2, max_length=100)]
    limit: Annotated[int, Field(ge=1, le=20)] = 8


class NearestQuery(WireModel):
    """``GET /towns/{town}/places/nearest?lat=…&long=…``: where the phone says it is."""

    model_config = ConfigDict(extra="ignore")

    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
    long: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


def place_document(entry: GazetteerEntry) -> dict[str, Any]:
    """A place as the address box shows and submits it (labels are text: JSON escapes
    them here, and a page escapes them again when it shows them)."""
    document: dict[str, Any] = {"kind": entry.kind, "label": entry.label,
                                "lat": entry.lat, "long": entry.long}
    if entry.zone:
        document["zone"] = entry.zone
    return document


def nearest_document(found: Nearest) -> dict[str, Any]:
    return {"place": place_document(found.entry), "distance_m": round(found.distance_m)}


def summary_document(summary: GazetteerSummary | None) -> dict[str, Any]:
    if summary is None:
        return {"uploaded": False, "total": 0, "counts": {}}
    return {"uploaded": True, "version": summary.version,
            "uploaded_at": summary.uploaded_at.isoformat().replace("+00:00", "Z"),
            "uploaded_by": summary.uploaded_by, "total": summary.total,
            "counts": summary.counts}
