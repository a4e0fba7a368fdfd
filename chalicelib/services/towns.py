"""Bringing a town live: a catalogue from a template pack, departments, a first API key."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict

from chalicelib.domain.catalogue import (
    AttributeChoice,
    Catalogue,
    Department,
    Service,
    ServiceQuestion,
)
from chalicelib.domain.instants import utc_now
from chalicelib.domain.sla import policy_from_document, us_federal_holidays
from chalicelib.domain.towns import (
    ApiKey,
    BusinessCalendar,
    StaffMember,
    Town,
    changeset_at,
    new_api_key_secret,
)

PACKS = Path(__file__).resolve().parent.parent / "packs"
DEMO_JURISDICTION = "maplefalls.example"
DEMO_SMS_NUMBER = "+18005550311"  # Maple Falls' own SMS number (local/sms.py texts it)


# A template pack as stored in chalicelib/packs/<name>.json. SLA units default to
# business hours; a question's flags to the Open311 defaults.


class PriorityDocument(TypedDict):
    question: str
    answer: str
    amount: float
    unit: NotRequired[str]


class SlaDocument(TypedDict):
    amount: float
    unit: NotRequired[str]
    priorities: NotRequired[list[PriorityDocument]]


class ChoiceDocument(TypedDict):
    key: str
    name: str


class QuestionDocument(TypedDict):
    code: str
    datatype: str
    description: str
    required: NotRequired[bool]
    variable: NotRequired[bool]
    order: NotRequired[int]
    datatype_description: NotRequired[str | None]
    values: NotRequired[list[ChoiceDocument]]


class ServiceDocument(TypedDict):
    code: str
    name: str
    description: str
    group: str
    keywords: NotRequired[list[str]]
    type: NotRequired[str]
    department: NotRequired[str | None]
    questions: NotRequired[list[QuestionDocument]]
    sla: NotRequired[SlaDocument | None]


class DepartmentDocument(TypedDict):
    code: str
    name: str
    email: NotRequired[str | None]


class OwnerDocument(TypedDict):
    name: str
    phone: NotRequired[str]
    url: NotRequired[str]


class ArticleDocument(TypedDict):
    """An answer of the town's knowledge base (chalicelib.domain.knowledge): versions in
    other languages share a ``topic``."""

    id: str
    question: str
    answer: str
    language: str
    owner: OwnerDocument
    keywords: NotRequired[list[str]]
    topic: NotRequired[str]


class PackDocument(TypedDict):
    pack: NotRequired[str]
    title: NotRequired[str]
    services: list[ServiceDocument]
    departments: NotRequired[list[DepartmentDocument]]
    articles: NotRequired[list[ArticleDocument]]


def pack_document(name: str) -> PackDocument:
    """A template pack's document as stored (ValueError/OSError: there is no such pack)."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"no template pack {name!r}")
    document: PackDocument = json.loads((PACKS / f"{name}.json").read_text(encoding="utf-8"))
    return document


def add_pack_articles(store: ArticleStore, town_id: str, pack: str, at: datetime) -> list[str]:
    """The pack's answers (chalicelib.domain.knowledge) the town does not have yet, added;
    their ids. Called when a town is made from a pack and when an admin adds one."""
    from chalicelib.domain.knowledge import pack_articles

    documents = pack_document(pack).get("articles") or []
    articles = pack_articles(documents, town_id, at)
    return store.add_new(articles) if articles else []


def load_pack(name: str) -> Catalogue:
    """A template pack as a catalogue; any town starts from one and edits it freely."""
    return catalogue_from_document(pack_document(name))


def template_packs() -> list[tuple[str, str]]:
    """The template packs there are, as (name, title), by name."""
    found = []
    for path in sorted(PACKS.glob("*.json")):
        document: PackDocument = json.loads(path.read_text(encoding="utf-8"))
        found.append((path.stem, document.get("title") or path.stem))
    return found


