"""A year of Maple Falls' requests for `make run`, made up with a known truth.

``generate_year`` is pure and seeded: the same seed and end give the same requests. Each of
the demo pack's services (chalicelib/packs/small_town.json) comes in at its own yearly
volume and season — potholes after the spring thaw, snow and ice in winter, missed yard
waste and downed limbs in the autumn leaf season (the pack has no "leaves" service:
leaf and brush pickups are missed-trash reports), graffiti and dumping in summer —, more
on weekdays than at weekends and mostly in the day. Each request is routed a few minutes
after it came in, most are acknowledged, and each service closes its requests after a
log-normal time of its own; a few are disputed and reopened, some rated, some closed as
duplicates of an earlier one nearby, some followed. The requests come with ``DemoTruth``:
what the generator made, counted as it made it, for tests and the forecast's evaluation.

``seed_demo_year`` writes them straight into the request table with batched writes (the
adapters' own item mappers, so the stored shape is the app's): going through intake one by
one would take minutes. Nothing is sent and no SLA sweep picks them up (their next SLA step
is cleared); their usage counts, and the disputes and ratings tallies the feedback report
reads, are added in one update per counter; ``rebuild_figures`` then rebuilds the town's
figures from them with the figures' backfill (chalicelib.services.figures.backfill), as
after any import of history. On the emulator that takes minutes for a year (a query per
request and an item per day, dimension and value), so `make run` does it in the background.

At about 8,000 residents and 0.3 requests each a year, Maple Falls files ~2,400 a year.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from chalicelib.domain.catalogue import Catalogue
    from chalicelib.domain.requests import ServiceRequest, TimelineEvent
    from chalicelib.domain.towns import Town

RESIDENTS = 8_000
REQUESTS_PER_RESIDENT = 0.3


@dataclass(frozen=True)
class Pattern:
    """How one service's requests come and go: its share of the year's requests, its
    month-by-month rate (January first, relative: only the shape matters), and the
    log-normal time to close (median hours and the spread of its logarithm)."""

    code: str
    share: float
    months: tuple[float, ...]
    close_hours: float
    close_spread: float
    texts: tuple[str, ...]


PATTERNS = (
    Pattern("pothole", 0.22, (1.0, 1.6, 2.6, 3.0, 2.2, 1.2, 0.7, 0.6, 0.6, 0.7, 0.8, 0.9),
            40, 0.9, ("Deep pothole in the right lane", "Several potholes after the freeze",
                      "Pothole at the crosswalk, cars swerving")),
    Pattern("snow_ice", 0.10, (3.5, 3.0, 1.4, 0.2, 0, 0, 0, 0, 0, 0.1, 1.2, 3.0),
            14, 0.7, ("Street not plowed since the storm", "Sidewalk is a sheet of ice",
                      "Plow left a ridge blocking the driveway")),
    Pattern("missed_trash", 0.15, (0.8, 0.7, 0.8, 1.0, 1.1, 1.0, 1.0, 1.0, 1.1, 1.9, 2.0,
                                   0.9),
            30, 0.6, ("Yard waste bags of leaves not picked up", "Trash missed this week",
                      "Recycling cart skipped on our street")),
    Pattern("downed_tree", 0.08, (0.6, 0.6, 0.8, 1.0, 1.1, 1.2, 1.2, 1.0, 1.1, 1.7, 1.6,
                                  0.8),
            26, 1.0, ("Large limb down across the sidewalk", "Branches down after the wind",
                      "Tree split and leaning over the street")),
    Pattern("streetlight_out", 0.10, (1.3, 1.2, 1.0, 0.9, 0.8, 0.7, 0.7, 0.8, 0.9, 1.1, 1.3,
                                      1.4),
            90, 0.7, ("Streetlight has been dark for a week", "Light flickering all night")),
    Pattern("graffiti", 0.07, (0.5, 0.5, 0.8, 1.0, 1.2, 1.4, 1.5, 1.5, 1.2, 1.0, 0.8, 0.6),
            70, 0.8, ("Graffiti on the bus shelter", "Tags sprayed on the bridge")),
    Pattern("illegal_dumping", 0.07, (0.6, 0.6, 0.9, 1.2, 1.3, 1.3, 1.3, 1.2, 1.1, 1.0, 0.8,
                                      0.7),
            75, 0.8, ("Old mattress dumped by the alley", "Tires left at the park entrance")),
    Pattern("sidewalk_damage", 0.06, (0.5, 0.6, 1.2, 1.5, 1.5, 1.2, 1.0, 1.0, 1.0, 1.0, 0.8,
                                      0.7),
            300, 0.8, ("Sidewalk slab lifted by tree roots", "Broken curb ramp at the corner")),
    Pattern("abandoned_vehicle", 0.05, (1.0,) * 12,
            200, 0.7, ("Car with flat tires parked for weeks", "Vehicle without plates")),
    Pattern("water_leak", 0.04, (1.8, 1.7, 1.2, 0.9, 0.8, 0.7, 0.7, 0.7, 0.7, 0.8, 1.0, 1.5),
            8, 0.8, ("Water bubbling up through the pavement", "Hydrant leaking")),
    Pattern("traffic_signal", 0.03, (1.0,) * 12,
            5, 0.9, ("Walk signal button not working", "Signal stuck on red")),
    Pattern("other", 0.03, (1.0,) * 12,
            48, 1.0, ("Question about the town's leaf collection", "Noise from the plant")),
)
# Monday first; mean 1 over the week.
WEEKDAYS = (1.3, 1.2, 1.1, 1.05, 1.0, 0.75, 0.6)
# The hour of the day a request comes in (town time), 0..23.
HOURS = (1, 1, 0, 0, 0, 1, 3, 6, 8, 9, 9, 8, 8, 8, 8, 7, 7, 6, 6, 5, 4, 3, 2, 1)
CHANNELS = (("web", 52), ("open311", 14), ("phone", 18), ("sms", 8), ("counter", 4),
            ("email", 4))
ACKNOWLEDGED_SHARE = 0.85
IN_PROGRESS_SHARE = 0.4
DISPUTED_SHARE = 0.03  # of closed requests: "it is not fixed", reopened
RATED_SHARE = 0.2
DUPLICATE_SHARE = 0.04  # closed as a duplicate of an earlier open request of the service
FOLLOWED_SHARE = 0.08
RESOLUTIONS = ("Repaired by the crew.", "Fixed; thank you for reporting it.",
               "Cleaned up and the area checked.", "Done.")


@dataclass
class DemoTruth:
    """What the generator made, counted as it made it. Weeks are Monday-started and
    months are calendar months, both in town time; times to close in hours."""

    start: datetime
    end: datetime
    expected_per_week: dict[str, dict[date, float]] = field(default_factory=dict)
    opened_per_week: dict[str, Counter[date]] = field(default_factory=dict)
    opened_per_month: dict[str, Counter[str]] = field(default_factory=dict)
    opened_by_channel: Counter[str] = field(default_factory=Counter)
    opened_by_zone: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)
    open_at_end: Counter[str] = field(default_factory=Counter)
    disputes: Counter[str] = field(default_factory=Counter)
    ratings: Counter[str] = field(default_factory=Counter)
    rating_total: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    followers: Counter[str] = field(default_factory=Counter)
    hours_to_close: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def opened(self, service: str | None = None) -> int:
        services = [service] if service else list(self.opened_per_week)
        return sum(sum(self.opened_per_week.get(s, Counter()).values()) for s in services)

    def median_hours_to_close(self, service: str) -> float | None:
        hours = self.hours_to_close.get(service)
        return statistics.median(hours) if hours else None

    def weekly(self, service: str) -> list[tuple[date, int]]:
        """Every Monday of the period with the service's count (the forecast's input)."""
        weeks = sorted(self.expected_per_week.get(service, {}))
        counts = self.opened_per_week.get(service, Counter())
        return [(monday, counts[monday]) for monday in weeks]


@dataclass
class DemoYear:
    requests: list[ServiceRequest]
    truth: DemoTruth


def monthly_rate(pattern: Pattern, day: date) -> float:
    """The season's relative rate on ``day``: the months' values interpolated between
    mid-months (so a season rises and falls by the day, not in steps), mean about 1."""
    mean = sum(pattern.months) / 12
    position = (day.timetuple().tm_yday - 15.2) / (365.25 / 12)  # 0 = mid-January
    lower = math.floor(position)
    weight = position - lower
    before, after = pattern.months[lower % 12], pattern.months[(lower + 1) % 12]
    return ((1 - weight) * before + weight * after) / mean if mean else 0.0


def daily_rate(pattern: Pattern, day: date, per_year: float) -> float:
    """Expected requests of a service on one day."""
    return per_year * pattern.share / 365.25 * monthly_rate(pattern, day) \
        * WEEKDAYS[day.weekday()] / (sum(WEEKDAYS) / 7)


def demo_town(timezone: str = "America/Chicago") -> Town:
    from chalicelib.domain.towns import Town
    from chalicelib.services.towns import DEMO_JURISDICTION

    return Town(town_id=DEMO_JURISDICTION, name="Maple Falls", timezone=timezone,
                changeset="demo")


def demo_catalogue() -> Catalogue:
    """The demo pack with the demo zones, as Maple Falls starts out."""
    from chalicelib.services.demo_zones import demo_zones
    from chalicelib.services.towns import load_pack

    return replace(load_pack("small_town"), zones=tuple(demo_zones()))


def generate_year(end: datetime, *, seed: int = 2026, days: int = 365,
                  per_year: float = RESIDENTS * REQUESTS_PER_RESIDENT,
                  town: Town | None = None, catalogue: Catalogue | None = None,
                  growth: float = 1.0) -> DemoYear:
    """``days`` of requests up to ``end`` (an aware instant), with the truth.

    ``growth`` is the yearly growth of the volume (1.0: none), for longer histories."""
    from chalicelib.domain.catalogue import parse_attribute_answers
    from chalicelib.domain.requests import Place, Reporter, ServiceRequest
    from chalicelib.domain.sla import due_at
    from chalicelib.domain.zones import zones_containing
    from chalicelib.services.demo_gazetteer import demo_entries
    from local.demo_history import _answers

    rng = random.Random(seed)
    town = town or demo_town()
    catalogue = catalogue or demo_catalogue()
    tz = ZoneInfo(town.timezone)
    end = end.astimezone(UTC)
    first_day = (end.astimezone(tz) - timedelta(days=days)).date() + timedelta(days=1)
    last_day = end.astimezone(tz).date()
    places = [e for e in demo_entries() if e.kind == "address"]
    zone_of = {}
    for place in places:
        found = zones_containing(catalogue.zones, place.lat, place.long)
        zone_of[place.label] = found[0].code if found else None
    channels = [name for name, weight in CHANNELS for _ in range(weight)]
    truth = DemoTruth(start=datetime.combine(first_day, datetime.min.time(), tz).astimezone(UTC),
                      end=end)
    requests: list[ServiceRequest] = []
    recent_by_service: dict[str, list[ServiceRequest]] = defaultdict(list)
    ids = _Ids(rng)
    day = first_day
    while day <= last_day:
        age_years = (last_day - day).days / 365.25
        for pattern in PATTERNS:
            service = catalogue.service(pattern.code)
            if service is None:
                continue
            rate = daily_rate(pattern, day, per_year) * growth ** -age_years
            monday = day - timedelta(days=day.weekday())
            expected = truth.expected_per_week.setdefault(pattern.code, {})
            expected[monday] = expected.get(monday, 0.0) + rate
            for _ in range(poisson(rng, rate)):
                hour = rng.choices(range(24), weights=HOURS)[0]
                at = datetime.combine(day, datetime.min.time(), tz) + timedelta(
                    hours=hour, minutes=rng.uniform(0, 60))
                at = at.astimezone(UTC)
                if at >= end:
                    continue
                place = rng.choice(places)
                answers = parse_attribute_answers(service, _answers(service, rng))
                channel = rng.choice(channels)
                target = service.sla.target_for(answers) if service.sla else None
                request = ServiceRequest(
                    town_id=town.town_id, request_id=ids.at(at), service_code=service.code,
                    service_name=service.name, requested_at=at, updated_at=at,
                    place=Place(lat=place.lat, long=place.long, address=place.label),
                    description=rng.choice(pattern.texts), answers=answers,
                    channel=channel, reporter=Reporter(),
                    entered_by="demo-agent" if channel in ("phone", "counter", "email")
                    else None,
                    zone=zone_of[place.label], tracking_number=_tracking(rng),
                    sla_target=target, sla_started_at=at if target else None,
                    expected_at=due_at(at, target, town.calendar, town.timezone)
                    if target else None)
                _submitted(request, ids)
                _route(request, catalogue, ids)
                _work(request, pattern, rng, end, ids, recent_by_service[service.code])
                requests.append(request)
                _count(truth, request, tz, monday)
                recent_by_service[service.code].append(request)
        day += timedelta(days=1)
    for request in requests:
        if request.status == "open":
            truth.open_at_end[request.service_code] += 1
        truth.followers[request.service_code] += request.followers
    return DemoYear(requests, truth)


class _Ids:
    """ULIDs from the instant and the seeded generator: sortable like the app's own."""

    ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def at(self, when: datetime) -> str:
        value = (int(when.timestamp() * 1000) << 80) | self.rng.getrandbits(80)
        return "".join(self.ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


def _tracking(rng: random.Random) -> str:
    from chalicelib.domain.followers import ALPHABET

    raw = "".join(rng.choice(ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: the daily means here are a few at most."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _event(request: ServiceRequest, ids: _Ids, at: datetime, kind: str, summary: str,
           role: str, description: str | None = None, public: bool = True) -> None:
    from chalicelib.domain.requests import TimelineEvent

    request.timeline.append(TimelineEvent(at=at, event_id=ids.at(at), kind=kind,
                                          summary=summary, description=description,
                                          public=public, actor_role=role))
    request.updated_at = max(request.updated_at, at)


def _submitted(request: ServiceRequest, ids: _Ids) -> None:
    suffix = "" if request.channel == "open311" else f" ({request.channel})"
    _event(request, ids, request.requested_at, "submitted",
           f"{request.service_name} reported{suffix}",
           "resident" if request.entered_by is None else "agent")


def _route(request: ServiceRequest, catalogue: Catalogue, ids: _Ids) -> None:
    department = catalogue.department(catalogue.own_department(request.service_code))
    if department is None:
        return
    request.department, request.agency_responsible = department.code, department.name
    request.lifecycle = "routed"
    _event(request, ids, request.requested_at + timedelta(minutes=2), "routed",
           f"Routed to {department.name}", "system")


def _work(request: ServiceRequest, pattern: Pattern, rng: random.Random, end: datetime,
          ids: _Ids, recent: list[ServiceRequest]) -> None:
    """Acknowledge, work, close (or close as a duplicate), dispute, rate: each step only
    if its time is before ``end``."""
    start = request.requested_at
    # Open when this one came in: the candidates it may be a duplicate of.
    candidates = [r for r in recent[-30:] if r.requested_at < start
                  and (r.closed_at is None or r.closed_at > start) and r.resolution is None]
    if candidates and rng.random() < DUPLICATE_SHARE * 2:
        same_place = [r for r in candidates if r.place.address == request.place.address]
        parent = same_place[-1] if same_place else rng.choice(candidates)
        at = start + timedelta(hours=rng.uniform(1, 24))
        if at < end:
            _close(request, at, ids, "duplicate",
                   f"Closed: duplicate of {parent.tracking_number}", "agent")
            request.parent_request_id = parent.request_id
            request.status_notes = f"Duplicate of {parent.tracking_number}"
            _event(parent, ids, at, "merged",
                   f"Report {request.tracking_number} merged into this one", "agent")
            parent.timeline.sort(key=lambda e: (e.at, e.event_id))
            parent.followers += 1
            return
    close_after = timedelta(hours=rng.lognormvariate(math.log(pattern.close_hours),
                                                     pattern.close_spread))
    close_at = start + max(close_after, timedelta(minutes=20))
    if rng.random() < ACKNOWLEDGED_SHARE:
        ack = start + min(timedelta(hours=rng.lognormvariate(math.log(3), 1.0)),
                          close_after * 0.8)
        if ack < end:
            request.lifecycle = "acknowledged"
            _event(request, ids, ack, "acknowledged",
                   f"Acknowledged by {request.agency_responsible}", "department")
            if rng.random() < IN_PROGRESS_SHARE:
                working = ack + (close_at - ack) * rng.uniform(0.2, 0.8)
                if working < end:
                    request.lifecycle = "in_progress"
                    _event(request, ids, working, "in_progress", "Work started", "department")
    if rng.random() < FOLLOWED_SHARE:
        request.followers += rng.choice((1, 1, 1, 2, 3))
    if close_at >= end:
        return
    _close(request, close_at, ids, "fixed", "Closed: fixed", "department",
           rng.choice(RESOLUTIONS))
    if rng.random() < DISPUTED_SHARE:
        disputed_at = close_at + timedelta(hours=rng.uniform(6, 96))
        if disputed_at < end:
            request.lifecycle, request.status = "reopened", "open"
            request.resolution, request.disputed, request.closed_at = None, True, None
            _event(request, ids, disputed_at, "disputed",
                   "Reopened: a resident says it is not fixed", "resident",
                   "Still there, please look again.")
            again = disputed_at + timedelta(hours=rng.lognormvariate(
                math.log(pattern.close_hours / 2), pattern.close_spread))
            if again >= end:
                return
            _close(request, again, ids, "fixed", "Closed: fixed", "department",
                   "Fixed properly this time.")
            request.disputed = False
    if request.closed_at is not None and rng.random() < RATED_SHARE:
        rated_at = request.closed_at + timedelta(hours=rng.uniform(1, 48))
        if rated_at < end:
            request.rating = rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 2, 4, 5))[0]
            _event(request, ids, rated_at, "rated",
                   f"Rated {request.rating} of 5 by the reporter", "resident", public=False)


