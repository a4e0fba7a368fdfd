"""The platform operator's work: bringing a town live, suspending it, exporting it whole."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

from chalicelib.domain.access import Permission, Principal, Role, require
from chalicelib.domain.errors import InvalidInput, NotFound, Problem
from chalicelib.domain.towns import ACTIVE, SUSPENDED, StaffMember, Town, changeset_at
from chalicelib.schemas import admin as wire
from chalicelib.services.admin import AdminPorts, add_pack_answers, record


@dataclasses.dataclass(frozen=True)
class NewTownResult:
    town: Town
    admin: StaffMember


def create_town(ports: AdminPorts, who: Principal, body: wire.NewTownIn) -> NewTownResult:
    """Create a town from a template pack, with its first town admin. The admin then
    configures everything else (departments, zones, staff, keys) through the admin API."""
    from chalicelib.services.towns import load_pack

    require(who, Permission.MANAGE_TOWNS, None)
    try:
        catalogue = load_pack(body.pack)
    except (ValueError, OSError):
        raise InvalidInput.of([Problem("pack", f"no template pack {body.pack!r}")]) from None
    town = Town(town_id=body.jurisdiction_id, name=body.name, timezone=body.timezone,
                changeset=changeset_at(ports.now()), contact_email=body.contact_email,
                key_service=body.contact_email or body.admin_email)
    ports.towns.create_town(town, catalogue)
    add_pack_answers(ports, town.town_id, body.pack)
    admin = StaffMember(user_id="", town_id=town.town_id, email=body.admin_email,
                        name=body.admin_name, roles=(Role.TOWN_ADMIN.value,))
    admin = dataclasses.replace(admin, user_id=ports.identity.provision(admin))
    ports.towns.save_staff(admin)
    record(ports, who, town.town_id, "town.created", town.town_id,
           {"pack": body.pack, "admin": body.admin_email})
    return NewTownResult(town, admin)


def set_town_status(ports: AdminPorts, who: Principal, town_id: str, status: str) -> Town:
    """Suspend a town (Open311 submissions refused, data kept) or bring it back."""
    require(who, Permission.MANAGE_TOWNS, town_id)
    if status not in (ACTIVE, SUSPENDED):
        raise InvalidInput.of([Problem("status", "must be active or suspended")])
    town = ports.towns.get_town(town_id)
    if town is None:
        raise NotFound(f"no town {town_id[:60]!r}")
    changed = dataclasses.replace(town, status=status)
    ports.towns.save_town(changed)
    record(ports, who, town_id, f"town.{'resumed' if status == ACTIVE else 'suspended'}",
           town_id)
    return changed


def map_web_domain(ports: AdminPorts, who: Principal, town_id: str, host: str | None
                   ) -> Town:
    """Serve the town's pages at its own address (or at none): the operator does this once
    the address's DNS and certificate point at the deployment's API."""
    from chalicelib.domain.towns import web_domain_of

    require(who, Permission.MANAGE_TOWNS, town_id)
    town = ports.towns.get_town(town_id)
    if town is None:
        raise NotFound(f"no town {town_id[:60]!r}")
    domain = web_domain_of(host) if host is not None else None
    ports.towns.map_web_domain(dataclasses.replace(town, web_domain=domain), town.web_domain)
    record(ports, who, town_id, "town.web_domain", town_id, {"domain": domain})
    return dataclasses.replace(town, web_domain=domain)


def list_towns(ports: AdminPorts, who: Principal) -> list[Town]:
    require(who, Permission.MANAGE_TOWNS, None)
    towns = (ports.towns.get_town(town_id) for town_id in ports.towns.list_towns())
    return [t for t in towns if t is not None]


def export_town(ports: AdminPorts, who: Principal, town_id: str | None) -> Iterator[str]:
    """All of a town's data as JSON lines: operators name any town, admins export their own
    (``town_id`` None)."""
    target = town_id or who.town_id
    require(who, Permission.MANAGE_TOWNS if town_id else Permission.EXPORT_TOWN, target)
    if target is None or ports.towns.get_town(target) is None:
        raise NotFound(f"no town {str(target)[:60]!r}")
    record(ports, who, target, "town.exported", target)
    return (json.dumps(item, ensure_ascii=False, sort_keys=True)
            for item in ports.towns.export(target))
