"""A town's figures: what happened to its requests, counted per town-time day as it happens.

Figures are kept per town, day, dimension and value (``service``/``pothole``,
``zone``/``north``, ``town``/``all``...) by the figures updater
(chalicelib.services.figures) from the request events, never recomputed by reading
requests; a period is the merge of its days. Durations (to acknowledge, to close) are kept
as a :class:`Sketch`, a fixed log-bucket histogram that merges by adding counts, so the
median and 90th percentile of a quarter come from ninety small maps, within 5 %.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.domain.requests import ServiceRequest

# The "town" dimension has the single value ALL: the whole town's figures.
DIMENSIONS = ("town", "service", "department", "zone", "channel")
ALL = "all"

# The sketch's relative accuracy: a quantile read from it is within 2 % of the true
# duration at that rank (DDSketch's guarantee), comfortably inside the 5 % promised.
RELATIVE_ACCURACY = 0.02
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
# Durations under a second (an automatic acknowledgement) are counted as zero: below a
# second nobody measures a town, and it keeps bucket numbers non-negative.
ZERO_BUCKET = "z"


def bucket_of(seconds: float) -> str:
    """The bucket a duration is counted in: ``"z"`` under a second, else ``ceil(log_γ s)``."""
    if not math.isfinite(seconds) or seconds < 1:
        return ZERO_BUCKET
    return str(max(0, math.ceil(math.log(seconds) / _LOG_GAMMA)))


def _value_of(bucket: str) -> float:
    """The duration a bucket stands for: the point within 2 % of every value in it."""
    if bucket == ZERO_BUCKET:
        return 0.0
    k = int(bucket)
    return 2 * _GAMMA ** k / (_GAMMA + 1)


class Sketch:
    """A mergeable distribution of durations in seconds (fixed log buckets, like DDSketch).

    Stored as a map of bucket → count; two sketches merge by adding counts, so the sketch
    of a period is the same whatever order its days are merged in.
    """

    __slots__ = ("_counts",)

    def __init__(self, counts: Mapping[str, int] | None = None) -> None:
        self._counts: dict[str, int] = {k: int(v) for k, v in (counts or {}).items() if v}

    def add(self, seconds: float, times: int = 1) -> None:
        """Count one duration (or ``times`` of it)."""
        key = bucket_of(seconds)
        self._counts[key] = self._counts.get(key, 0) + times

    def merge(self, other: Sketch) -> Sketch:
        """A new sketch holding both distributions."""
        counts = dict(self._counts)
        for key, n in other._counts.items():
            counts[key] = counts.get(key, 0) + n
        return Sketch(counts)

    @property
    def count(self) -> int:
        """How many durations were counted."""
        return sum(self._counts.values())

    def quantile(self, q: float) -> float | None:
        """The duration at quantile ``q`` (0..1) in seconds, or None when nothing counted."""
        if not 0 <= q <= 1:
            raise ValueError("a quantile is between 0 and 1")
        total = self.count
        if total == 0:
            return None
        rank = q * (total - 1)
        seen = 0
        ordered = sorted(self._counts, key=lambda k: -1 if k == ZERO_BUCKET else int(k))
        for key in ordered:
            seen += self._counts[key]
            if seen > rank:
                return _value_of(key)
        return _value_of(ordered[-1])  # pragma: no cover - rank < total always stops above

    def to_map(self) -> dict[str, int]:
        """Bucket → count, as stored in a DynamoDB map."""
        return dict(self._counts)

    @classmethod
    def from_map(cls, m: Mapping[str, int] | None) -> Sketch:
        """A sketch read back from :meth:`to_map`'s map (numbers may come back as Decimal)."""
        return cls({str(k): int(v) for k, v in (m or {}).items()})

    @classmethod
    def of(cls, durations: Iterable[float]) -> Sketch:
        """A sketch of these durations."""
        sketch = cls()
        for seconds in durations:
            sketch.add(seconds)
        return sketch

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sketch) and self._counts == other._counts

    __hash__ = None  # type: ignore[assignment]  # mutable: compared, never hashed

    def __repr__(self) -> str:
        return f"Sketch(count={self.count})"


# The counters of a day, in the order they are stored and shown.
COUNTERS = (
    "opened", "closed", "reopened", "disputes", "ratings", "rating_total",
    "sla_met", "sla_missed", "duplicates", "followers", "information",
)


