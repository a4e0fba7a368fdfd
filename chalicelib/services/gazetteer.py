"""Finding a place without a map: the town's gazetteer, uploaded by its admin and searched
by residents as they type an address, an intersection or a landmark, or as their phone
reports where they stand.

Two ports: ``GazetteerStore`` keeps each town's entries (chalicelib.adapters.dynamodb.
gazetteer: a few items in the town's partition, replaced whole), and ``Geocoder`` answers
residents. The default geocoder, ``TownGazetteer``, searches the town's own entries held
in memory (read once per container and cache period, like the catalogue); a cloud
geocoder (Amazon Location's place index) could stand in its place behind the same two
methods, answering with the same ``GazetteerEntry``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from chalicelib.domain.access import Permission
from chalicelib.domain.errors import InvalidInput, NotFound, Problem
from chalicelib.domain.gazetteer import (
    MAX_REFUSALS_LISTED,
    NEAREST_MAX_M,
    GazetteerEntry,
    GazetteerIndex,
    GazetteerSummary,
    Nearest,
    UploadRefused,
    parse_upload,
)

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.domain.access import Principal
    from chalicelib.domain.towns import Town
    from chalicelib.services.ports import AuditLog, TownDirectory

MAX_SUGGESTIONS = 20


class GazetteerStore(Protocol):
    """Each town's gazetteer, replaced whole: a reader sees the old one or the new one,
    never part of either."""

    def summary(self, town_id: str) -> GazetteerSummary | None:
        """What the town's current gazetteer holds (None: never uploaded)."""
        ...

    def load(self, town_id: str) -> tuple[GazetteerSummary, list[GazetteerEntry]] | None:
        """The town's current gazetteer, whole (None: never uploaded)."""
        ...

    def replace(self, town_id: str, entries: Sequence[GazetteerEntry],
                summary: GazetteerSummary) -> None:
        """Make ``entries`` the town's gazetteer, as version ``summary.version``. Conflict
        when another upload replaced it meanwhile (nothing of this one is left)."""
        ...


class Geocoder(Protocol):
    """Typed text to places, and a point to the nearest place, within one town."""

    def suggest(self, town_id: str, text: str, limit: int) -> list[GazetteerEntry]:
        """The places ``text`` may mean, best first, at most ``limit``."""
        ...

    def nearest(self, town_id: str, lat: float, long: float) -> Nearest | None:
        """The place nearest the point, if one is within ``NEAREST_MAX_M``."""
        ...


class TownGazetteer:
    """The default ``Geocoder``: the town's own gazetteer, searched in memory.

    A town's index is built from the store on first use and kept ``seconds`` (the
    catalogue's cache period), so a warm container answers a keystroke without reading
    DynamoDB; an upload is seen by other containers within that period. When the period
    ends only the head is read again (one GetItem): the index is rebuilt only if the
    version changed (building 20,000 entries' index takes a noticeable fraction of a
    second). Few towns' indexes are kept at once: a 20,000-address index is some megabytes.
    """

    def __init__(self, store: GazetteerStore, seconds: float,
                 clock: Callable[[], float] = time.monotonic, max_towns: int = 8) -> None:
        self._store = store
        self._seconds = seconds
        self._clock = clock
        self._max = max_towns
        self._indexes: dict[str, tuple[float, str | None, GazetteerIndex]] = {}
        self._lock = threading.Lock()  # `chalice local` serves on threads

    def index(self, town_id: str) -> GazetteerIndex:
        now = self._clock()
        hit = self._indexes.get(town_id)
        if hit is not None and hit[0] > now:
            return hit[2]
        with self._lock:
            if hit is not None:
                current = self._store.summary(town_id)
                if (current.version if current else None) == hit[1]:
                    self._indexes[town_id] = (now + self._seconds, hit[1], hit[2])
                    return hit[2]
            loaded = self._store.load(town_id)
            index = GazetteerIndex(loaded[1] if loaded else ())
            if town_id not in self._indexes and len(self._indexes) >= self._max:
                oldest = min(self._indexes, key=lambda k: self._indexes[k][0])
                del self._indexes[oldest]
            self._indexes[town_id] = (now + self._seconds,
                                      loaded[0].version if loaded else None, index)
            return index

    def forget(self, town_id: str) -> None:
        """Read the town's gazetteer afresh on next use (after this container's upload)."""
        self._indexes.pop(town_id, None)

    def suggest(self, town_id: str, text: str, limit: int) -> list[GazetteerEntry]:
        return self.index(town_id).suggest(text, limit)

    def nearest(self, town_id: str, lat: float, long: float) -> Nearest | None:
        return self.index(town_id).nearest(lat, long, NEAREST_MAX_M)


