"""Which town a call is for, what it offers, and whether a key belongs to it.

A warm Lambda answers most calls without reading towns, catalogues or keys again: they
are cached for ``cache_seconds`` (a catalogue also by its changeset, so an edit is seen
as soon as the town record is re-read). This is what keeps ``GET requests/{id}`` at one
DynamoDB call and ``POST requests`` at one write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING

from chalicelib.domain.catalogue import Catalogue, Department, Service
from chalicelib.domain.errors import (
    AccessDenied,
    InvalidInput,
    TownSuspended,
    UnknownJurisdiction,
)
from chalicelib.domain.towns import ACTIVE, ApiKey, StaffMember, Town
from chalicelib.domain.zones import Zone

if TYPE_CHECKING:
    from chalicelib.domain.routing import RoutingRules
    from chalicelib.services.ports import TownDirectory


class TTLCache[K, V]:
    """A small time-bounded memo; the clock is injectable so tests never sleep."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = 512) -> None:
        self._seconds = seconds
        self._clock = clock
        self._max = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def clear(self) -> None:
        self._entries.clear()

    def drop(self, key: K) -> None:
        self._entries.pop(key, None)

    def get_or_load(self, key: K, load: Callable[[], V]) -> V:
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key] = (now + self._seconds, value)
        return value


class CachedTownDirectory:
    """A ``TownDirectory`` that remembers answers for a while. Writes pass straight through."""

    def __init__(self, inner: TownDirectory, seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._inner = inner
        self._towns: TTLCache[str, Town | None] = TTLCache(seconds, clock)
        self._catalogues: TTLCache[tuple[str, str], Catalogue] = TTLCache(seconds, clock)
        self._keys: TTLCache[tuple[str, str], ApiKey | None] = TTLCache(seconds, clock)
        self._domains: TTLCache[str, str | None] = TTLCache(seconds, clock)
        self._numbers: TTLCache[str, str | None] = TTLCache(seconds, clock)

    def forget(self) -> None:
        """Read everything afresh from now on (tests; an operator's emergency change)."""
        for cache in (self._towns, self._catalogues, self._keys, self._domains,
                      self._numbers):
            cache.clear()

    def forget_town(self, town_id: str) -> None:
        """Read this town afresh on its next call: a change its admin just made in this
        container shows at once here (its catalogue is cached by changeset, so a new
        town record brings the new catalogue too). Other containers see it when their
        copy expires."""
        self._towns.drop(town_id)

    def get_town(self, town_id: str) -> Town | None:
        return self._towns.get_or_load(town_id, lambda: self._inner.get_town(town_id))

    def get_catalogue(self, town_id: str, changeset: str) -> Catalogue:
        return self._catalogues.get_or_load(
            (town_id, changeset), lambda: self._inner.get_catalogue(town_id, changeset))

    def find_api_key(self, town_id: str, secret: str) -> ApiKey | None:
        return self._keys.get_or_load(
            (town_id, secret), lambda: self._inner.find_api_key(town_id, secret))

    def town_at_domain(self, host: str) -> str | None:
        return self._domains.get_or_load(host, lambda: self._inner.town_at_domain(host))

    def town_at_number(self, number: str) -> str | None:
        return self._numbers.get_or_load(number, lambda: self._inner.town_at_number(number))

    # Writes and staff reads are not cached: they pass straight to the store. Only the
    # reads above, on every resident's path, are remembered.

    def map_sms_number(self, town: Town, previous: str | None) -> None:
        self._inner.map_sms_number(town, previous)
        self._towns.clear()
        self._numbers.clear()

    def map_web_domain(self, town: Town, previous: str | None) -> None:
        self._inner.map_web_domain(town, previous)
        self._towns.clear()
        self._domains.clear()

    def list_towns(self) -> list[str]:
        return self._inner.list_towns()

    def create_town(self, town: Town, catalogue: Catalogue) -> None:
        self._inner.create_town(town, catalogue)

    def save_town(self, town: Town) -> None:
        self._inner.save_town(town)

    def save_service(self, town_id: str, service: Service, position: int,
                     changeset: str) -> None:
        self._inner.save_service(town_id, service, position, changeset)

    def save_department(self, town_id: str, department: Department, changeset: str) -> None:
        self._inner.save_department(town_id, department, changeset)

    def delete_department(self, town_id: str, code: str, changeset: str) -> None:
        self._inner.delete_department(town_id, code, changeset)

    def save_zone(self, town_id: str, zone: Zone, changeset: str) -> None:
        self._inner.save_zone(town_id, zone, changeset)

    def save_routing(self, town_id: str, routing: RoutingRules, changeset: str) -> None:
        self._inner.save_routing(town_id, routing, changeset)

    def delete_zone(self, town_id: str, code: str, changeset: str) -> None:
        self._inner.delete_zone(town_id, code, changeset)

    def add_api_key(self, key: ApiKey, secret: str) -> None:
        self._inner.add_api_key(key, secret)

    def list_api_keys(self, town_id: str) -> list[ApiKey]:
        return self._inner.list_api_keys(town_id)

    def revoke_api_key(self, town_id: str, key_id: str) -> ApiKey:
        return self._inner.revoke_api_key(town_id, key_id)

    def save_staff(self, member: StaffMember) -> None:
        self._inner.save_staff(member)

    def list_staff(self, town_id: str) -> list[StaffMember]:
        return self._inner.list_staff(town_id)

    def get_staff(self, town_id: str | None, user_id: str) -> StaffMember | None:
        return self._inner.get_staff(town_id, user_id)

    def export(self, town_id: str) -> Iterator[dict[str, object]]:
        return self._inner.export(town_id)


def town_at_address(directory: TownDirectory, host: str) -> Town:
    """The town whose own web address ``host`` is (the Host a browser sent)."""
    from chalicelib.domain.towns import web_domain_of

    try:
        name = web_domain_of(host)
    except InvalidInput:
        name = None
    town_id = directory.town_at_domain(name) if name else None
    town = directory.get_town(town_id) if town_id else None
    if town is None or town.web_domain != name:
        raise UnknownJurisdiction("no town's 311 pages are at this address")
    return town


def find_town(directory: TownDirectory, jurisdiction_id: str) -> Town:
    """The town an Open311 call names; suspended towns are still readable."""
    town = directory.get_town(jurisdiction_id)
    if town is None:
        raise UnknownJurisdiction(f"no jurisdiction {jurisdiction_id!r} is hosted here")
    return town


def authorise_key(directory: TownDirectory, town: Town, secret: str | None, *,
                  scope: str) -> ApiKey:
    """The town's own, unrevoked API key, allowed ``scope`` (``SCOPE_SUBMIT``,
    ``SCOPE_UPDATES``), or AccessDenied. Keys of other towns never match."""
    if not secret:
        raise AccessDenied("api_key is required to submit a request")
    key = directory.find_api_key(town.town_id, secret)
    if key is None or key.revoked:
        raise AccessDenied("api_key is not valid for this jurisdiction")
    if not key.allows(scope):
        raise AccessDenied(f"this api_key lacks the {scope!r} scope; a town admin can "
                           "create a key that has it")
    if town.status != ACTIVE:
        raise TownSuspended(f"{town.name} is not taking requests through this service now")
    return key


def zone_of(directory: TownDirectory, town_id: str) -> tzinfo:
    """The town's time zone (UTC for a town that no longer exists: times stay exact)."""
    town = directory.get_town(town_id)
    return town.zone if town else UTC


def catalogue_of(directory: TownDirectory, town: Town) -> Catalogue:
    """The town's catalogue as of its current changeset."""
    return directory.get_catalogue(town.town_id, town.changeset)
