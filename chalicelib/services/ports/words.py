"""The words of the template packs' catalogues in residents' languages: what the channels
that reply by themselves (texts, e-mail) need to name a service, ask its questions and
list their values in the resident's language, as the resident pages do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class CatalogueWords(Protocol):
    """The packs' catalogue text (service names, descriptions, groups, questions, list
    values) is written in English; a translation of it exists per language."""

    def words(self, language: str) -> Callable[[str], str]:
        """A translator of catalogue text into ``language``: a pack's English text in that
        language; any text without a translation (a town's own services, a blank) as
        written. English, and a language no catalogue translates, give every text back
        as written."""
        ...