def _close(request: ServiceRequest, at: datetime, ids: _Ids, resolution: str, summary: str,
           role: str, note: str | None = None) -> None:
    request.lifecycle, request.status = "closed", "closed"
    request.resolution, request.closed_at = resolution, at
    request.status_notes = note
    _event(request, ids, at, "closed", summary, role, note)


def _count(truth: DemoTruth, r: ServiceRequest, tz: ZoneInfo, monday: date) -> None:
    """Count a request as made (its final state: the generator knows its future)."""
    code = r.service_code
    truth.opened_per_week.setdefault(code, Counter())[monday] += 1
    truth.opened_per_month.setdefault(code, Counter())[
        r.requested_at.astimezone(tz).strftime("%Y-%m")] += 1
    truth.opened_by_channel[r.channel] += 1
    truth.opened_by_zone[r.zone or "none"] += 1
    reopened = any(e.kind == "disputed" for e in r.timeline)
    truth.disputes[code] += reopened
    if r.resolution == "duplicate":
        truth.duplicates[code] += 1
    if r.status == "closed" and r.closed_at is not None:
        truth.closed[code] += 1
        truth.hours_to_close[code].append((r.closed_at - r.requested_at).total_seconds()
                                          / 3600)
    if r.rating is not None:
        truth.ratings[code] += 1
        truth.rating_total[code] += r.rating


