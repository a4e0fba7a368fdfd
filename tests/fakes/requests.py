"""Fakes of the request ports: the request store (followers and service levels too),
open requests by place, and the phone migration's extra reads and writes."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

from chalicelib.domain.errors import AlreadyApplied, Conflict, NotFound, Throttled
from chalicelib.domain.followers import FOLLOWER, REPORTER, Follower, contact_hashes, tracking_key
from chalicelib.domain.queries import (
    Quota,
    RequestPage,
    RequestQuery,
    has_open_dispute,
    is_overdue,
)
from chalicelib.domain.requests import Reporter, ServiceRequest, TimelineEvent
from chalicelib.domain.towns import AuditEntry


class FakeRequestStore:
    """RequestStore (with its followers, and the SLA sweep's index and cursor) in memory."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str], ServiceRequest] = {}
        self.events: dict[tuple[str, str], list[TimelineEvent]] = {}
        self.tokens: dict[tuple[str, str], str] = {}
        self.rates: dict[tuple[str, str, datetime], int] = {}
        self.residents: dict[tuple[str, str], list[str]] = {}
        self.audit_entries: list[AuditEntry] = []
        self.applied: set[tuple[tuple[str, str], str]] = set()
        self.tracking: dict[tuple[str, str], str] = {}
        self.followers: dict[tuple[str, str], dict[str, Follower]] = {}
        self.follows: dict[tuple[str, str], set[str]] = {}
        self.links: dict[tuple[str, str], tuple[str, str, str, int]] = {}
        self.tally: dict[tuple[str, str], int] = {}
        self.cursor: datetime | None = None

    def add(self, request: ServiceRequest, first_event: TimelineEvent,
            quota: Quota | None = None, audit: AuditEntry | None = None,
            reporter: Follower | None = None) -> None:
        key = (request.town_id, request.request_id)
        number = tracking_key(request.tracking_number or "")
        if number and (request.town_id, number) in self.tracking:
            raise Conflict("a request with this id already exists")
        if quota is not None:
            window = (request.town_id, quota.key_id, quota.window_start)
            if self.rates.get(window, 0) >= quota.limit_per_minute:
                raise Throttled("over the key's rate", retry_after_seconds=60)
        if key in self.requests or (request.town_id, request.token_hash) in self.tokens:
            raise Conflict("a request with this id already exists")
        if quota is not None:
            self.rates[window] = self.rates.get(window, 0) + 1
        self.requests[key] = copy.deepcopy(request)
        self.events[key] = [first_event]
        if request.token_hash:
            self.tokens[(request.town_id, request.token_hash)] = request.request_id
        for contact in contact_hashes(request.reporter.email, request.reporter.phone):
            self.residents.setdefault((request.town_id, contact), []).append(request.request_id)
        if audit is not None:
            self.audit_entries.append(audit)
        if number:
            self.tracking[(request.town_id, number)] = request.request_id
        if reporter is not None:
            self.followers.setdefault(key, {})[reporter.follower_id] = reporter

    def requests_followed_by(self, town_id: str, contact_hash: str) -> list[str]:
        return sorted(self.follows.get((town_id, contact_hash), set()))

    def is_reporter_or_follower(self, town_id: str, request_id: str,
                                contact_hash: str) -> str | None:
        if request_id in self.residents.get((town_id, contact_hash), []):
            return REPORTER
        return FOLLOWER if request_id in self.follows.get((town_id, contact_hash), set()) \
            else None

    def follow(self, town_id: str, request_id: str, follower: Follower) -> bool:
        key = (town_id, request_id)
        stored = self.requests.get(key)
        if follower.follower_id in self.followers.get(key, {}):
            return False
        if stored is None:
            raise NotFound(f"no service request {request_id!r}")
        if stored.status != "open":
            raise Conflict("only an open request can be followed")
        self.followers.setdefault(key, {})[follower.follower_id] = follower
        for h in follower.contact_hashes:
            self.follows.setdefault((town_id, h), set()).add(request_id)
        stored.followers += follower.role == FOLLOWER
        stored.version += 1
        return True

    def unfollow(self, town_id: str, request_id: str, follower: Follower) -> None:
        key = (town_id, request_id)
        if self.followers.get(key, {}).pop(follower.follower_id, None) is None:
            return
        for h in follower.contact_hashes:
            self.follows.get((town_id, h), set()).discard(request_id)
        if follower.role == FOLLOWER and key in self.requests:
            self.requests[key].followers -= 1
            self.requests[key].version += 1

    def followers_of(self, town_id: str, request_id: str) -> Iterator[Follower]:
        yield from sorted(self.followers.get((town_id, request_id), {}).values(),
                          key=lambda f: f.follower_id)

    def get_follower(self, town_id: str, request_id: str,
                     follower_id: str) -> Follower | None:
        return self.followers.get((town_id, request_id), {}).get(follower_id)

    def save_follower(self, town_id: str, request_id: str, follower: Follower,
                      dropped: str | None = None) -> None:
        found = self.followers.get((town_id, request_id), {})
        if follower.follower_id not in found:
            raise NotFound("this follower stopped following")
        found[follower.follower_id] = follower
        if dropped:
            self.follows.get((town_id, dropped), set()).discard(request_id)

    def save_link(self, town_id: str, secret_hash: str, request_id: str, follower_id: str,
                  channel: str, expires_at: int) -> None:
        self.links[(town_id, secret_hash)] = (request_id, follower_id, channel, expires_at)

    def take_link(self, town_id: str, secret_hash: str,
                  now: int) -> tuple[str, str, str] | None:
        found = self.links.pop((town_id, secret_hash), None)
        if found is None or found[3] < now:
            return None
        return found[0], found[1], found[2]

    def request_id_for_tracking(self, town_id: str, tracking_number: str) -> str | None:
        return self.tracking.get((town_id, tracking_key(tracking_number) or ""))

    def tallies(self, town_id: str, prefix: str) -> dict[str, int]:
        return {name: n for (t, name), n in self.tally.items()
                if t == town_id and name.startswith(prefix)}

    def department_work(self, town_id: str, department: str, state: str | None, limit: int,
                        after: str | None) -> RequestPage:
        mine = sorted((r for (t, _), r in self.requests.items()
                       if t == town_id and r.department == department and r.status == "open"
                       and (state is None or r.lifecycle == state)),
                      key=lambda r: (r.requested_at, r.request_id))
        if after is not None:
            ids = [r.request_id for r in mine]
            mine = mine[ids.index(after) + 1:] if after in ids else mine
        return RequestPage([copy.deepcopy(r) for r in mine[:limit]], len(mine) > limit)

    def unrouted_before(self, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        stuck = sorted((r.requested_at, t, rid) for (t, rid), r in self.requests.items()
                       if r.status == "open" and r.department is None
                       and r.requested_at < cutoff)
        return [(t, rid) for _, t, rid in stuck[:limit]]

    def requests_of_resident(self, town_id: str, contact_hash: str) -> list[str]:
        return sorted(self.residents.get((town_id, contact_hash), []))

    def forget_resident(self, town_id: str, contact_hash: str, request_ids: list[str]) -> None:
        kept = [r for r in self.residents.get((town_id, contact_hash), [])
                if r not in request_ids]
        self.residents[(town_id, contact_hash)] = kept

    def record_change(self, request: ServiceRequest, event: TimelineEvent,
                      once: str | None = None, tally: dict[str, int] | None = None) -> None:
        key = (request.town_id, request.request_id)
        stored = self.requests.get(key)
        if once is not None and (key, once) in self.applied:
            raise AlreadyApplied("this update was applied before")
        if stored is None or stored.version != request.version:
            raise Conflict("the request changed meanwhile; read it again")
        if once is not None:
            self.applied.add((key, once))
        request.version += 1
        self.requests[key] = copy.deepcopy(request)
        self.events[key].append(event)
        for name, amount in (tally or {}).items():
            self.tally[(request.town_id, name)] = self.tally.get((request.town_id, name), 0) \
                + amount

    def get(self, town_id: str, request_id: str, *,
            with_timeline: bool) -> ServiceRequest | None:
        stored = self.requests.get((town_id, request_id))
        if stored is None:
            return None
        found = copy.deepcopy(stored)
        found.timeline = list(self.events[(town_id, request_id)]) if with_timeline else \
            [e for e in found.timeline if e.public]
        return found

    def get_many(self, town_id: str, request_ids: list[str]) -> list[ServiceRequest]:
        found = (self.get(town_id, rid, with_timeline=False) for rid in dict.fromkeys(request_ids))
        return [r for r in found if r is not None]

    def request_id_for_token_hash(self, town_id: str, token_hash: str) -> str | None:
        return self.tokens.get((town_id, token_hash))

    def find(self, town_id: str, query: RequestQuery) -> RequestPage:
        def when(r: ServiceRequest):  # noqa: ANN202
            return r.updated_at if query.by_updated else r.requested_at

        matching = [
            r for (t, _), r in self.requests.items()
            if t == town_id and query.start <= when(r) <= query.end
            and (not query.statuses or r.status in query.statuses)
            and (not query.service_codes or r.service_code in query.service_codes)
            and (query.updated_start is None or r.updated_at >= query.updated_start)
            and (query.updated_end is None or r.updated_at <= query.updated_end)
            and (not query.departments or r.department in query.departments)
            and (not query.zone or r.zone == query.zone)
            and (not query.text or query.text.lower() in " ".join(
                p for p in (r.service_name, r.description, r.place.address) if p).lower())
            and (not query.channels or r.channel in query.channels)
            and (query.overdue is None or query.as_of is None
                 or is_overdue(r, query.as_of) == query.overdue)
            and (query.disputed is None or has_open_dispute(r) == query.disputed)
        ]
        matching.sort(key=lambda r: (when(r), r.request_id), reverse=True)
        skip = (query.page - 1) * query.page_size
        page = matching[skip:skip + query.page_size]
        return RequestPage([copy.deepcopy(r) for r in page],
                           len(matching) > skip + query.page_size)

    # --- ServiceLevelStore: the by_sla index (open requests by the UTC hour of their next
    # SLA step) and the sweep's cursor.

    def sla_due(self, bucket_hour: datetime, now: datetime,
                limit: int) -> list[tuple[str, str]]:
        hour = bucket_hour.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        due = sorted((r.next_sla_at, t, rid) for (t, rid), r in self.requests.items()
                     if r.status == "open" and r.next_sla_at is not None
                     and r.next_sla_at.astimezone(UTC).replace(
                         minute=0, second=0, microsecond=0) == hour
                     and r.next_sla_at <= now)
        return [(t, rid) for _, t, rid in due[:limit]]

    def sla_cursor(self) -> datetime | None:
        return self.cursor

    def save_sla_cursor(self, hour: datetime) -> None:
        self.cursor = hour


class FakeNearbyRequests:
    """``NearbyRequests`` over a ``FakeRequestStore``'s requests: what ``by_place`` holds
    (open requests with a point, keyed by town, service and geohash-7 cell)."""

    def __init__(self, store: FakeRequestStore) -> None:
        self.store = store
        self.calls: list[tuple[str, str, tuple[str, ...], datetime]] = []

    def open_near(self, town_id: str, service_code: str, cells: list[str],
                  since: datetime) -> list[ServiceRequest]:
        from chalicelib.domain.geo import cell_of

        self.calls.append((town_id, service_code, tuple(cells), since))
        wanted = set(cells)
        return [copy.deepcopy(r) for (t, _), r in sorted(self.store.requests.items())
                if t == town_id and r.service_code == service_code and r.status == "open"
                and r.place.has_point and r.requested_at >= since
                and cell_of(r.place.lat, r.place.long) in wanted]


class FakePhoneMigration:
    """PhoneMigrationStore over a ``FakeRequestStore``'s requests and resident index."""

    def __init__(self, store: FakeRequestStore) -> None:
        self.store = store

    def request_ids(self, town_id: str) -> Iterator[str]:
        yield from sorted(rid for (t, rid) in self.store.requests if t == town_id)

    def set_reporter_phone(self, town_id: str, request_id: str, reporter: Reporter) -> None:
        stored = self.store.requests.get((town_id, request_id))
        if stored is None:
            raise NotFound(f"no service request {request_id!r}")
        stored.reporter = dataclasses.replace(reporter)

    def add_resident_entry(self, town_id: str, contact_hash: str, request_id: str, *,
                           reported: bool) -> None:
        index = self.store.residents if reported else None
        if index is not None:
            found = index.setdefault((town_id, contact_hash), [])
            if request_id not in found:
                found.append(request_id)
        else:
            self.store.follows.setdefault((town_id, contact_hash), set()).add(request_id)