@dataclass(frozen=True)
class GazetteerPorts:
    """What a town admin's upload needs: the town (its zones bound the area), the store,
    the audit log, and a way to drop this container's cached copy."""

    towns: TownDirectory
    store: GazetteerStore
    audit: AuditLog
    new_id: Callable[[], str]
    now: Callable[[], datetime]
    forget: Callable[[str], None]


@dataclass(frozen=True)
class UploadReport:
    summary: GazetteerSummary
    layout: str
    kept: int
    refused: list[tuple[int, str]]  # (line, reason), the first MAX_REFUSALS_LISTED
    refused_count: int


# --- residents ------------------------------------------------------------------------------


def _town(towns: TownDirectory, town_id: str) -> Town:
    from chalicelib.services.directory import find_town

    return find_town(towns, town_id)


def suggest(geocoder: Geocoder, towns: TownDirectory, town_id: str, text: str,
            limit: int) -> list[GazetteerEntry]:
    """What a resident typing ``text`` may mean, in the named town (404 for a town not
    hosted here). An empty list when nothing matches: the page says "keep typing"."""
    town = _town(towns, town_id)
    return geocoder.suggest(town.town_id, text, max(1, min(limit, MAX_SUGGESTIONS)))


def nearest(geocoder: Geocoder, towns: TownDirectory, town_id: str, lat: float,
            long: float) -> Nearest:
    """The place nearest a resident's location; NotFound when none is near enough to be
    one they would recognise (they then type an address or use the map)."""
    town = _town(towns, town_id)
    try:
        found = geocoder.nearest(town.town_id, lat, long)
    except ValueError as e:  # a point so near a pole that its neighbourhood cannot be read
        raise InvalidInput.of([Problem("lat", str(e))]) from None
    if found is None:
        raise NotFound(f"no address within {NEAREST_MAX_M:.0f} m of here")
    return found


# --- the town admin -------------------------------------------------------------------------


def _own_town(ports: GazetteerPorts, who: Principal, permission: Permission) -> Town:
    """The caller's town, once ``require`` (the one place permissions are decided) agrees.
    (services.admin's own_town does the same through the admin ports; importing it here
    would tie the admin service to the gazetteer in a circle through the demo seeding.)"""
    from chalicelib.domain.access import require

    require(who, permission, who.town_id)
    town = ports.towns.get_town(who.town_id or "")
    if town is None:
        raise NotFound("your town no longer exists")
    return town


def upload(ports: GazetteerPorts, who: Principal, data: bytes) -> UploadReport:
    """Replace the caller's town's gazetteer with the CSV ``data`` (see
    chalicelib.domain.gazetteer for the accepted layouts). Rows that cannot be used are
    refused and reported with their line numbers; the rest replace the whole gazetteer.
    A file that cannot be read, or whose every row is refused, changes nothing."""
    from chalicelib.domain.towns import AuditEntry

    town = _own_town(ports, who, Permission.CONFIGURE_TOWN)
    zones = ports.towns.get_catalogue(town.town_id, town.changeset).zones
    try:
        parsed = parse_upload(data, [zone.bbox for zone in zones])
    except UploadRefused as e:
        raise InvalidInput.of([Problem("body", str(e))]) from None
    if not parsed.refused and not parsed.kept:
        raise InvalidInput.of([Problem("body", "the file has a header but no rows")])
    if not parsed.kept:
        raise InvalidInput("no row of the file could be kept; nothing was changed",
                           [Problem(f"line {r.line}", r.reason) for r in parsed.refused[:10]])
    counts = GazetteerIndex.counts_of(parsed.kept)
    at = ports.now()
    summary = GazetteerSummary(version=ports.new_id(), uploaded_at=at, counts=counts,
                               uploaded_by=who.actor)
    ports.store.replace(town.town_id, parsed.kept, summary)
    ports.forget(town.town_id)
    ports.audit.record(AuditEntry(
        town_id=town.town_id, at=at, entry_id=ports.new_id(), actor=who.actor,
        actor_kind=who.kind, action="gazetteer.replace", target="gazetteer",
        source_ip=who.source_ip, details={"kept": len(parsed.kept),
                                          "refused": len(parsed.refused),
                                          "version": summary.version}))
    return UploadReport(summary, parsed.layout, len(parsed.kept),
                        [(r.line, r.reason) for r in parsed.refused[:MAX_REFUSALS_LISTED]],
                        len(parsed.refused))


def read_summary(ports: GazetteerPorts, who: Principal) -> GazetteerSummary | None:
    """What the caller's town's gazetteer holds now (None: never uploaded)."""
    town = _own_town(ports, who, Permission.READ_TOWN_SETTINGS)
    return ports.store.summary(town.town_id)
