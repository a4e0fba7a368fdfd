"""One-off rewrites of stored data, run by a platform operator (never on a resident's or a
schedule's path). Each is idempotent: running it twice changes nothing the second time."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.errors import NotFound
from chalicelib.domain.followers import contact_hashes
from chalicelib.domain.phones import e164_or_none

if TYPE_CHECKING:
    from chalicelib.services.ports import (
        FollowerStore,
        NoticeBook,
        PhoneMigrationStore,
        RequestStore,
        TownDirectory,
    )


@dataclass(frozen=True)
class MigrationPorts:
    towns: TownDirectory
    requests: RequestStore
    followers: FollowerStore
    book: NoticeBook
    migration: PhoneMigrationStore


@dataclass
class PhonesRewritten:
    requests_seen: int = 0
    reporters: int = 0
    followers: int = 0
    stops_carried: int = 0
    unreadable: int = 0  # a phone that is no number at all: left as it was


def normalise_phones(ports: MigrationPorts, who: Principal, town_id: str) -> PhonesRewritten:
    """Rewrite every reporter's and follower's phone of a town as E.164 (in the town's
    country), index them under the new hash, and carry a "stop" given under the old
    hash (the digits as typed) to the new one, so that STOP from the phone matches."""
    require(who, Permission.MANAGE_TOWNS, town_id)
    town = ports.towns.get_town(town_id)
    if town is None:
        raise NotFound(f"no town {town_id[:64]!r}")
    done = PhonesRewritten()
    for request_id in ports.migration.request_ids(town_id):
        done.requests_seen += 1
        request = ports.requests.get(town_id, request_id, with_timeline=False)
        if request is None:
            continue
        typed = request.reporter.phone
        number = e164_or_none(typed, town.region) if typed else None
        if typed and number is None:
            done.unreadable += 1
        elif typed and number != typed:
            ports.migration.set_reporter_phone(town_id, request_id,
                                               replace(request.reporter, phone=number))
            ports.migration.add_resident_entry(town_id, contact_hashes(None, number)[0],
                                               request_id, reported=True)
            done.reporters += 1
        for follower in list(ports.followers.followers_of(town_id, request_id)):
            typed = follower.phone
            number = e164_or_none(typed, town.region) if typed else None
            if not typed or number is None or number == typed:
                done.unreadable += bool(typed and number is None)
                continue
            ports.followers.save_follower(town_id, request_id, replace(follower, phone=number))
            (old,), (new,) = contact_hashes(None, typed), contact_hashes(None, number)
            ports.migration.add_resident_entry(town_id, new, request_id, reported=False)
            done.followers += 1
            town_stops, _ = ports.book.stopped(town_id, [old], [])
            if old in town_stops:
                ports.book.stop(town_id, new, request.updated_at)
                done.stops_carried += 1
    return done
