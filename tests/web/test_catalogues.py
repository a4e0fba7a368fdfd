"""Every string a page shows goes through a message catalogue, and Spanish is complete."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from chalicelib.web import pages

WEB = Path(pages.__file__).parent


def page_messages() -> set[str]:
    found = extract_from_dir(
        str(WEB), method_map=[("**.html", "jinja2.ext:babel_extract"), ("**.py", "python")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}})
    return {m if isinstance(m, str) else m[0] for _, _, m, _, _ in found}


def catalogue(language: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    for po in sorted((WEB / "locale" / language).glob("*.po")):
        with po.open("rb") as f:
            for message in read_po(f, locale=language):
                if message.id:
                    messages[message.id if isinstance(message.id, str) else message.id[0]] = \
                        message.string if isinstance(message.string, str) else message.string[0]
    return messages


def test_spanish_translates_every_message_the_pages_show() -> None:
    spanish = catalogue("es")
    missing = sorted(m for m in page_messages() if not spanish.get(m))
    assert not missing, f"untranslated in locale/es/*.po: {missing}"


def test_translations_keep_their_placeholders() -> None:
    import re

    for english, spanish in catalogue("es").items():
        assert sorted(re.findall(r"%\(\w+\)s", english)) == sorted(
            re.findall(r"%\(\w+\)s", spanish)), english


def test_no_message_is_translated_in_two_areas_differently() -> None:
    seen: dict[str, tuple[str, str]] = {}
    for po in sorted((WEB / "locale" / "es").glob("*.po")):
        with po.open("rb") as f:
            for message in read_po(f, locale="es"):
                if message.id and isinstance(message.id, str):
                    if message.id in seen:
                        assert seen[message.id][1] == message.string, (
                            f"{message.id!r}: {seen[message.id][0]} and {po.name} differ")
                    seen[message.id] = (po.name, str(message.string))
