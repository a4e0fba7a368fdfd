"""Who follows a request, and how residents are tied to requests.

A request's followers (the reporter and "me too"s) are ``SUB#<follower>`` items in its own
partition; their public count is on ``META``, kept by the same transaction that adds one.
Each follower is also indexed under the hash of each of their contacts
(``TOWN#<town>#RESIDENT#<hash>, FOLLOW#<request>``), and a confirm link is found by the hash
of its secret (``TOWN#<town>#LINK#<hash>``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import (
    CONDITION_FAILED,
    get_or_none,
    reasons,
    storage_errors,
    written_if,
)
from chalicelib.adapters.dynamodb.keys import parse_sort_time, sort_time
from chalicelib.adapters.dynamodb.residents import ResidentItem, followed, reported
from chalicelib.adapters.dynamodb.service_requests import RequestCounters, RequestItem
from chalicelib.adapters.dynamodb.table import TableItem, query_items, transaction
from chalicelib.domain import followers
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.followers import Follower


class FollowerItem(TableItem):
    role = UnicodeAttribute()
    since = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    unsubscribe_key = UnicodeAttribute(null=True)  # legacy stop links only
    # Channels whose address the follower proved; absent on followers stored before
    # confirmation existed, who keep getting what they signed up for.
    confirmed = JSONAttribute(null=True)


class LinkItem(TableItem):
    """A link sent to confirm one address of one follower, found by its secret's hash."""

    request_id = UnicodeAttribute()
    follower_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    expires_at = NumberAttribute()


def follower_item(town_id: str, request_id: str, f: Follower) -> FollowerItem:
    return FollowerItem(keys.request_pk(town_id, request_id), keys.follower_sk(f.follower_id),
                        role=f.role, since=sort_time(f.since), email=f.email, phone=f.phone,
                        language=f.language, unsubscribe_key=f.unsubscribe_key or None,
                        confirmed=list(f.confirmed))


def _follower(item: FollowerItem) -> Follower:
    follower = Follower(follower_id=keys.follower_of(item.SK), role=item.role,
                        since=parse_sort_time(item.since), email=item.email, phone=item.phone,
                        language=item.language, unsubscribe_key=item.unsubscribe_key or "")
    confirmed = follower.channels if item.confirmed is None else tuple(item.confirmed)
    return dataclasses.replace(follower, confirmed=confirmed)


