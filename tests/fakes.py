"""In-memory stand-ins for the ports, for fast service tests. The contract tests in
tests/integration run the same assertions against these and the DynamoDB adapters, so the
fakes cannot drift from the real thing."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

from chalicelib.adapters.dynamodb import key_hash
from chalicelib.domain.catalogue import Catalogue
from chalicelib.domain.errors import Conflict
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.domain.towns import ApiKey, Town
from chalicelib.services.ports import RequestPage, RequestQuery


class FakeTownDirectory:
    def __init__(self) -> None:
        self.towns: dict[str, Town] = {}
        self.catalogues: dict[str, Catalogue] = {}
        self.keys: dict[tuple[str, str], ApiKey] = {}
        self.reads = 0

    def get_town(self, town_id: str) -> Town | None:
        self.reads += 1
        return self.towns.get(town_id)

    def get_catalogue(self, town_id: str, changeset: str) -> Catalogue:
        self.reads += 1
        found = self.catalogues.get(town_id, Catalogue(()))
        return Catalogue(found.services, found.departments, changeset)

    def find_api_key(self, town_id: str, secret: str) -> ApiKey | None:
        self.reads += 1
        return self.keys.get((town_id, key_hash(secret)))

    def save_town(self, town: Town, catalogue: Catalogue,
                  api_keys: Iterable[tuple[str, str, str]]) -> None:
        self.towns[town.town_id] = town
        self.catalogues[town.town_id] = catalogue
        for key_id, name, secret in api_keys:
            self.keys[(town.town_id, key_hash(secret))] = ApiKey(town.town_id, key_id, name)


class FakeRequestStore:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str], ServiceRequest] = {}
        self.events: dict[tuple[str, str], list[TimelineEvent]] = {}
        self.tokens: dict[tuple[str, str], str] = {}

    def add(self, request: ServiceRequest, first_event: TimelineEvent) -> None:
        key = (request.town_id, request.request_id)
        if key in self.requests or (request.town_id, request.token) in self.tokens:
            raise Conflict("a request with this id already exists")
        self.requests[key] = copy.deepcopy(request)
        self.events[key] = [first_event]
        self.tokens[(request.town_id, request.token)] = request.request_id

    def record_change(self, request: ServiceRequest, event: TimelineEvent) -> None:
        key = (request.town_id, request.request_id)
        stored = self.requests.get(key)
        if stored is None or stored.version != request.version:
            raise Conflict("the request changed meanwhile; read it again")
        request.version += 1
        self.requests[key] = copy.deepcopy(request)
        self.events[key].append(event)

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

    def request_id_for_token(self, town_id: str, token: str) -> str | None:
        return self.tokens.get((town_id, token))

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