# --- writing it -----------------------------------------------------------------------------


def seed_demo_year(container: Any, town_id: str, now: datetime, *, seed: int = 2026,
                   per_year: float = RESIDENTS * REQUESTS_PER_RESIDENT,
                   recent_days: int = 30) -> DemoYear:
    """Generate the year before ``now``, write it to the request table in batches
    (``write_requests``) and add the town's usage, disputes and ratings counters. The
    town's figures are rebuilt by ``rebuild_figures`` afterwards."""
    from chalicelib.services import directory

    town = directory.find_town(container.towns, town_id)
    catalogue = directory.catalogue_of(container.towns, town)
    year = generate_year(now, seed=seed, per_year=per_year, town=town, catalogue=catalogue)
    write_requests(year.requests, now - timedelta(days=recent_days))
    _add_counters(container, town_id, year.requests)
    return year


def rebuild_figures(container: Any, town_id: str, year: DemoYear | None = None) -> Any:
    """The town's figures rebuilt from its requests (the figures' backfill), as after any
    import of history: the year was written past the events that count them.

    Given the ``year`` just written, its requests' events are taken from memory rather than
    read back one request at a time (what the backfill does, and on the emulator a Query
    costs about a second); every other request of the town is read as the backfill reads
    it, so nothing filed meanwhile is left out."""
    from chalicelib.services.figures import backfill

    ports = container.figure_ports
    if year is not None:
        ports = replace(ports, figures=_KnownHistory(ports.figures, year.requests))
    return backfill(ports, town_id)


