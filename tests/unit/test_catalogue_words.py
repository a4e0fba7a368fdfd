"""The packs' catalogue words in a resident's language (``CatalogueWords``): the adapter
reads the pages' catalogue.po as data, once per language, and anything it cannot read is
no translation, never an error. The fake and the adapter answer the same contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.adapters.catalogue_words import PoCatalogueWords
from tests.fakes import FakeCatalogueWords

ROOT = Path(__file__).resolve().parents[2]
PO = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Pothole"
msgstr "Bache"

msgid "Is it in a traffic lane?"
msgstr ""

#, fuzzy
msgid "Graffiti"
msgstr "Grafiti (por revisar)"
"""


def _locales(tmp_path: Path, po: str | bytes = PO, language: str = "es") -> Path:
    folder = tmp_path / "locale" / language
    folder.mkdir(parents=True)
    path = folder / "catalogue.po"
    if isinstance(po, bytes):
        path.write_bytes(po)
    else:
        path.write_text(po, encoding="utf-8")
    return tmp_path / "locale"


@pytest.fixture(params=["fake", "po"])
def words(request, tmp_path):
    if request.param == "fake":
        return FakeCatalogueWords({"es": {"Pothole": "Bache"}})
    return PoCatalogueWords(_locales(tmp_path))


# --- the contract: the fake and the adapter alike ---------------------------------------------


def test_a_packs_word_is_translated_and_a_towns_own_is_as_written(words):
    spanish = words.words("es")
    assert spanish("Pothole") == "Bache"
    assert spanish("Broken bench") == "Broken bench"
    assert spanish("") == ""


@pytest.mark.parametrize("language", ["en", "fr", "zz"])
def test_english_and_a_language_without_a_catalogue_give_the_words_as_written(words,
                                                                              language):
    assert words.words(language)("Pothole") == "Pothole"


# --- the adapter ------------------------------------------------------------------------------


def test_the_shipped_catalogue_names_the_small_town_pack_in_spanish():
    spanish = PoCatalogueWords().words("es")
    assert spanish("Pothole") == "Bache"
    assert spanish("About how big is it?") == "¿Qué tan grande es, más o menos?"
    assert spanish("Larger than a car tire") == "Más grande que una llanta"
    # A regional tag reads its language's catalogue.
    assert PoCatalogueWords().words("es-MX")("Pothole") == "Bache"
    assert PoCatalogueWords().words("en")("Pothole") == "Pothole"


def test_untranslated_and_fuzzy_entries_translate_nothing(tmp_path):
    spanish = PoCatalogueWords(_locales(tmp_path)).words("es")
    assert spanish("Is it in a traffic lane?") == "Is it in a traffic lane?"
    assert spanish("Graffiti") == "Graffiti"


@pytest.mark.parametrize("language", ["../es", "es/../../x", "ES ", "e", "", "1234"])
def test_a_language_that_is_not_a_plain_code_is_never_a_path(tmp_path, language):
    assert PoCatalogueWords(_locales(tmp_path)).words(language)("Pothole") == "Pothole"


def test_a_missing_catalogue_is_no_translation_not_a_crash(tmp_path):
    assert PoCatalogueWords(tmp_path / "nowhere").words("es")("Pothole") == "Pothole"


def test_an_unreadable_catalogue_is_no_translation_and_is_logged(tmp_path, caplog):
    broken = PO.encode().replace(b'"Bache"', b'"Bache \xff\xfe"')
    spanish = PoCatalogueWords(_locales(tmp_path, broken)).words("es")
    assert spanish("Pothole") == "Pothole"
    assert "catalogue words could not be read" in caplog.text


def test_a_language_is_read_once_per_container(tmp_path):
    locales = _locales(tmp_path)
    words = PoCatalogueWords(locales)
    assert words.words("es")("Pothole") == "Bache"
    (locales / "es" / "catalogue.po").unlink()
    assert words.words("es")("Pothole") == "Bache"  # kept from the first read
    assert PoCatalogueWords(locales).words("es")("Pothole") == "Pothole"  # a new container


_LAZY = """
import json, sys
from chalicelib.adapters.catalogue_words import PoCatalogueWords
words = PoCatalogueWords()
english = words.words("en")("Pothole")
before = "babel.messages.pofile" in sys.modules
spanish = words.words("es")("Pothole")
print(json.dumps([english, before, spanish, "babel.messages.pofile" in sys.modules]))
"""


def test_nothing_is_read_until_a_language_other_than_english_is_asked_for():
    done = subprocess.run([sys.executable, "-c", _LAZY], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={"PATH": "/usr/bin:/bin",
                                                      "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == ["Pothole", False, "Bache", True]
