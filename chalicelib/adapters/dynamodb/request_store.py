"""``DynamoRequestStore``: service requests and their timelines (this module), their
followers (followers.py) and what the SLA sweep reads (service_levels.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.audit import audit_item
from chalicelib.adapters.dynamodb.errors import (
    CONDITION_FAILED,
    get_or_none,
    reasons,
    storage_errors,
)
from chalicelib.adapters.dynamodb.followers import FollowerRecords, follower_item
from chalicelib.adapters.dynamodb.keys import sort_time
from chalicelib.adapters.dynamodb.limits import add_to_tally, take_rate
from chalicelib.adapters.dynamodb.residents import contact_hashes, reported
from chalicelib.adapters.dynamodb.service_levels import ServiceLevelRecords
from chalicelib.adapters.dynamodb.service_requests import (
    EventItem,
    RequestItem,
    TokenItem,
    TrackItem,
    event_item,
    request_item,
    service_request,
    timeline_event,
)
from chalicelib.adapters.dynamodb.table import TableItem, query_items, transaction
from chalicelib.domain.errors import AlreadyApplied, Conflict, Throttled
from chalicelib.domain.followers import Follower
from chalicelib.domain.queries import Quota, RequestPage, RequestQuery
from chalicelib.domain.requests import ServiceRequest, TimelineEvent
from chalicelib.domain.towns import AuditEntry


class DynamoRequestStore(FollowerRecords, ServiceLevelRecords):
    """Service requests and their timelines."""

    def add(self, request: ServiceRequest, first_event: TimelineEvent,
            quota: Quota | None = None, audit: AuditEntry | None = None,
            reporter: Follower | None = None) -> None:
        """Write a new request, its first timeline event, its token and tracking number,
        the reporter's index entries (and follower entry, if they want messages) and the
        caller's rate counter in one transaction: one write call, and a request over the
        key's rate is refused without storing anything."""
        item = request_item(request)
        town = request.town_id
        with storage_errors():
            try:
                with transaction() as tx:
                    if quota is not None:
                        # The only update: pynamodb sends updates after puts, so its
                        # cancellation reason is always the last one.
                        rate, actions, condition = take_rate(town, quota)
                        tx.update(rate, actions=actions, condition=condition)
                    tx.save(item, condition=RequestItem.PK.does_not_exist())
                    tx.save(event_item(town, request.request_id, first_event, request))
                    if request.token_hash:
                        tx.save(TokenItem(keys.token_pk(town, request.token_hash),
                                          keys.TOKEN_SK, request_id=request.request_id),
                                condition=TokenItem.PK.does_not_exist())
                    for contact in contact_hashes(request.reporter):
                        tx.save(reported(town, contact, request.request_id))
                    if request.tracking_number:
                        tx.save(TrackItem(keys.track_pk(town, request.tracking_number),
                                          keys.TRACK_SK, request_id=request.request_id),
                                condition=TrackItem.PK.does_not_exist())
                    if reporter is not None:
                        tx.save(follower_item(town, request.request_id, reporter))
                    if audit is not None:
                        tx.save(audit_item(audit))
            except TransactWriteError as e:
                codes = reasons(e)
                if quota is not None and codes and codes[-1] == CONDITION_FAILED:
                    wait = 60 - int(request.requested_at.timestamp()) % 60
                    raise Throttled(f"this API key may submit {quota.limit_per_minute} "
                                    "requests a minute",
                                    retry_after_seconds=max(wait, 1)) from e
                if CONDITION_FAILED in codes:
                    raise Conflict("a request with this id already exists") from e
                raise

    def record_change(self, request: ServiceRequest, event: TimelineEvent,
                      once: str | None = None, tally: dict[str, int] | None = None) -> None:
        """Write a changed request with the timeline event that says why, atomically, if
        nobody else changed it since it was read (``request.version``); else Conflict.
        With ``once`` (an external update id), the same key can never apply twice:
        AlreadyApplied. ``tally`` adds to the town's named counters in the same write."""
        item = request_item(request)
        item.version = request.version
        with storage_errors():
            try:
                with transaction() as tx:
                    tx.save(item)
                    tx.save(event_item(request.town_id, request.request_id, event, request))
                    if once is not None:
                        tx.save(TableItem(keys.request_pk(request.town_id, request.request_id),
                                          keys.once_sk(once)),
                                condition=TableItem.SK.does_not_exist())
                    for name, amount in (tally or {}).items():
                        counter, actions = add_to_tally(request.town_id, name, amount)
                        tx.update(counter, actions=actions)
            except TransactWriteError as e:
                codes = reasons(e)
                # The ONCE# item is the third write; tally updates (if any) follow it.
                if once is not None and len(codes) >= 3 and codes[2] == CONDITION_FAILED:
                    raise AlreadyApplied("this update was applied before") from e
                if CONDITION_FAILED in codes:
                    raise Conflict("the request changed meanwhile; read it again") from e
                raise
        request.version += 1

    def get(self, town_id: str, request_id: str, *, with_timeline: bool) -> ServiceRequest | None:
        pk = keys.request_pk(town_id, request_id)
        if not with_timeline:
            found = get_or_none(RequestItem, pk, keys.META_SK)
            return service_request(found) if found is not None else None
        meta: RequestItem | None = None
        events: list[TimelineEvent] = []
        with storage_errors():
            # EVENT#… < META < ONCE#… < SUB#…: the request and its timeline, never its
            # followers (a request may have hundreds).
            for raw in query_items(pk, sk_upto=keys.META_SK):
                sk = raw["SK"]["S"]
                if sk == keys.META_SK:
                    meta = RequestItem.from_raw_data(raw)
                elif sk.startswith(keys.EVENT_PREFIX):
                    events.append(timeline_event(EventItem.from_raw_data(raw)))
        return service_request(meta, sorted(events, key=lambda e: (e.at, e.event_id))) \
            if meta is not None else None

    def get_many(self, town_id: str, request_ids: list[str]) -> list[ServiceRequest]:
        ids = list(dict.fromkeys(request_ids))
        with storage_errors():
            found = {i.request_id: service_request(i) for i in RequestItem.batch_get(
                [(keys.request_pk(town_id, rid), keys.META_SK) for rid in ids])}
        return [found[rid] for rid in ids if rid in found]

    def request_id_for_token_hash(self, town_id: str, token_hash: str) -> str | None:
        item = get_or_none(TokenItem, keys.token_pk(town_id, token_hash), keys.TOKEN_SK)
        return item.request_id if item is not None else None

    def request_id_for_tracking(self, town_id: str, tracking_number: str) -> str | None:
        item = get_or_none(TrackItem, keys.track_pk(town_id, tracking_number), keys.TRACK_SK)
        return item.request_id if item is not None else None

    def tallies(self, town_id: str, prefix: str) -> dict[str, int]:
        """The town's counters whose names start with ``prefix`` (e.g. "disputes#")."""
        with storage_errors():
            return {keys.tally_name(raw["SK"]["S"]): int(raw["count"]["N"])
                    for raw in query_items(keys.town_pk(town_id), keys.tally_sk(prefix))
                    if "count" in raw}

    def department_work(self, town_id: str, department: str, state: str | None, limit: int,
                        after: str | None) -> RequestPage:
        """A department's open requests, oldest first, one page; ``after`` is the last
        request id of the previous page."""
        condition = RequestItem.lifecycle == state if state else None
        partition = keys.department_key(town_id, department)
        start = None
        if after:
            found = self.get(town_id, after, with_timeline=False)
            if found is not None:
                start = {"PK": {"S": keys.request_pk(town_id, after)},
                         "SK": {"S": keys.META_SK}, "GSI4PK": {"S": partition},
                         "GSI4SK": {"S": keys.requested_key(found.requested_at, after)}}
        items: list[ServiceRequest] = []
        with storage_errors():
            for item in RequestItem.by_department.query(
                    partition, filter_condition=condition, scan_index_forward=True,
                    last_evaluated_key=start, page_size=limit + 1):
                if len(items) == limit:
                    return RequestPage(items, has_more=True)
                items.append(service_request(item))
        return RequestPage(items, has_more=False)

    def unrouted_before(self, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        """(town, request id) of open requests stored before ``cutoff`` and not assigned:
        one Query of the sparse UNROUTED partition, which routing empties."""
        with storage_errors():
            items = RequestItem.by_department.query(
                keys.UNROUTED, RequestItem.GSI4SK < sort_time(cutoff),  # noqa: SIM300
                limit=limit)
            return [(i.town_id, i.request_id) for i in items]

    def find(self, town_id: str, query: RequestQuery) -> RequestPage:
        """One page of a town's requests, newest first, for Open311's ``GET requests`` and the
        staff search: one Query of a window of the town's index, the filters riding on it."""
        condition: Any = None
        c: Any
        if query.statuses:
            condition = RequestItem.status.is_in(*query.statuses)
        if query.service_codes:
            c = RequestItem.service_code.is_in(*query.service_codes)
            condition = c if condition is None else condition & c
        if query.departments:
            c = RequestItem.department.is_in(*query.departments)
            condition = c if condition is None else condition & c
        if query.zone:
            c = RequestItem.zone == query.zone
            condition = c if condition is None else condition & c
        if query.text:
            c = RequestItem.search_text.contains(query.text.lower())
            condition = c if condition is None else condition & c
        if query.channels:
            c = RequestItem.channel.is_in(*query.channels)
            condition = c if condition is None else condition & c
        if query.overdue is not None and query.as_of is not None:
            # Open past its expected time (``expected_at`` is a sort_time string, so the
            # comparison is the instants'); its negation keeps everything else.
            late = (RequestItem.status == "open") & (
                RequestItem.expected_at < sort_time(query.as_of))
            c = late if query.overdue else ~late
            condition = c if condition is None else condition & c
        if query.disputed is not None:
            # Closing a request clears ``disputed``; open and disputed is an open dispute.
            argued = (RequestItem.status == "open") & (
                RequestItem.disputed == True)  # noqa: E712
            c = argued if query.disputed else ~argued
            condition = c if condition is None else condition & c
        if query.by_updated:
            index: Any = RequestItem.by_updated
            key = RequestItem.GSI2SK.between(sort_time(query.start), keys.upto(query.end))
        else:
            index = RequestItem.by_requested
            key = RequestItem.GSI1SK.between(sort_time(query.start), keys.upto(query.end))
            if query.updated_start is not None or query.updated_end is not None:
                c = RequestItem.updated_at.between(
                    sort_time(query.updated_start or datetime(2000, 1, 1, tzinfo=UTC)),
                    sort_time(query.updated_end or datetime(2999, 1, 1, tzinfo=UTC)))
                condition = c if condition is None else condition & c
        skip = (query.page - 1) * query.page_size
        wanted = skip + query.page_size
        items: list[ServiceRequest] = []
        more = False
        with storage_errors():
            results: Iterator[RequestItem] = index.query(
                keys.town_pk(town_id), key, filter_condition=condition,
                scan_index_forward=False, page_size=min(wanted + 1, 1000))
            for n, item in enumerate(results):
                if n < skip:
                    continue
                if len(items) == query.page_size:
                    more = True
                    break
                items.append(service_request(item))
        return RequestPage(items=items, has_more=more)