class _KnownHistory:
    """The figure store, with the history of requests already in memory served from there
    (the same figure events the stored items make: ``figure_event`` of each item)."""

    def __init__(self, store: Any, requests: list[ServiceRequest]) -> None:
        from chalicelib.adapters.dynamodb.figures import figure_event
        from chalicelib.adapters.dynamodb.service_requests import event_item

        self._store = store
        self._known = {
            r.request_id: [e for e in (figure_event(_plain(event_item(
                r.town_id, r.request_id, event, then))) for event, then in _as_it_was(r))
                if e is not None]
            for r in requests}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def history(self, town_id: str) -> Iterable[list[Any]]:
        from chalicelib.adapters.dynamodb import keys
        from chalicelib.adapters.dynamodb.figures import figure_event, request_facts
        from chalicelib.adapters.dynamodb.service_requests import RequestItem
        from chalicelib.adapters.dynamodb.table import query_items
        from chalicelib.domain.figures import FigureEvent

        for item in RequestItem.by_requested.query(keys.town_pk(town_id)):
            known = self._known.get(item.request_id)
            if known is not None:
                yield known
                continue
            now = request_facts(item)  # as DynamoFigureStore.history reads a request
            events = []
            for raw in query_items(keys.request_pk(town_id, item.request_id)):
                event = figure_event({k: next(iter(v.values())) for k, v in raw.items()})
                if event is not None:
                    events.append(event if event.facts is not None else FigureEvent(
                        event.town_id, event.request_id, event.mark, event.kind, event.at,
                        now))
            yield events