class FollowerRecords:
    """The followers part of ``DynamoRequestStore``."""

    def requests_of_resident(self, town_id: str, contact_hash: str) -> list[str]:
        """The ids of the requests a resident (by hashed e-mail or phone) reported."""
        return self._resident_entries(town_id, contact_hash, keys.REPORTED_PREFIX)

    def requests_followed_by(self, town_id: str, contact_hash: str) -> list[str]:
        """The ids of the requests a resident follows (not those they reported)."""
        return self._resident_entries(town_id, contact_hash, keys.FOLLOWED_PREFIX)

    @staticmethod
    def _resident_entries(town_id: str, contact_hash: str, prefix: str) -> list[str]:
        with storage_errors():
            return [raw["SK"]["S"].removeprefix(prefix) for raw in
                    query_items(keys.resident_pk(town_id, contact_hash), prefix)]

    def is_reporter_or_follower(self, town_id: str, request_id: str,
                                contact_hash: str) -> str | None:
        """"reporter", "follower", or None: how a signed-in resident is tied to a request."""
        entries = [reported(town_id, contact_hash, request_id),
                   followed(town_id, contact_hash, request_id)]
        with storage_errors():
            found = {i.SK for i in ResidentItem.batch_get([(e.PK, e.SK) for e in entries])}
        if entries[0].SK in found:
            return followers.REPORTER
        return followers.FOLLOWER if found else None

    def forget_resident(self, town_id: str, contact_hash: str, request_ids: list[str]) -> None:
        with storage_errors(), ResidentItem.batch_write() as batch:
            for rid in request_ids:
                batch.delete(reported(town_id, contact_hash, rid))

    def follow(self, town_id: str, request_id: str, follower: Follower) -> bool:
        """Add a follower to an open request (and one to its public count); False if they
        already follow it. Conflict if the request is closed, NotFound if there is none."""
        pk = keys.request_pk(town_id, request_id)
        counted = follower.role == followers.FOLLOWER
        with storage_errors():
            try:
                with transaction() as tx:
                    tx.save(follower_item(town_id, request_id, follower),
                            condition=FollowerItem.SK.does_not_exist())
                    for contact in follower.contact_hashes:
                        tx.save(followed(town_id, contact, request_id))
                    tx.update(RequestCounters(pk, keys.META_SK),
                              actions=[RequestCounters.followers.add(1 if counted else 0),
                                       RequestCounters.version.add(1)],
                              condition=RequestCounters.status == "open")
            except TransactWriteError as e:
                codes = reasons(e)
                if codes and codes[0] == CONDITION_FAILED:
                    return False
                if codes and codes[-1] == CONDITION_FAILED:
                    if get_or_none(RequestItem, pk, keys.META_SK) is None:
                        raise NotFound(f"no service request {request_id[:64]!r}") from e
                    raise Conflict("only an open request can be followed") from e
                raise
        return True

    def unfollow(self, town_id: str, request_id: str, follower: Follower) -> None:
        """Remove a follower (and, for a "me too", one from the public count)."""
        pk = keys.request_pk(town_id, request_id)
        with storage_errors():
            try:
                with transaction() as tx:
                    tx.delete(FollowerItem(pk, keys.follower_sk(follower.follower_id)),
                              condition=FollowerItem.SK.exists())
                    for contact in follower.contact_hashes:
                        tx.delete(followed(town_id, contact, request_id))
                    if follower.role == followers.FOLLOWER:
                        tx.update(RequestCounters(pk, keys.META_SK),
                                  actions=[RequestCounters.followers.add(-1),
                                           RequestCounters.version.add(1)],
                                  condition=RequestCounters.followers > 0)
            except TransactWriteError as e:
                codes = reasons(e)
                if codes and codes[0] == CONDITION_FAILED:
                    return  # already gone: stopping twice is not an error
                raise

    def followers_of(self, town_id: str, request_id: str) -> Iterator[Follower]:
        """Everyone who follows a request, the reporter included, page by page."""
        with storage_errors():
            for raw in query_items(keys.request_pk(town_id, request_id),
                                   keys.FOLLOWER_PREFIX):
                yield _follower(FollowerItem.from_raw_data(raw))

    def get_follower(self, town_id: str, request_id: str,
                     follower_id: str) -> Follower | None:
        item = get_or_none(FollowerItem, keys.request_pk(town_id, request_id),
                           keys.follower_sk(follower_id))
        return _follower(item) if item is not None else None

    def save_follower(self, town_id: str, request_id: str, follower: Follower,
                      dropped: str | None = None) -> None:
        """Write a follower that confirmed or dropped an address (``dropped``: the hash
        of the address no longer theirs to be found by)."""
        with storage_errors():
            try:
                with transaction() as tx:
                    tx.save(follower_item(town_id, request_id, follower),
                            condition=FollowerItem.SK.exists())
                    if dropped:
                        tx.delete(followed(town_id, dropped, request_id))
            except TransactWriteError as e:
                codes = reasons(e)
                if codes and codes[0] == CONDITION_FAILED:
                    raise NotFound("this follower stopped following") from e
                raise

    def save_link(self, town_id: str, secret_hash: str, request_id: str, follower_id: str,
                  channel: str, expires_at: int) -> None:
        with storage_errors():
            LinkItem(keys.link_pk(town_id, secret_hash), keys.LINK_SK, request_id=request_id,
                     follower_id=follower_id, channel=channel, expires_at=expires_at).save()

    def take_link(self, town_id: str, secret_hash: str,
                  now: int) -> tuple[str, str, str] | None:
        """(request, follower, channel) of a confirm link, removed as it is used; None if
        there is none, it expired, or someone used it a moment earlier."""
        item = get_or_none(LinkItem, keys.link_pk(town_id, secret_hash), keys.LINK_SK,
                           consistent_read=True)
        if item is None or not written_if(lambda: item.delete(
                condition=LinkItem.PK.exists())):
            return None
        if int(item.expires_at) < now:
            return None
        return item.request_id, item.follower_id, item.channel