@dataclass
class Figures:
    """What happened in a period to a town's requests (or to one service's, zone's...).

    ``backlog`` is how many were open at the end of the period (None when unknown: no day
    of the period has been recorded). ``sla_met``/``sla_missed`` count closings within /
    after the due time; ``rating_total`` is the sum of the ratings (1-5) counted in
    ``ratings``; ``information`` counts information requests: questions answered from the
    town's knowledge base instead of becoming a work order (chalicelib.services.knowledge;
    by the town and by channel only, never by service, department or zone).
    """

    opened: int = 0
    closed: int = 0
    reopened: int = 0
    disputes: int = 0
    ratings: int = 0
    rating_total: int = 0
    sla_met: int = 0
    sla_missed: int = 0
    duplicates: int = 0
    followers: int = 0
    information: int = 0
    backlog: int | None = None
    to_acknowledge: Sketch = field(default_factory=Sketch)
    to_close: Sketch = field(default_factory=Sketch)

    @classmethod
    def of(cls, counters: Mapping[str, int], *, backlog: int | None = None,
           to_acknowledge: Sketch | None = None, to_close: Sketch | None = None) -> Figures:
        """Figures from counters by name (a missing one is 0)."""
        figures = cls(backlog=backlog, to_acknowledge=to_acknowledge or Sketch(),
                      to_close=to_close or Sketch())
        for name in COUNTERS:
            setattr(figures, name, int(counters.get(name, 0)))
        return figures

    def merge(self, other: Figures) -> Figures:
        """These figures followed by ``other``'s (a later period, or the same day).

        Counters and sketches add; the backlog is the one at the end, ``other``'s when it
        is known. For figures of different values over the same period (services into a
        department) use :meth:`combine`, which adds the backlogs.
        """
        return self._joined(other, other.backlog if other.backlog is not None else self.backlog)

    def combine(self, other: Figures) -> Figures:
        """The figures of two disjoint sets of requests over the same period."""
        if self.backlog is None and other.backlog is None:
            backlog = None
        else:
            backlog = (self.backlog or 0) + (other.backlog or 0)
        return self._joined(other, backlog)

    def _joined(self, other: Figures, backlog: int | None) -> Figures:
        counters = {name: getattr(self, name) + getattr(other, name) for name in COUNTERS}
        return Figures.of(counters, backlog=backlog,
                          to_acknowledge=self.to_acknowledge.merge(other.to_acknowledge),
                          to_close=self.to_close.merge(other.to_close))

    @property
    def median_to_close(self) -> float | None:
        return self.to_close.quantile(0.5)

    @property
    def p90_to_close(self) -> float | None:
        return self.to_close.quantile(0.9)

    @property
    def median_to_acknowledge(self) -> float | None:
        return self.to_acknowledge.quantile(0.5)

    @property
    def p90_to_acknowledge(self) -> float | None:
        return self.to_acknowledge.quantile(0.9)

    @property
    def sla_met_share(self) -> float | None:
        """The share (0..1) of closings with a due time that were within it."""
        judged = self.sla_met + self.sla_missed
        return self.sla_met / judged if judged else None

    @property
    def mean_rating(self) -> float | None:
        return self.rating_total / self.ratings if self.ratings else None

    def counters(self) -> dict[str, int]:
        """The counters by name (what the JSON and the store carry besides the sketches)."""
        return {name: getattr(self, name) for name in COUNTERS}



# --- counting one request event -------------------------------------------------------------

# A dimension value for requests that have none (not routed yet, outside every zone).
NONE = "none"
# The kind of the figure event made of a "me too" (a follower item, not a timeline event).
FOLLOWED = "followed"
# Timeline kinds that open a request (again), and those that are a first staff response:
# the time to acknowledge runs to the first of them (a closing without one counts too).
_OPENING = {"submitted": (), "reopened": ("reopened",), "disputed": ("reopened", "disputes")}
_RESPONSES = frozenset({"acknowledged", "in_progress", "on_hold", "closed"})


@dataclass(frozen=True)
class RequestFacts:
    """What the figures need of a request, as it was when an event happened."""

    service: str
    department: str | None
    zone: str | None
    channel: str
    requested_at: datetime
    expected_at: datetime | None = None  # the due time (SLA) at that moment
    rating: int | None = None
    resolution: str | None = None

    def values(self) -> dict[str, str]:
        """The request's value in each dimension."""
        return {"town": ALL, "service": self.service, "department": self.department or NONE,
                "zone": self.zone or NONE, "channel": self.channel or NONE}


