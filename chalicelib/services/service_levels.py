"""Service levels: the due date a resident sees, the clock through hold and reopen, the
15-minute sweep that climbs the escalation ladder, and the SLA figures.

The sweep reads only what is due: the sparse ``by_sla`` index holds each open request
under the UTC hour of its next step, across all towns, so a sweep costs one Query per hour
since its last finished run plus one read per due request, whatever the number of towns or
requests. Each step is a conditional write of the request (the level moves up once; a
second sweep, or one re-run after dying half way, finds the level already raised and sends
nothing); the escalation is published after the write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain import sla
from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.catalogue import Answer, Service
from chalicelib.domain.errors import Conflict, StorageUnavailable
from chalicelib.domain.queries import RequestQuery
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.domain.towns import Town

if TYPE_CHECKING:
    from chalicelib.services.ports import (
        EscalationTopics,
        RequestStore,
        ServiceLevelStore,
        TownDirectory,
    )

if TYPE_CHECKING:  # outreach loads phonenumbers: only a sweep that texts staff pays
    from chalicelib.services.outreach import OutreachPorts

log = logging.getLogger(__name__)
BUSINESS = ("business_hours", "business_days")
SWEEP_LIMIT = 1000  # due requests per hour bucket per run; the rest wait 15 minutes


# --- the clock ------------------------------------------------------------------------------


def target_for(service: Service, town: Town,
               answers: dict[str, Answer]) -> sla.SlaTarget | None:
    """The target a new request gets: the emergency's for its service while one is
    declared (None: paused), else its priority answer's, else the service's."""
    if town.emergency_active and service.code in town.emergency_services:
        return town.emergency_services[service.code]  # type: ignore[return-value]
    return service.sla.target_for(answers) if service.sla else None


def start_clock(request: ServiceRequest, target: sla.SlaTarget | None, town: Town,
                now: datetime) -> None:
    """Set the due date from ``now`` (submission, reopening, the end of a hold)."""
    request.sla_target = target
    request.escalation_level = 0
    request.sla_hours_left = None
    if target is None:
        request.sla_started_at = request.expected_at = request.next_sla_at = None
        return
    request.sla_started_at = now
    request.expected_at = sla.due_at(now, target, town.calendar, town.timezone)
    request.next_sla_at = _step_time(request, town, 0)


def _step_time(request: ServiceRequest, town: Town, level: int) -> datetime | None:
    if level >= len(town.sla_ladder) or request.expected_at is None \
            or request.sla_started_at is None:
        return None
    share, _ = town.sla_ladder[level]
    return sla.escalation_time(request.sla_started_at, request.expected_at, share)


def clock_step(request: ServiceRequest, action: str, town: Town | None,
               now: datetime) -> str | None:
    """Move the clock for a lifecycle step; returns what to add to the step's timeline
    summary when the due date moved (the resident sees it move)."""
    if town is None or request.sla_target is None:
        if action == "close":
            request.next_sla_at = None
        return None
    if action == "close":
        request.next_sla_at = None
        return None
    if action == "hold" and request.expected_at is not None:
        left = (sla.business_time_between(now, request.expected_at, town.calendar,
                                          town.timezone)
                if request.sla_target.unit in BUSINESS else request.expected_at - now)
        request.sla_hours_left = max(left.total_seconds() / 3600, 0.0)
        request.expected_at = request.next_sla_at = None
        return "due date paused"
    if action in ("reopen", "dispute"):
        start_clock(request, request.sla_target, town, now)
        return f"now expected by {_local(request.expected_at, town)}"
    if action == "accept" and request.sla_hours_left is not None:
        unit = "business_hours" if request.sla_target.unit in BUSINESS else "hours"
        hours = max(request.sla_hours_left, 1 / 60)
        request.expected_at = sla.due_at(now, sla.SlaTarget(hours, unit), town.calendar,
                                         town.timezone)
        request.sla_hours_left = None
        request.next_sla_at = _next_unpassed(request, town, now)
        return f"now expected by {_local(request.expected_at, town)}"
    return None


def _next_unpassed(request: ServiceRequest, town: Town, now: datetime) -> datetime | None:
    # After a hold the ladder keeps its level: the next step is at least a minute away.
    at = _step_time(request, town, request.escalation_level)
    return max(at, now + timedelta(minutes=1)) if at is not None else None


def _local(at: datetime | None, town: Town) -> str:
    return at.astimezone(town.zone).strftime("%Y-%m-%d %H:%M") if at else "later"


# --- the sweep ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepPorts:
    store: ServiceLevelStore
    towns: TownDirectory
    escalations: EscalationTopics
    new_id: Callable[[], str]
    now: Callable[[], datetime]
    base_url: str = ""
    outreach: OutreachPorts | None = None  # texts to staff count too
    # SMS subscribers per (town, audience) of the escalation topics: read once per sweep (the
    # ports are built for each run).
    text_subscribers: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass
class SweepResult:
    hours_read: int = 0
    due: int = 0
    escalated: int = 0
    published: int = 0  # escalations published, one per audience told
    skipped: int = 0


def sweep(ports: SweepPorts) -> SweepResult:
    """Raise every due request one rung per passed step, and tell the rung's audience."""
    now = ports.now()
    result = SweepResult()
    this_hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    cursor = ports.store.sla_cursor() or this_hour - timedelta(hours=24)
    hour = min(cursor, this_hour)
    finished = True
    while hour <= this_hour:
        due = ports.store.sla_due(hour, now, SWEEP_LIMIT)
        result.hours_read += 1
        result.due += len(due)
        finished = finished and len(due) < SWEEP_LIMIT
        for town_id, request_id in due:
            try:
                escalate(ports, town_id, request_id, now, result)
            except (Conflict, StorageUnavailable) as e:
                # Still due: the next run (15 minutes) tries again, once.
                result.skipped += 1
                finished = False
                log.warning("SLA step not taken; retried next sweep", exc_info=e,
                            extra={"town": town_id, "service_request_id": request_id})
        hour += timedelta(hours=1)
    if finished:
        ports.store.save_sla_cursor(this_hour)
    return result


