"""Fakes of the town ports: the directory, the audit log, staff sign-in and tokens."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from chalicelib.domain.access import Principal
from chalicelib.domain.catalogue import Catalogue, Department, Service
from chalicelib.domain.errors import Conflict, NotFound, Unauthenticated
from chalicelib.domain.routing import RoutingRules
from chalicelib.domain.towns import ApiKey, AuditEntry, StaffMember, Town
from chalicelib.domain.zones import Zone


def _key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class FakeTownDirectory:
    """TownDirectory in memory; ``reads`` counts the reads a cache should spare."""

    def __init__(self) -> None:
        self.towns: dict[str, Town] = {}
        self.domains: dict[str, str] = {}  # web address → town
        self.numbers: dict[str, str] = {}  # SMS number → town
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
                     if t == town_id and h == _key_hash(secret)), None)

    def create_town(self, town: Town, catalogue: Catalogue) -> None:
        if town.town_id in self.towns:
            raise Conflict(f"a town {town.town_id!r} already exists")
        self.towns[town.town_id] = town
        self.catalogues[town.town_id] = catalogue

    def save_town(self, town: Town) -> None:
        if town.town_id not in self.towns:
            raise NotFound(f"no town {town.town_id!r}")
        self.towns[town.town_id] = town

    def town_at_domain(self, host: str) -> str | None:
        self.reads += 1
        return self.domains.get(host)

    def map_web_domain(self, town: Town, previous: str | None) -> None:
        if town.web_domain is not None and self.domains.get(
                town.web_domain, town.town_id) != town.town_id or town.town_id not in self.towns:
            raise Conflict(f"{town.web_domain} is another town's address, or the town is gone")
        if previous is not None and previous != town.web_domain:
            self.domains.pop(previous, None)
        if town.web_domain is not None:
            self.domains[town.web_domain] = town.town_id
        self.towns[town.town_id] = town

    def town_at_number(self, number: str) -> str | None:
        self.reads += 1
        return self.numbers.get(number)

    def map_sms_number(self, town: Town, previous: str | None) -> None:
        if town.sms_number is not None and self.numbers.get(
                town.sms_number, town.town_id) != town.town_id or town.town_id not in self.towns:
            raise Conflict(f"{town.sms_number} is another town's number, or the town is gone")
        if previous is not None and previous != town.sms_number:
            self.numbers.pop(previous, None)
        if town.sms_number is not None:
            self.numbers[town.sms_number] = town.town_id
        self.towns[town.town_id] = town

    def _change(self, town_id: str, changeset: str, **parts: Any) -> None:
        c = self.catalogues[town_id]
        self.catalogues[town_id] = Catalogue(parts.get("services", c.services),
                                             parts.get("departments", c.departments),
                                             changeset, zones=parts.get("zones", c.zones),
                                             routing=parts.get("routing", c.routing))
        self.towns[town_id] = dataclasses.replace(self.towns[town_id], changeset=changeset)

    def save_routing(self, town_id: str, routing: RoutingRules, changeset: str) -> None:
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
        self.keys[(key.town_id, key.key_id)] = (key, _key_hash(secret))

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

    def get_staff(self, town_id: str | None, user_id: str) -> StaffMember | None:
        return self.staff.get((town_id, user_id))

    def export(self, town_id: str) -> Iterator[dict[str, object]]:
        yield {"town": town_id}


class FakeAuditLog:
    """AuditLog in memory, newest first."""

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
    """IdentityProvider: one sign-in per e-mail address (a second is a Conflict, as in
    Cognito); disables are listed."""

    def __init__(self) -> None:
        self.accounts: dict[str, str] = {}  # e-mail → user id
        self.disabled: list[str] = []

    def provision(self, member: StaffMember) -> str:
        if member.email in self.accounts:
            raise Conflict(f"{member.email} already has a Town311 sign-in")
        self.accounts[member.email] = member.user_id or f"user-{member.email}"
        return self.accounts[member.email]

    def disable(self, member: StaffMember) -> None:
        self.disabled.append(member.user_id)


class FakeTokenVerifier:
    """TokenVerifier: tokens are handed out by ``issue`` and name who they are for."""

    def __init__(self) -> None:
        self.tokens: dict[str, Principal] = {}

    def issue(self, token: str, principal: Principal) -> str:
        self.tokens[token] = principal
        return token

    def verify(self, token: str, source_ip: str | None = None) -> Principal:
        found = self.tokens.get(token)
        if found is None:
            raise Unauthenticated("the sign-in token is not valid")
        return dataclasses.replace(found, source_ip=source_ip)


class FakeCatalogueWords:
    """CatalogueWords from a dict per language: ``{"es": {"Pothole": "Bache"}}``."""

    def __init__(self, translations: dict[str, dict[str, str]] | None = None) -> None:
        self.translations = translations or {}

    def words(self, language: str) -> Callable[[str], str]:
        found = self.translations.get(language, {})
        return lambda text: found.get(text, text)
