"""What residents may type: any language, any punctuation, never invisible control bytes.

Text that looks like HTML or script is kept exactly as written; escaping is the job of
whatever renders it (JSON encoders, the XML writer, Jinja2's autoescape).
"""

from __future__ import annotations

import re

from chalicelib.domain.errors import Problem

# C0 and C1 control characters and DEL; tab and line breaks are allowed in long text only.
# U+FFFE and U+FFFF are not characters at all, and XML 1.0 cannot carry them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_CONTROL_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff]")


def text_problem(field: str, value: str, max_length: int, *, multiline: bool) -> Problem | None:
    """Say what is wrong with a piece of resident text, or None when it is acceptable."""
    if len(value) > max_length:
        return Problem(field, f"must be at most {max_length} characters (got {len(value)})")
    pattern = _CONTROL if multiline else _CONTROL_SINGLE_LINE
    if pattern.search(value):
        allowed = " other than line breaks and tabs" if multiline else ""
        return Problem(field, f"must not contain control characters{allowed}")
    return None