def catalogue_from_document(document: PackDocument) -> Catalogue:
    services = tuple(
        Service(
            code=s["code"], name=s["name"], description=s["description"], group=s["group"],
            keywords=tuple(s.get("keywords", ())), type=s.get("type", "realtime"),
            department=s.get("department"),
            questions=tuple(
                ServiceQuestion(
                    code=q["code"], datatype=q["datatype"], description=q["description"],
                    required=q.get("required", False), variable=q.get("variable", True),
                    order=q.get("order", 0), datatype_description=q.get("datatype_description"),
                    values=tuple(AttributeChoice(v["key"], v["name"]) for v in q.get("values", ())),
                )
                for q in s.get("questions", ())
            ),
            sla=policy_from_document(sla) if (sla := s.get("sla")) else None,
        )
        for s in document["services"]
    )
    departments = tuple(Department(d["code"], d["name"], d.get("email"))
                        for d in document.get("departments", ()))
    return Catalogue(services, departments)


@dataclass(frozen=True)
class NewTown:
    town: Town
    api_key: str
    staff: tuple[StaffMember, ...] = ()


def create_town(towns: TownDirectory, town_id: str, name: str, timezone: str, pack: str,
                *, api_key: str | None = None, contact_email: str | None = None,
                now: datetime | None = None) -> NewTown:
    """Create a town from a template pack with one API key (the secret is returned once)."""

    at = now or utc_now()
    changeset = changeset_at(at)
    # Weekdays 08:00-17:00 and the US federal holidays of this year and the next: a
    # starting calendar the town's admin edits (PATCH /admin/town).
    holidays = tuple(us_federal_holidays(at.year) + us_federal_holidays(at.year + 1))
    town = Town(town_id=town_id, name=name, timezone=timezone, changeset=changeset,
                contact_email=contact_email, key_service=contact_email,
                calendar=BusinessCalendar(holidays=holidays))
    town.zone  # noqa: B018 - fail now on an unknown time zone, not on the first request
    towns.create_town(town, load_pack(pack))
    secret = api_key or new_api_key_secret()
    towns.add_api_key(ApiKey(town_id=town_id, key_id="first-key", name="First key",
                             prefix=secret[:9], created_at=at), secret)
    return NewTown(town, secret)


# One member of staff per role, so that every role can be tried in the demo.
DEMO_STAFF = (
    ("admin", "Alex Admin", ("town_admin",), ()),
    ("agent", "Avery Agent", ("agent",), ()),
    ("streets", "Sam Streets", ("department_worker",), ("public_works",)),
    ("supervisor", "Sky Supervisor", ("supervisor",), ()),
    ("emergency", "Emery Emergency", ("emergency_manager",), ()),
    ("analyst", "Ana Analyst", ("analyst",), ()),
)

if TYPE_CHECKING:
    from chalicelib.services.gazetteer import GazetteerStore
    from chalicelib.services.ports import ArticleStore, TownDirectory


def seed_demo_town(towns: TownDirectory, api_key: str | None = None,
                   places: GazetteerStore | None = None,
                   articles: ArticleStore | None = None) -> NewTown:
    """Maple Falls, the demo town that ``make run`` serves, with one person per role and
    four neighbourhoods as zones (and, given ``places``, its gazetteer of streets,
    intersections and landmarks; given ``articles``, its pack's answers in English and
    Spanish)."""
    created = create_town(towns, DEMO_JURISDICTION, "Maple Falls", "America/Chicago",
                          "small_town", api_key=api_key, contact_email="311@maplefalls.example")
    # The demo shows the resident pages in both languages they are written in.
    # ... and answers texts on its own number (what `make sms` texts).
    created = NewTown(replace(created.town, locales=("en", "es"), sms_number=DEMO_SMS_NUMBER),
                      created.api_key)
    towns.map_sms_number(created.town, None)
    staff = tuple(
        StaffMember(user_id=f"demo-{handle}", town_id=DEMO_JURISDICTION,
                    email=f"{handle}@maplefalls.example", name=name, roles=roles,
                    departments=departments)
        for handle, name, roles, departments in DEMO_STAFF)
    for member in staff:
        towns.save_staff(member)
    from chalicelib.services.demo_zones import seed_demo_zones

    seed_demo_zones(towns, created.town)
    if places is not None:
        from chalicelib.services.demo_gazetteer import seed_demo_gazetteer

        seed_demo_gazetteer(places, DEMO_JURISDICTION, utc_now())
    if articles is not None:
        add_pack_articles(articles, DEMO_JURISDICTION, "small_town", utc_now())
    return NewTown(created.town, created.api_key, staff)