def escalate(ports: SweepPorts, town_id: str, request_id: str, now: datetime,
             result: SweepResult) -> None:
    request = ports.store.get(town_id, request_id, with_timeline=False)
    town = ports.towns.get_town(town_id)
    if request is None or town is None or request.status != "open" \
            or request.next_sla_at is None or request.next_sla_at > now:
        return  # moved on since it was indexed (closed, held, re-dated)
    steps: list[tuple[float, str]] = []
    level = request.escalation_level
    while level < len(town.sla_ladder):
        at = _step_time(request, town, level)
        if at is None or at > now:
            break
        steps.append(town.sla_ladder[level])
        level += 1
    if not steps:
        request.next_sla_at = _step_time(request, town, level)
        return
    request.escalation_level = level
    request.next_sla_at = _step_time(request, town, level)
    late = now - request.expected_at if request.expected_at else timedelta()
    when = f"overdue by {_duration(late)}" if late > timedelta() else \
        f"due in {_duration(-late)}"
    audiences = [_audience(who, request) for _, who in steps]
    event = TimelineEvent(at=now, event_id=ports.new_id(), kind="escalated",
                          summary=f"Escalation level {level}: {when}; "
                                  f"told {', '.join(audiences)}",
                          public=False, actor_role="system")
    request.timeline.append(event)
    ports.store.record_change(request, event)  # Conflict: someone acted; next sweep
    result.escalated += 1
    link = f"{ports.base_url.rstrip('/')}/staff/requests/{request.request_id}"
    for audience in audiences:
        subject = (f"{town.name}: {request.service_name} "
                   f"{request.tracking_number or request.request_id} {when}")[:100]
        text = (f"{request.service_name} {request.tracking_number or request.request_id}"
                f"{' at ' + request.place.address if request.place.address else ''} is "
                f"{when} (due {_local(request.expected_at, town)}, {town.timezone}); "
                f"assigned to {request.agency_responsible or 'no department yet'}. "
                f"Escalation level {level}. {link}")
        try:
            ports.escalations.publish(town_id, audience, subject, text)
            result.published += 1
            if ports.outreach is not None:
                from chalicelib.services.outreach import count_topic_texts

                count_topic_texts(ports.outreach, town_id, audience, text,
                                  ports.text_subscribers)
        except StorageUnavailable:
            log.error("escalation not published (the step is recorded on the timeline)",
                      extra={"town": town_id, "service_request_id": request_id,
                             "audience": audience})


def _audience(who: str, request: ServiceRequest) -> str:
    if who == "department":
        return f"department:{request.department or 'triage'}"
    return who


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


# --- figures --------------------------------------------------------------------------------


@dataclass
class SlaFigures:
    key: str
    closed: int = 0
    met: int = 0
    open_overdue: int = 0
    hours_to_close: list[float] = field(default_factory=list)

    def document(self) -> dict[str, object]:
        import statistics  # reports only: not on a submission's cold path

        ordered = sorted(self.hours_to_close)
        p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))] \
            if ordered else None
        return {"closed": self.closed, "met": self.met,
                "share_met": round(self.met / self.closed, 3) if self.closed else None,
                "median_hours_to_close": round(statistics.median(ordered), 2)
                if ordered else None,
                "p90_hours_to_close": round(p90, 2) if p90 is not None else None,
                "open_overdue": self.open_overdue}


def figures(store: RequestStore, who: Principal, start: datetime, end: datetime,
            now: datetime) -> dict[str, object]:
    """Per service and department, over requests made in [start, end] (a Query of the
    town's requests by time, page by page; never a scan)."""
    require(who, Permission.READ_REQUESTS, who.town_id)
    by_service: dict[str, SlaFigures] = {}
    by_department: dict[str, SlaFigures] = {}
    page_no = 1
    while True:
        page = store.find(who.town_id or "", RequestQuery(start=start, end=end,
                                                          page=page_no, page_size=500))
        for r in page.items:
            if r.sla_target is None:
                continue
            for table, key in ((by_service, r.service_code),
                               (by_department, r.department or "unrouted")):
                f = table.setdefault(key, SlaFigures(key))
                if r.status == "closed" and r.closed_at is not None:
                    f.closed += 1
                    f.hours_to_close.append(
                        (r.closed_at - r.requested_at).total_seconds() / 3600)
                    f.met += r.expected_at is None or r.closed_at <= r.expected_at
                elif r.expected_at is not None and r.expected_at < now:
                    f.open_overdue += 1
        if not page.has_more:
            break
        page_no += 1
    return {"services": {k: v.document() for k, v in sorted(by_service.items())},
            "departments": {k: v.document() for k, v in sorted(by_department.items())}}


def figures_report(store: RequestStore, who: Principal, start: datetime | None,
                   end: datetime | None, now: datetime) -> dict[str, object]:
    """``figures`` over a window the caller may leave open: it ends now and starts 90 days
    before its end, and spans at most a year."""
    from chalicelib.domain.errors import InvalidInput, Problem

    end = (end or now).astimezone(UTC)
    start = (start or end - timedelta(days=90)).astimezone(UTC)
    if start > end or end - start > timedelta(days=366):
        raise InvalidInput.of([Problem("start_date", "must be before end_date, at most a "
                                                     "year apart")])
    return {"start_date": start.isoformat(), "end_date": end.isoformat(),
            **figures(store, who, start, end, now)}
