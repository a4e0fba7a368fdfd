"""A town's service catalogue: what residents can report, and what each report must say.

Attribute rules follow Open311 GeoReport v2: six datatypes, a required flag, and list
values identified by key. ``parse_attribute_answers`` is the single place that decides
whether a resident's answers fit a service.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.errors import InvalidInput, Problem
from chalicelib.domain.instants import DateRefused, parse_instant
from chalicelib.domain.text import TextRefused, clean

if TYPE_CHECKING:
    from chalicelib.domain.routing import RoutingRules
    from chalicelib.domain.sla import SlaPolicy
    from chalicelib.domain.zones import Zone

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
SERVICE_TYPES = ("realtime", "batch", "blackbox")
LIST_DATATYPES = ("singlevaluelist", "multivaluelist")
# What a town may set for its services' duplicate check (inclusive bounds).
DUPLICATE_RADIUS_LIMITS_M = (10, 150)
DUPLICATE_WINDOW_LIMITS_DAYS = (1, 365)

# One answer to a service question: a string, or several keys for a multivaluelist.
Answer = str | list[str]


@dataclass(frozen=True)
class AttributeChoice:
    key: str
    name: str


@dataclass(frozen=True)
class ServiceQuestion:
    """An Open311 service attribute: a question the resident answers when reporting."""

    code: str
    datatype: str
    description: str
    required: bool = False
    # Informational attributes (variable=false) are shown, never answered.
    variable: bool = True
    order: int = 0
    datatype_description: str | None = None
    values: tuple[AttributeChoice, ...] = ()

    def __post_init__(self) -> None:
        if self.datatype not in DATATYPES:
            raise ValueError(f"unknown datatype {self.datatype!r} for attribute {self.code}")
        if self.datatype in LIST_DATATYPES and not self.values:
            raise ValueError(f"list attribute {self.code} needs values")


@dataclass(frozen=True)
class Service:
    """One kind of report a town accepts (a pothole, a streetlight out, ...)."""

    code: str
    name: str
    description: str
    group: str
    keywords: tuple[str, ...] = ()
    type: str = "realtime"
    questions: tuple[ServiceQuestion, ...] = ()
    department: str | None = None
    active: bool = True
    # Before a request is made, open ones of the same service this close (metres) and
    # this recent (days) are offered as possible duplicates.
    duplicate_radius_m: int = 50
    duplicate_window_days: int = 30
    sla: SlaPolicy | None = None  # the town's promise for this service; None: no due date

    @property
    def metadata(self) -> bool:
        """Open311's flag: the client must fetch the definition before posting."""
        return bool(self.questions)


@dataclass(frozen=True)
class Department:
    """A team that fixes things, and where its assignments are delivered besides the
    console inbox: its own SQS queue, and/or a signed webhook to its work-order system."""

    code: str
    name: str
    email: str | None = None
    queue: bool = False
    webhook_url: str | None = None
    webhook_secret: str | None = None  # HMAC-SHA256 key; never shown again after creation


@dataclass(frozen=True)
class Catalogue:
    """A town's services, departments and zones, with the changeset clients cache by."""

    services: tuple[Service, ...]
    departments: tuple[Department, ...] = ()
    changeset: str = ""
    zones: tuple[Zone, ...] = ()
    routing: RoutingRules | None = None  # None: no rules yet (service departments, triage)
    by_code: dict[str, Service] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_code.update({s.code: s for s in self.services})

    def service(self, code: str) -> Service | None:
        found = self.by_code.get(code)
        return found if found is not None and found.active else None

    def department(self, code: str | None) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)

    def own_department(self, service_code: str) -> str | None:
        """The department the service names, if both still exist."""
        service = self.by_code.get(service_code)
        if service is None or not service.department or not self.department(service.department):
            return None
        return service.department


def parse_attribute_answers(service: Service, raw: dict[str, list[str]]) -> dict[str, Answer]:
    """Check a resident's answers against the service's questions.

    ``raw`` maps an attribute code to the values sent (``attribute[code]=v`` gives one,
    ``attribute[code][]=v`` repeated gives several). Empty values count as absent. Every
    problem is collected so the client hears all of them at once.
    """
    questions = {q.code: q for q in service.questions if q.variable}
    problems: list[Problem] = []
    answers: dict[str, Answer] = {}
    for code in sorted(raw):
        if code not in questions:
            problems.append(Problem(f"attribute[{code}]", f"is not a question of {service.code}"))
    for q in sorted(questions.values(), key=lambda q: (q.order, q.code)):
        values = [v for v in raw.get(q.code, []) if v.strip() != ""]
        name = f"attribute[{q.code}]"
        if not values:
            if q.required:
                problems.append(Problem(name, f"is required ({q.description})"))
            continue
        answer, problem = _answer(q, name, values)
        if problem:
            problems.append(problem)
        elif answer is not None:
            answers[q.code] = answer
    if problems:
        raise InvalidInput.of(problems)
    return answers


def _answer(q: ServiceQuestion, name: str,
            values: list[str]) -> tuple[Answer | None, Problem | None]:
    if q.datatype == "multivaluelist":
        keys = {c.key for c in q.values}
        unknown = [v for v in values if v not in keys]
        if unknown:
            return None, Problem(name, f"has no value {unknown[0]!r}; allowed: {sorted(keys)}")
        return list(dict.fromkeys(values)), None
    if len(values) > 1:
        return None, Problem(name, "takes one value")
    value = values[0]
    if q.datatype == "singlevaluelist":
        keys = {c.key for c in q.values}
        if value not in keys:
            return None, Problem(name, f"has no value {value!r}; allowed: {sorted(keys)}")
        return value, None
    if q.datatype == "number":
        try:
            number = float(value)
        except ValueError:
            return None, Problem(name, f"must be a number (got {value[:40]!r})")
        if not math.isfinite(number):
            return None, Problem(name, "must be a finite number")
        return value.strip(), None
    if q.datatype == "datetime":
        try:
            parse_instant(value, naive_allowed=True)  # a resident's local time is fine
        except DateRefused as e:
            return None, Problem(name, str(e))
        return value.strip(), None
    limit, multiline = (4000, True) if q.datatype == "text" else (255, False)
    try:
        return clean(value, limit, multiline=multiline), None
    except TextRefused as e:
        return None, Problem(name, str(e))


def parse_datetime(value: str) -> datetime:
    """Parse an ISO 8601 / W3C datetime; ``Z``, offsets and fractional seconds allowed."""
    text = value.strip()
    if not text or len(text) > 40:
        raise ValueError("not a datetime")
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)
