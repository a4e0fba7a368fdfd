"""The template packs' catalogue text reads in Spanish on the report pages."""

from __future__ import annotations

import json
from pathlib import Path

from chalicelib.web import pages
from tests.web.test_catalogues import catalogue

PACKS = Path(pages.__file__).parent.parent / "packs"


def pack_strings(name: str) -> set[str]:
    """Every text of a pack a resident sees: service names, descriptions, groups,
    questions, their hints and list values."""
    pack = json.loads((PACKS / f"{name}.json").read_text())
    found: set[str] = set()
    for service in pack["services"]:
        found |= {service["name"], service["description"], service.get("group") or ""}
        for q in service.get("questions", []):
            found |= {q["description"], q.get("datatype_description") or ""}
            found |= {v["name"] for v in q.get("values", [])}
    return found - {""}


def test_every_string_of_the_small_town_pack_has_a_spanish_translation() -> None:
    spanish = catalogue("es")
    missing = sorted(s for s in pack_strings("small_town") if not spanish.get(s))
    assert not missing, f"untranslated in locale/es/catalogue.po: {missing}"


def test_a_towns_own_text_without_a_translation_is_shown_as_written() -> None:
    from chalicelib.domain.catalogue import AttributeChoice, Service, ServiceQuestion
    from chalicelib.services.web_reports import in_language

    own = Service("bench", "Broken bench", "A bench in a park.", "Parks", questions=(
        ServiceQuestion("where", "singlevaluelist", "Which park?", values=(
            AttributeChoice("elm", "Elm Park"), AttributeChoice("no", "No")),),))
    shown = in_language(own, pages.translations("es").gettext)
    assert shown.name == "Broken bench" and shown.questions[0].description == "Which park?"
    assert [v.name for v in shown.questions[0].values] == ["Elm Park", "No"]
    assert "Broken bench" in shown.keywords
