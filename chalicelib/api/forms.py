"""Reading Open311 POST bodies: form-urlencoded, or multipart with a ``media`` file part."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from chalicelib.domain.errors import InvalidInput, Problem

_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,100})\](\[\])?$")


@dataclass
class FilePart:
    content: bytes
    content_type: str
    filename: str | None


@dataclass
class PostedForm:
    """Scalar fields (the last value wins), attribute answers, and the media part."""

    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, list[str]] = field(default_factory=dict)
    media: FilePart | None = None

    def add(self, name: str, value: str) -> None:
        match = _ATTRIBUTE.match(name)
        if match:
            self.attributes.setdefault(match.group(1), []).append(value)
        else:
            self.fields[name] = value


def read_form(body: bytes | str, content_type: str | None) -> PostedForm:
    """Parse a POST body; bad encodings and malformed multipart are InvalidInput."""
    if isinstance(body, str):  # Chalice's type says either; API Gateway hands over bytes
        body = body.encode("utf-8")
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime == "multipart/form-data":
        return _multipart(body, content_type or "")
    form = PostedForm()
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InvalidInput.of([Problem("body", "must be UTF-8 text")]) from None
    except ValueError:
        raise InvalidInput.of([Problem("body", "is not a valid form")]) from None
    for name, value in pairs:
        form.add(name, value)
    return form


def _multipart(body: bytes, content_type: str) -> PostedForm:
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import create_form_parser

    form = PostedForm()
    problems: list[Problem] = []

    def on_field(f) -> None:  # noqa: ANN001 - python-multipart's Field
        try:
            name = (f.field_name or b"").decode("utf-8")
            form.add(name, (f.value or b"").decode("utf-8"))
        except UnicodeDecodeError:
            problems.append(Problem("body", "form fields must be UTF-8 text"))

    def on_file(f) -> None:  # noqa: ANN001 - python-multipart's File
        name = (f.field_name or b"").decode("utf-8", "replace")
        f.file_object.seek(0)
        content = f.file_object.read()
        if name != "media":
            problems.append(Problem(name or "file", "only a 'media' file part is accepted"))
            return
        if form.media is not None:
            problems.append(Problem("media", "send one photo per request"))
            return
        filename = f.file_name.decode("utf-8", "replace") if f.file_name else None
        form.media = FilePart(content, f.content_type or "application/octet-stream", filename)

    try:
        parser = create_form_parser({"Content-Type": content_type.encode("latin-1")},
                                    on_field, on_file,
                                    config={"MAX_MEMORY_FILE_SIZE": float("inf")})
        parser.write(body)
        parser.finalize()
    except (FormParserError, ValueError, UnicodeEncodeError):
        raise InvalidInput.of([Problem("body", "is not valid multipart/form-data")]) from None
    if problems:
        raise InvalidInput.of(problems)
    return form
