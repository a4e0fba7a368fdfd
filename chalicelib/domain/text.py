"""What people may type: any language, any punctuation, never invisible control bytes.

One cleaner for every piece of text that is ever published (Open311 descriptions and
notes, merge and dispute notes, alert titles and bodies, names, template wording, rating
comments...). It runs at the edge, so what is stored is clean: line breaks are normalised
to ``\\n``, the text is put in Unicode NFC and trimmed, and what XML 1.0 cannot carry or a
reader cannot see is refused with a clear message rather than silently dropped:

- C0 controls other than tab and line feed (tab and line feed only in long text),
  DEL and the C1 controls (U+007F..U+009F);
- lone surrogates (U+D800..U+DFFF), which JSON's ``\\ud800`` escapes can smuggle in;
- noncharacters (U+FDD0..U+FDEF and the last two code points of every plane, among them
  U+FFFE and U+FFFF, which XML 1.0 forbids).

Text that looks like HTML or script is kept exactly as written; escaping is the job of
whatever renders it (JSON encoders, the XML writer, Jinja2's autoescape).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17))
# Tab and line feed are allowed in long text only; carriage returns never reach the check
# (they are turned into line feeds first).
_REFUSED = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}]")
_REFUSED_SINGLE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARACTERS}]")
_LINE_BREAK = re.compile("\r\n?")


@cache
def _not_xml() -> re.Pattern[str]:
    """What XML 1.0 cannot carry (outside its ``Char`` production). Used when writing XML
    as a second line of defence: text stored before the cleaner existed must not make a
    whole document unreadable. Compiled on first use: 10 ms, for XML answers only."""
    return re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class TextRefused(ValueError):
    """Text that cannot be cleaned into something publishable; the message says why."""


def clean(value: str, max_length: int, *, multiline: bool = False) -> str:
    """The publishable form of ``value``: line breaks as ``\\n``, NFC, trimmed.

    Raises ``TextRefused`` for control characters, lone surrogates and noncharacters, and
    for text longer than ``max_length`` once cleaned."""
    text = _LINE_BREAK.sub("\n", value)
    pattern = _REFUSED if multiline else _REFUSED_SINGLE_LINE
    if pattern.search(text):
        raise TextRefused("must not contain control characters (line breaks and tabs are "
                          "fine) or noncharacters" if multiline else
                          "must not contain control characters, line breaks, tabs or "
                          "noncharacters")
    text = unicodedata.normalize("NFC", text).strip()
    if len(text) > max_length:
        raise TextRefused(f"must be at most {max_length} characters (got {len(text)})")
    return text


def xml_safe(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot carry (render time only: never used
    to rewrite what is stored)."""
    return _not_xml().sub("", value)
