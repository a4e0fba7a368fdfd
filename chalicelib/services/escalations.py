"""Escalation topics, as town admins see them: which audiences a town has, and staff
subscribing to one by e-mail or SMS. The SLA sweep (services.service_levels) publishes
to them; emergency alerts to residents are another thing (services.alerts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.errors import InvalidInput, NotFound, Problem
from chalicelib.services.outreach import OutreachPorts

if TYPE_CHECKING:
    from chalicelib.services.ports import EscalationTopics, TownDirectory


@dataclass(frozen=True)
class EscalationPorts:
    towns: TownDirectory  # uncached: what admins read
    topics: EscalationTopics
    outreach: OutreachPorts


def audiences(towns: TownDirectory, town_id: str) -> list[str]:
    """Who a town's escalations can go to: supervisors, town admins, each department."""
    town = towns.get_town(town_id)
    if town is None:
        raise NotFound("your town no longer exists")
    catalogue = towns.get_catalogue(town_id, town.changeset)
    return ["supervisor", "town_admin", *(f"department:{d.code}"
                                          for d in catalogue.departments)]


def topics(ports: EscalationPorts, who: Principal) -> list[dict[str, str]]:
    """Each audience of the caller's town with its topic (made on first use)."""
    require(who, Permission.CONFIGURE_TOWN, who.town_id)
    town_id = who.town_id or ""
    return [{"audience": a, "topic_arn": ports.topics.topic_arn(town_id, a)}
            for a in audiences(ports.towns, town_id)]


def subscribe(ports: EscalationPorts, who: Principal, audience: str, protocol: str,
              endpoint: str) -> str:
    """Subscribe a member of staff's address to one audience's topic; returns the
    subscription's ARN. A phone is read in the town's country and counts as a text."""
    from chalicelib.services.outreach import phone_for, text_subscription_added

    require(who, Permission.CONFIGURE_TOWN, who.town_id)
    town_id = who.town_id or ""
    if audience not in audiences(ports.towns, town_id):
        raise InvalidInput.of([Problem("audience", f"no audience {audience!r}")])
    if protocol == "sms":
        town = ports.towns.get_town(town_id)
        if town is None:
            raise InvalidInput.of([Problem("audience", "your town no longer exists")])
        endpoint = phone_for(town, endpoint, "endpoint") or endpoint
    arn = ports.topics.subscribe(town_id, audience, protocol, endpoint)
    if protocol == "sms":
        text_subscription_added(ports.outreach, town_id, audience)
    return arn
