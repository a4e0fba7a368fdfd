"""Which department fixes what: a town's routing rules.

A rule sends a service to a department, optionally only inside one zone (streetlights in
Ward 3 go to the utility contractor). The most specific rule wins: service and zone, then
service alone, then the department the catalogue names for the service, then triage.
"""

from __future__ import annotations

from dataclasses import dataclass

TRIAGE = "triage"


@dataclass(frozen=True)
class RoutingRule:
    service_code: str
    department: str
    zone: str | None = None


@dataclass(frozen=True)
class RoutingRules:
    rules: tuple[RoutingRule, ...] = ()
    triage: str = TRIAGE


@dataclass(frozen=True)
class RoutingDecision:
    department: str
    reason: str


def choose_department(rules: RoutingRules, own_department: str | None, service_code: str,
                      zones: list[str]) -> RoutingDecision:
    """Where a request of ``service_code`` inside ``zones`` (codes, in order) goes;
    ``own_department``: the one the catalogue names for the service, if it exists."""
    for zone in zones:
        for rule in rules.rules:
            if rule.service_code == service_code and rule.zone == zone:
                return RoutingDecision(rule.department, f"rule for {service_code} in {zone}")
    for rule in rules.rules:
        if rule.service_code == service_code and rule.zone is None:
            return RoutingDecision(rule.department, f"rule for {service_code}")
    if own_department:
        return RoutingDecision(own_department, "the service's own department")
    return RoutingDecision(rules.triage, "no rule: triage")
