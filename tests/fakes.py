"""In-memory stand-ins for the ports, for fast service tests. The contract tests in
tests/integration run the same assertions against these and the DynamoDB adapters, so the
fakes cannot drift from the real thing."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamodb import contact_hashes, key_hash
from chalicelib.domain.catalogue import Catalogue, Department, Service
from chalicelib.domain.errors import (
    AlreadyApplied,
    Conflict,
    NotFound,
    StorageUnavailable,
    Throttled,
)
from chalicelib.domain.followers import FOLLOWER, REPORTER, Follower, tracking_key
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.domain.towns import ApiKey, AuditEntry, StaffMember, Town
from chalicelib.domain.zones import Zone
from chalicelib.services.ports import Quota, RequestPage, RequestQuery


class FakeTownDirectory:
    def __init__(self) -> None:
        self.towns: dict[str, Town] = {}
        self.catalogues: dict[str, Catalogue] = {}
        self.keys: dict[tuple[str, str], tuple[ApiKey, str]] = {}  # (town, key id)
        self.staff: dict[tuple[str | None, str], StaffMember] = {}
        self.reads = 0

    def get_town(self, town_id: str) -> Town | None:
        self.reads += 1
        return self.towns.get(town_id)

    def list_towns(self) -> list[str]:
        return sorted(self.towns)

    def get_catalogue(self, town_id: str, changeset: str) -> Catalogue:
        self.reads += 1
        found = self.catalogues.get(town_id, Catalogue(()))
        return Catalogue(found.services, found.departments, changeset, zones=found.zones,
                         routing=found.routing)

    def find_api_key(self, town_id: str, secret: str) -> ApiKey | None:
        self.reads += 1
        return next((k for (t, _), (k, h) in self.keys.items()
                     if t == town_id and h == key_hash(secret)), None)

    def create_town(self, town: Town, catalogue: Catalogue) -> None:
        if town.town_id in self.towns:
            raise Conflict(f"a town {town.town_id!r} already exists")
        self.towns[town.town_id] = town
        self.catalogues[town.town_id] = catalogue

    def save_town(self, town: Town) -> None:
        if town.town_id not in self.towns:
            raise NotFound(f"no town {town.town_id!r}")
        self.towns[town.town_id] = town

    def _change(self, town_id: str, changeset: str, **parts: Any) -> None:
        c = self.catalogues[town_id]
        self.catalogues[town_id] = Catalogue(parts.get("services", c.services),
                                             parts.get("departments", c.departments),
                                             changeset, zones=parts.get("zones", c.zones),
                                             routing=parts.get("routing", c.routing))
        self.towns[town_id] = dataclasses.replace(self.towns[town_id], changeset=changeset)

    def save_routing(self, town_id: str, routing: Any, changeset: str) -> None:
        self._change(town_id, changeset, routing=routing)

    def save_service(self, town_id: str, service: Service, position: int,
                     changeset: str) -> None:
        services = [s for s in self.catalogues[town_id].services if s.code != service.code]
        services.insert(position, service)
        self._change(town_id, changeset, services=tuple(services))

    def save_department(self, town_id: str, department: Department, changeset: str) -> None:
        kept = [d for d in self.catalogues[town_id].departments if d.code != department.code]
        self._change(town_id, changeset, departments=(*kept, department))

    def delete_department(self, town_id: str, code: str, changeset: str) -> None:
        kept = tuple(d for d in self.catalogues[town_id].departments if d.code != code)
        self._change(town_id, changeset, departments=kept)

    def save_zone(self, town_id: str, zone: Zone, changeset: str) -> None:
        kept = [z for z in self.catalogues[town_id].zones if z.code != zone.code]
        self._change(town_id, changeset, zones=(*kept, zone))

    def delete_zone(self, town_id: str, code: str, changeset: str) -> None:
        kept = tuple(z for z in self.catalogues[town_id].zones if z.code != code)
        self._change(town_id, changeset, zones=kept)

    def add_api_key(self, key: ApiKey, secret: str) -> None:
        self.keys[(key.town_id, key.key_id)] = (key, key_hash(secret))

    def list_api_keys(self, town_id: str) -> list[ApiKey]:
        return [k for (t, _), (k, _h) in sorted(self.keys.items()) if t == town_id]

    def revoke_api_key(self, town_id: str, key_id: str) -> ApiKey:
        if (town_id, key_id) not in self.keys:
            raise NotFound(f"no API key {key_id!r}")
        key, hashed = self.keys[(town_id, key_id)]
        revoked = dataclasses.replace(key, revoked=True)
        self.keys[(town_id, key_id)] = (revoked, hashed)
        return revoked

    def save_staff(self, member: StaffMember) -> None:
        self.staff[(member.town_id, member.user_id)] = member

    def list_staff(self, town_id: str) -> list[StaffMember]:
        return [m for (t, _), m in sorted(self.staff.items(), key=lambda kv: kv[0][1])
                if t == town_id]

    def get_staff(self, town_id: str, user_id: str) -> StaffMember | None:
        return self.staff.get((town_id, user_id))

    def export(self, town_id: str) -> Iterator[dict[str, Any]]:
        yield {"town": town_id}


class FakeAuditLog:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    def page(self, town_id: str, before: datetime | None, limit: int) -> list[AuditEntry]:
        mine = sorted((e for e in self.entries if e.town_id == town_id
                       and (before is None or e.at < before)),
                      key=lambda e: (e.at, e.entry_id), reverse=True)
        return mine[:limit]


class FakeIdentity:
    def __init__(self) -> None:
        self.disabled: list[str] = []

    def provision(self, member: StaffMember) -> str:
        return member.user_id or f"user-{member.email}"

    def disable(self, member: StaffMember) -> None:
        self.disabled.append(member.user_id)


class FakeRequestStore:
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
        for contact in contact_hashes(request.reporter):
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
        ]
        matching.sort(key=lambda r: (when(r), r.request_id), reverse=True)
        skip = (query.page - 1) * query.page_size
        page = matching[skip:skip + query.page_size]
        return RequestPage([copy.deepcopy(r) for r in page],
                           len(matching) > skip + query.page_size)


class FakeRoutingQueue:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail = fail

    def request_submitted(self, town_id: str, request_id: str) -> None:
        from chalicelib.domain.errors import StorageUnavailable

        if self.fail:
            raise StorageUnavailable("the routing queue is unavailable")
        self.sent.append((town_id, request_id))


class FakePhotoInbox:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def receive_upload(self, town_id: str, request_id: str, photo_id: str,
                       content: bytes, content_type: str) -> str:
        key = f"incoming/{town_id}/{request_id}/{photo_id}"
        self.objects[key] = content
        return key

    def read(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def publish(self, key: str, content: bytes, content_type: str) -> None:
        self.objects[key] = content

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)


def counter_ids(prefix: str = "ID") -> Callable[[], str]:
    n = [0]

    def new_id() -> str:
        n[0] += 1
        return f"{prefix}{n[0]:06d}"

    return new_id


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


class FakeNoticeQueue:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[str] = []
        self.fail = fail

    def send(self, bodies: list[str]) -> None:
        if self.fail:
            raise StorageUnavailable("the notices queue is unavailable")
        self.sent.extend(bodies)


class FakeNoticeBook:
    def __init__(self) -> None:
        self.stops: set[tuple[str | None, str]] = set()
        self.claims: set[tuple[str, str, str]] = set()
        self.stop_links: dict[tuple[str, str, str], tuple[str, str]] = {}
        self.deferred: dict[str, tuple[str, str]] = {}

    def stopped(self, town_id: str, contact_hashes: list[str],
                phone_hashes: list[str]) -> tuple[set[str], set[str]]:
        return ({h for h in contact_hashes if (town_id, h) in self.stops},
                {h for h in phone_hashes if (None, h) in self.stops})

    def stop(self, town_id: str | None, contact_hash: str, at: datetime) -> None:
        self.stops.add((town_id, contact_hash))

    def restart(self, town_id: str | None, contact_hash: str) -> None:
        self.stops.discard((town_id, contact_hash))

    def claim(self, town_id: str, event_id: str, key: str, expires_at: int,
              stop_hash: str | None = None, request_id: str | None = None) -> bool:
        if (town_id, event_id, key) in self.claims:
            return False
        self.claims.add((town_id, event_id, key))
        if stop_hash and request_id:
            self.stop_links[(town_id, event_id, key)] = (stop_hash, request_id)
        return True

    def stop_link(self, town_id: str, event_id: str, key: str) -> tuple[str, str] | None:
        return self.stop_links.get((town_id, event_id, key))

    def release(self, town_id: str, event_id: str, key: str) -> None:
        self.claims.discard((town_id, event_id, key))
        self.stop_links.pop((town_id, event_id, key), None)

    def defer(self, town_id: str, send_at: datetime, key: str, body: str) -> None:
        self.deferred[f"{send_at.isoformat()}#{town_id}#{key}"] = (town_id, body)

    def deferred_until(self, now: datetime, limit: int) -> list[tuple[str, str, str]]:
        due = sorted(k for k in self.deferred if k.split("#")[0] <= now.isoformat())
        return [(k, *self.deferred[k]) for k in due[:limit]]

    def drop_deferred(self, key: str) -> None:
        self.deferred.pop(key, None)


class FakeMessenger:
    def __init__(self, fail_for: set[str] | None = None) -> None:
        self.sent: list[dict[str, str | None]] = []
        self.fail_for = fail_for or set()

    def send(self, *, town_id: str, email: str | None, phone: str | None, subject: str,
             text: str) -> None:
        if (email or phone) in self.fail_for:
            raise StorageUnavailable("messages cannot be sent right now")
        self.sent.append({"email": email, "phone": phone, "subject": subject, "text": text})


class FakeLimits:
    """services.outreach.Limits in memory: windowed budgets and kept tallies."""

    def __init__(self) -> None:
        self.windows: dict[tuple[str, str, int], int] = {}
        self.tallies: dict[tuple[str, str], int] = {}

    def take(self, town_id: str, name: str, window: int, limit: int, expires_at: int,
             amount: int = 1) -> bool:
        used = self.windows.get((town_id, name, window), 0)
        if used + amount > limit:
            return False
        self.windows[(town_id, name, window)] = used + amount
        return True

    def add(self, town_id: str, name: str, amount: int) -> None:
        self.tallies[(town_id, name)] = self.tallies.get((town_id, name), 0) + amount

    def totals(self, town_id: str, prefix: str) -> dict[str, int]:
        return {name: n for (t, name), n in self.tallies.items()
                if t == town_id and name.startswith(prefix)}

    def spend_sms(self, town_id: str, month: str, segments: int, cap: int) -> bool:
        used = self.tallies.get((town_id, f"sms#{month}"), 0)
        if used + segments > cap:
            return False
        self.tallies[(town_id, f"sms#{month}")] = used + segments
        return True
