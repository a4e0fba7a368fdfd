"""The template packs' catalogue words in residents' languages (``CatalogueWords``), read
from the message catalogue the resident pages translate them with,
``chalicelib/web/locale/<language>/catalogue.po``.

The file is read as data, by its path: the pages (``chalicelib.web``) sit above the
services and this adapter, which may not import them. infra/build_package.py ships the
``locale`` directory with every function whose code reaches this module because the path
below names it in one string, "web/locale" (keep it so).

Each language is read once per container, on the first text that needs it; English (the
packs' own language) never reads anything, so a cold start pays nothing for it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path

log = logging.getLogger(__name__)

SOURCE_LANGUAGE = "en"  # the language the packs' catalogue text is written in
LOCALES = Path(__file__).resolve().parent.parent / "web/locale"
CATALOGUE_FILE = "catalogue.po"
_LANGUAGE = re.compile(r"[a-z]{2,3}")


def as_written(text: str) -> str:
    """The translator of a language without a catalogue: every text as written."""
    return text


class PoCatalogueWords:
    """``CatalogueWords`` from ``<locales>/<language>/catalogue.po``. A language without
    the file, or a file that cannot be read, translates nothing (the latter is logged):
    a resident still gets an answer, with the town's words as written."""

    def __init__(self, locales: Path = LOCALES) -> None:
        self._locales = locales
        self._read: dict[str, Mapping[str, str]] = {}

    def words(self, language: str) -> Callable[[str], str]:
        # A language is a path part here: only a plain language code is looked up
        # ("es", or "es" of "es-MX"); anything else has no catalogue.
        code = (language or "").split("-")[0].split("_")[0].lower()
        if code == SOURCE_LANGUAGE or not _LANGUAGE.fullmatch(code):
            return as_written
        found = self._read.get(code)
        if found is None:
            found = self._read[code] = self._messages(code)
        if not found:
            return as_written
        translations = found

        def translate(text: str) -> str:
            return translations.get(text, text) if text else text

        return translate

    def _messages(self, language: str) -> Mapping[str, str]:
        path = self._locales / language / CATALOGUE_FILE
        if not path.is_file():
            return {}
        from babel.messages.pofile import read_po

        try:
            with path.open("rb") as f:
                # No locale: plural rules are not needed for single words, and the CLDR
                # data a locale loads would be paid for nothing.
                catalogue = read_po(f)
        except (OSError, ValueError):
            log.exception("the catalogue words could not be read; the town's words are "
                          "used as written", extra={"language": language})
            return {}
        # As gettext does: fuzzy and untranslated entries translate nothing.
        return {m.id: m.string for m in catalogue
                if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string
                and not m.fuzzy}