def _plain(item: Any) -> dict[str, Any]:
    """An item as a stream record's plain values (what ``figure_event`` reads)."""
    return {name: next(iter(value.values())) for name, value in item.serialize().items()} | {
        "PK": item.PK, "SK": item.SK}


def write_requests(requests: Iterable[ServiceRequest], recent_after: datetime) -> int:
    """Batch-write requests: each one's item and timeline events (the figures' backfill
    replays the events, each carrying the request's facts as they were then), and for
    those still open or requested after ``recent_after`` their tracking numbers (a third
    fewer items keep `make run` quick: nobody tracks a year-old report by its number).
    Returns the items written."""
    from chalicelib.adapters.dynamodb import keys
    from chalicelib.adapters.dynamodb.service_requests import (
        RequestItem,
        TrackItem,
        event_item,
        request_item,
    )

    written = 0
    with RequestItem.batch_write() as batch:
        for request in requests:
            request.next_sla_at = None  # history: the SLA sweep has nothing to do with it
            batch.save(request_item(request))
            for event, then in _as_it_was(request):
                batch.save(event_item(request.town_id, request.request_id, event, then))
            written += 1 + len(request.timeline)
            if request.tracking_number and (request.requested_at >= recent_after
                                            or request.status == "open"):
                batch.save(TrackItem(keys.track_pk(request.town_id, request.tracking_number),
                                     keys.TRACK_SK, request_id=request.request_id))
                written += 1
    return written


