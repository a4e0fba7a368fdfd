"""The one reader of JSON bodies: at most 1 MB, nested at most 32 deep, finite numbers,
no unpaired surrogate escapes; anything else is InvalidInput (a 400), never a 500.

Python's JSON decoder recurses once per ``[`` or ``{``: 50,000 of them raise
RecursionError, which no ``except ValueError`` catches. So the depth is measured first,
without recursion and without decoding: strings are cut out (a bracket inside a string
is text), and the running sum of opening minus closing brackets is taken. The decoder
only ever sees a document whose depth is known to be small. (For text that is not JSON
the measure may be off, but only past the point where the decoder stops with an error.)
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

from chalicelib.domain.errors import InvalidInput, Problem

MAX_JSON_BYTES = 1024 * 1024
# A GeoJSON MultiPolygon in a zone body is 6 deep, town settings 5; 32 is room to spare.
MAX_JSON_DEPTH = 32

# A JSON string: a quote, then anything but quotes and backslashes, or a backslash and
# whatever it escapes. Unrolled, so it never backtracks more than linearly.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
# A \uD800..\uDBFF or \uDC00..\uDFFF escape: it may decode to a lone surrogate, which no
# UTF-8 response, store or XML document can carry.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def nesting_depth(raw: bytes) -> int:
    """How deep ``[`` and ``{`` nest outside strings (0 for a scalar), without recursion."""
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", raw))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _refuse(message: str) -> InvalidInput:
    return InvalidInput.of([Problem("body", message)])


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes | str, *, max_bytes: int = MAX_JSON_BYTES,
               max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON document in ``raw``; InvalidInput (naming ``body``) for anything else."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    if len(data) > max_bytes:
        raise _refuse(f"must be at most {max_bytes // 1024} KB")
    if nesting_depth(data) > max_depth:
        raise _refuse(f"must not nest arrays and objects more than {max_depth} deep")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse("must be UTF-8 text") from None
    try:
        document = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # RecursionError: cannot happen after the depth
        raise _refuse("must be a JSON document") from None
    if _SURROGATE_ESCAPE.search(text):
        try:  # only then pay for a second pass; the depth is small, so dumps is safe
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise _refuse("must not contain unpaired surrogate escapes (\\ud800...)") from None
    return document
