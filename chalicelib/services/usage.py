"""What each town uses this month and what it is estimated to cost: counted as things
happen (``count``, called where each event happens), read for the platform operator
(every town) and a town's admin (their own).

Counting is bookkeeping: it never makes the action it counts fail. A failed count is
logged (with its cause) and the action carries on; the month's figure is then short by
that event. Redelivered queue messages are not counted twice because every place that
counts does so after the step that already makes a redelivery a no-op: a photo after it
is added to its request (a redelivery finds it there and stops), a message after its
claim was taken and it was sent (a redelivery finds the claim), a request after it is
stored (an HTTP call, once per Idempotency-Key).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.errors import NotFound
from chalicelib.domain.usage import (
    CostEstimate,
    estimate_cost,
    month_asked,
    month_before,
    usage_month,
)

if TYPE_CHECKING:
    from chalicelib.domain.towns import Town
    from chalicelib.domain.usage import AwsPrices
    from chalicelib.services.ports import TownDirectory, UsageMeter

log = logging.getLogger(__name__)


def count(meter: UsageMeter | None, town_id: str, at: datetime, **amounts: int) -> None:
    """Add ``amounts`` to the town's usage of the month of ``at``, in one write; never
    raises (see the module's docstring)."""
    if meter is None or not any(amounts.values()):
        return
    try:
        meter.add(town_id, usage_month(at), amounts)
    except Exception:  # noqa: BLE001 - bookkeeping must not undo the work it counts
        log.exception("usage not counted", extra={"town": town_id, "usage": amounts})


@dataclass(frozen=True)
class UsagePorts:
    towns: TownDirectory
    usage: UsageMeter
    prices: AwsPrices
    now: Callable[[], datetime]


@dataclass(frozen=True)
class TownUsage:
    """One town's usage of one month, and its estimated AWS cost."""

    town: Town
    month: str
    counts: dict[str, int]
    cost: CostEstimate

    @property
    def requests_by_channel(self) -> dict[str, int]:
        from chalicelib.domain.usage import requests_by_channel

        return requests_by_channel(self.counts)

    @property
    def requests_filed(self) -> int:
        return sum(self.requests_by_channel.values())


def _of(ports: UsagePorts, towns: list[Town], month: str) -> list[TownUsage]:
    found = ports.usage.months([t.town_id for t in towns], month) if towns else {}
    return [TownUsage(t, month, found.get(t.town_id, {}),
                      estimate_cost(found.get(t.town_id, {}), ports.prices)) for t in towns]


def _month(ports: UsagePorts, month: str | None) -> str:
    return month_asked(month) if month else usage_month(ports.now())


def towns_usage(ports: UsagePorts, who: Principal, month: str | None = None
                ) -> list[TownUsage]:
    """Every hosted town with its usage and estimated cost in ``month`` (``2026-11``; this
    month if None), for platform operators only, in the order of their ids: one Query of
    the towns, one read per town, and one batched read of their usage."""
    require(who, Permission.MANAGE_TOWNS, None)
    asked = _month(ports, month)
    towns = [t for t in (ports.towns.get_town(town_id) for town_id in
                         sorted(ports.towns.list_towns())) if t is not None]
    return _of(ports, towns, asked)


def town_usage(ports: UsagePorts, who: Principal, town_id: str | None = None,
               month: str | None = None) -> TownUsage:
    """One town's usage and cost in ``month`` (this month if None): operators name any
    town, a town's administrators see their own (``town_id`` None)."""
    target = town_id or who.town_id
    require(who, Permission.MANAGE_TOWNS if town_id else Permission.CONFIGURE_TOWN, target)
    asked = _month(ports, month)
    town = ports.towns.get_town(target or "")
    if town is None:
        raise NotFound(f"no town {str(target)[:60]!r}")
    return _of(ports, [town], asked)[0]


def month_shown(ports: UsagePorts, month: str | None) -> tuple[str, str]:
    """The month a screen shows (``month``, or this month) and the one before it."""
    asked = _month(ports, month)
    return asked, month_before(asked)


def total_cost(found: list[TownUsage]) -> float:
    """What all of them are estimated to cost together (USD)."""
    return round(sum(u.cost.total for u in found), 6)


def document(found: TownUsage) -> dict[str, object]:
    """A town's usage as the JSON API returns it."""
    from chalicelib.domain.usage import (
        ALERT_MESSAGES,
        MESSAGES_EMAIL,
        MESSAGES_SMS,
        PHOTO_BYTES,
        PHOTOS,
        SMS_SEGMENTS,
        requests_by_channel,
    )

    c = found.counts
    return {"jurisdiction_id": found.town.town_id, "status": found.town.status,
            "month": found.month, "requests_by_channel": requests_by_channel(c),
            "photos": c.get(PHOTOS, 0), "photo_bytes": c.get(PHOTO_BYTES, 0),
            "messages": {"email": c.get(MESSAGES_EMAIL, 0), "sms": c.get(MESSAGES_SMS, 0)},
            "sms_segments": c.get(SMS_SEGMENTS, 0), "alert_messages": c.get(ALERT_MESSAGES, 0),
            "estimated_cost_usd": {"total": found.cost.total, **found.cost.lines}}