def _as_it_was(request: ServiceRequest) -> Iterable[tuple[TimelineEvent, ServiceRequest]]:
    """Each timeline event with the request as it was just after it: no department before
    it was routed, a resolution only while closed, a rating once rated."""
    department = resolution = rating = None
    for event in request.timeline:
        if event.kind == "routed":
            department = request.department
        elif event.kind == "closed":
            resolution = "duplicate" if "duplicate" in event.summary else "fixed"
        elif event.kind == "disputed":
            resolution = None
        elif event.kind == "rated":
            rating = request.rating
        yield event, replace(request, department=department, resolution=resolution,
                             rating=rating)


def _add_counters(container: Any, town_id: str, requests: list[ServiceRequest]) -> None:
    """The counters the app keeps as things happen: usage by month and channel, and the
    disputes and ratings tallies by department."""
    from chalicelib.adapters.dynamodb.limits import add_to_tally
    from chalicelib.domain.usage import requests_counter, usage_month

    usage: Counter[tuple[str, str]] = Counter()
    tallies: Counter[str] = Counter()
    for r in requests:
        usage[(usage_month(r.requested_at), requests_counter(r.channel))] += 1
        department = r.department or "none"
        tallies[f"disputes#{department}"] += any(e.kind == "disputed" for e in r.timeline)
        if r.rating is not None:
            tallies[f"ratings#{department}#count"] += 1
            tallies[f"ratings#{department}#points"] += r.rating
    for (month, counter), amount in sorted(usage.items()):
        container.usage.add(town_id, month, {counter: amount})
    for name, amount in sorted(tallies.items()):
        if amount:
            item, actions = add_to_tally(town_id, name, amount)
            item.update(actions=actions)
