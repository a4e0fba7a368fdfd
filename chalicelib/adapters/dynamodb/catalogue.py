"""A town's catalogue in its own partition: services, departments, zones and routing rules
(``PK=TOWN#<town>, SK=CAT#<kind>#<code>``), read with one Query.

The items and their mappers; ``DynamoTownDirectory`` (towns.py) writes them together with
the town's new changeset.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
)

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.table import TableItem, query_items
from chalicelib.domain.catalogue import (
    AttributeChoice,
    Catalogue,
    Department,
    Service,
    ServiceQuestion,
)
from chalicelib.domain.errors import InvalidInput, Problem
from chalicelib.domain.routing import RoutingRule, RoutingRules
from chalicelib.domain.sla import PriorityRule, SlaPolicy, SlaTarget
from chalicelib.domain.zones import Zone


class ServiceItem(TableItem):
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute()
    group = UnicodeAttribute()
    keywords = JSONAttribute(default=list)
    type = UnicodeAttribute(default="realtime")
    department = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    position = NumberAttribute(default=0)
    questions = JSONAttribute(default=list)
    # Absent on services stored before the duplicate check: the defaults apply.
    duplicate_radius_m = NumberAttribute(null=True)
    duplicate_window_days = NumberAttribute(null=True)
    sla = JSONAttribute(null=True)  # amount, unit, priorities: [question, answer, amount, unit]


class DepartmentItem(TableItem):
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    queue = BooleanAttribute(default=False)
    webhook_url = UnicodeAttribute(null=True)
    webhook_secret = UnicodeAttribute(null=True)


class ZoneItem(TableItem):
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    geometry = BinaryAttribute(legacy_encoding=False)  # zlib-compressed GeoJSON


class RoutingItem(TableItem):
    triage = UnicodeAttribute()
    rules = JSONAttribute(default=list)


def _service(item: ServiceItem) -> Service:
    questions = tuple(
        ServiceQuestion(
            code=q["code"], datatype=q["datatype"], description=q["description"],
            required=q.get("required", False), variable=q.get("variable", True),
            order=q.get("order", 0), datatype_description=q.get("datatype_description"),
            values=tuple(AttributeChoice(v["key"], v["name"]) for v in q.get("values", [])),
        )
        for q in item.questions
    )
    return Service(
        code=item.code, name=item.name, description=item.description, group=item.group,
        keywords=tuple(item.keywords), type=item.type, questions=questions,
        department=item.department, active=item.active,
        **{name: int(value) for name in ("duplicate_radius_m", "duplicate_window_days")
           if (value := getattr(item, name)) is not None},
        sla=sla_policy(item.sla) if item.sla else None,
    )


def sla_policy(doc: dict[str, Any]) -> SlaPolicy:
    return SlaPolicy(
        target=SlaTarget(float(doc["amount"]), doc["unit"]),
        priorities=tuple(PriorityRule(p["question"], p["answer"],
                                      SlaTarget(float(p["amount"]), p["unit"]))
                         for p in doc.get("priorities", [])))


def sla_policy_doc(policy: SlaPolicy) -> dict[str, Any]:
    return {"amount": policy.target.amount, "unit": policy.target.unit,
            "priorities": [{"question": p.question, "answer": p.answer,
                            "amount": p.target.amount, "unit": p.target.unit}
                           for p in policy.priorities]}


def _question_doc(q: ServiceQuestion) -> dict[str, Any]:
    return {
        "code": q.code, "datatype": q.datatype, "description": q.description,
        "required": q.required, "variable": q.variable, "order": q.order,
        "datatype_description": q.datatype_description,
        "values": [{"key": v.key, "name": v.name} for v in q.values],
    }


def service_item(town_id: str, s: Service, position: int) -> ServiceItem:
    return ServiceItem(
        keys.town_pk(town_id), keys.service_sk(s.code), code=s.code, name=s.name,
        description=s.description, group=s.group, keywords=list(s.keywords), type=s.type,
        department=s.department, active=s.active, position=position,
        questions=[_question_doc(q) for q in s.questions],
        duplicate_radius_m=s.duplicate_radius_m,
        duplicate_window_days=s.duplicate_window_days,
        sla=sla_policy_doc(s.sla) if s.sla else None)


def department_item(town_id: str, d: Department) -> DepartmentItem:
    return DepartmentItem(keys.town_pk(town_id), keys.department_sk(d.code), code=d.code,
                          name=d.name, email=d.email, queue=d.queue,
                          webhook_url=d.webhook_url, webhook_secret=d.webhook_secret)


def _department(item: DepartmentItem) -> Department:
    return Department(item.code, item.name, item.email, queue=item.queue,
                      webhook_url=item.webhook_url, webhook_secret=item.webhook_secret)


# A zone may be detailed (a coastline ward); compressed, it must still fit in one item.
ZONE_LIMIT_BYTES = 300_000


def zone_item(town_id: str, zone: Zone) -> ZoneItem:
    packed = zlib.compress(json.dumps(zone.geometry, separators=(",", ":")).encode(), 6)
    if len(packed) > ZONE_LIMIT_BYTES:
        raise InvalidInput.of([Problem("geometry", "is too detailed to store; simplify it")])
    return ZoneItem(keys.town_pk(town_id), keys.zone_sk(zone.code), code=zone.code,
                    name=zone.name, kind=zone.kind, geometry=packed)


def _zone(item: ZoneItem) -> Zone:
    geometry = json.loads(zlib.decompress(item.geometry))
    return Zone(code=item.code, name=item.name, kind=item.kind, geometry=geometry)


def routing_item(town_id: str, routing: RoutingRules) -> RoutingItem:
    rules = [{"service_code": r.service_code, "department": r.department, "zone": r.zone}
             for r in routing.rules]
    return RoutingItem(keys.town_pk(town_id), keys.ROUTING_SK, triage=routing.triage,
                       rules=rules)


def _routing(item: RoutingItem) -> RoutingRules:
    return RoutingRules(
        rules=tuple(RoutingRule(r["service_code"], r["department"], r.get("zone"))
                    for r in item.rules),
        triage=item.triage)


def read_catalogue(town_id: str, changeset: str) -> Catalogue:
    """The town's whole catalogue, from one Query of its ``CAT#`` items."""
    services: list[tuple[float, Service]] = []
    departments: list[Department] = []
    zones: list[Zone] = []
    routing: RoutingRules | None = None
    for raw in query_items(keys.town_pk(town_id), keys.CATALOGUE_PREFIX):
        kind = keys.catalogue_kind(raw["SK"]["S"])
        if kind == "SERVICE":
            service = ServiceItem.from_raw_data(raw)
            services.append((service.position, _service(service)))
        elif kind == "DEPT":
            departments.append(_department(DepartmentItem.from_raw_data(raw)))
        elif kind == "ZONE":
            zones.append(_zone(ZoneItem.from_raw_data(raw)))
        elif kind == "ROUTING":
            routing = _routing(RoutingItem.from_raw_data(raw))
    services.sort(key=lambda pair: pair[0])
    return Catalogue(tuple(s for _, s in services), tuple(departments), changeset,
                     zones=tuple(zones), routing=routing)