@dataclass(frozen=True)
class FigureEvent:
    """One thing that happened to a request, as the figures count it.

    ``mark`` names it once and for all (a timeline event's id; ``follower#<id>`` for a "me
    too"): an event whose mark the request's tally has is not counted again.
    """

    town_id: str
    request_id: str
    mark: str
    kind: str  # a timeline event's kind, or FOLLOWED
    at: datetime
    # None: not known from the event itself (a "me too", an event stored before figures
    # were kept); the updater reads them from the request.
    facts: RequestFacts | None


@dataclass(frozen=True)
class RequestTally:
    """A request's part in its town's figures so far: the events counted (by mark), the
    dimension values its open count sits under (None: not counted open), whether its
    first response was timed, and a version that moves with every change (the store
    writes a tally only over the version it read)."""

    applied: frozenset[str] = frozenset()
    open_in: tuple[tuple[str, str], ...] | None = None
    acknowledged: bool = False
    version: int = 0


@dataclass
class DayChange:
    """What one event adds to one day item (town-time day, dimension, value)."""

    day: date
    dimension: str
    value: str
    counters: dict[str, int] = field(default_factory=dict)
    open_delta: int = 0
    to_acknowledge: float | None = None  # seconds
    to_close: float | None = None

    @property
    def is_empty(self) -> bool:
        return not (any(self.counters.values()) or self.open_delta
                    or self.to_acknowledge is not None or self.to_close is not None)


@dataclass(frozen=True)
class DayFigures:
    """One stored day item: a dimension value's figures on one town-time day, and how many
    more requests were open there at the end of it than at its start (``open_delta``).
    Its ``figures.backlog`` is None: a backlog is worked out over a period."""

    day: date
    dimension: str
    value: str
    figures: Figures
    open_delta: int = 0


def count(tally: RequestTally, event: FigureEvent,
          timezone: tzinfo) -> tuple[RequestTally, list[DayChange]]:
    """What ``event`` changes: the request's new tally and one change per dimension value
    touched, on the event's day in the town's ``timezone``. The same function counts live
    events and the backfill's replay of a request's history, so both give equal figures.

    An event already applied changes nothing (``tally`` is returned as it is)."""
    if event.mark in tally.applied:
        return tally, []
    facts = event.facts
    if facts is None:
        raise ValueError("an event is counted with its request's facts")
    values = facts.values()
    counters: dict[str, int] = {}
    to_ack: float | None = None
    to_close: float | None = None
    acknowledged = tally.acknowledged
    open_in = tally.open_in
    here = tuple(sorted(values.items()))
    if event.kind in _OPENING:
        counters = {name: 1 for name in _OPENING[event.kind] or ("opened",)}
        open_in = here
    elif event.kind == "closed":
        counters["closed"] = 1
        to_close = max((event.at - facts.requested_at).total_seconds(), 0.0)
        if facts.expected_at is not None:
            counters["sla_met" if event.at <= facts.expected_at else "sla_missed"] = 1
        if facts.resolution == "duplicate":
            counters["duplicates"] = 1
        open_in = None
    elif event.kind == "rated" and facts.rating is not None:
        counters = {"ratings": 1, "rating_total": int(facts.rating)}
    elif event.kind == FOLLOWED:
        counters = {"followers": 1}
    elif open_in is not None:
        open_in = here  # routed, handed off, declined...: the open count follows it
    if event.kind in _RESPONSES and not acknowledged:
        to_ack = max((event.at - facts.requested_at).total_seconds(), 0.0)
        acknowledged = True

    day = event.at.astimezone(timezone).date()
    changes: dict[tuple[str, str], DayChange] = {}

    def change(dimension: str, value: str) -> DayChange:
        return changes.setdefault((dimension, value), DayChange(day, dimension, value))

    for dimension, value in values.items():
        c = change(dimension, value)
        c.counters.update(counters)
        c.to_acknowledge, c.to_close = to_ack, to_close
    if open_in != tally.open_in:
        for dimension, value in tally.open_in or ():
            change(dimension, value).open_delta -= 1
        for dimension, value in open_in or ():
            change(dimension, value).open_delta += 1
    kept = [c for c in changes.values() if not c.is_empty]
    new = RequestTally(applied=tally.applied | {event.mark}, open_in=open_in,
                       acknowledged=acknowledged, version=tally.version + 1)
    return new, kept


def facts_of(request: ServiceRequest) -> RequestFacts:
    """A request's facts as it is now."""
    return RequestFacts(service=request.service_code, department=request.department,
                        zone=request.zone, channel=request.channel,
                        requested_at=request.requested_at, expected_at=request.expected_at,
                        rating=request.rating, resolution=request.resolution)
