"""Wire formats of a department working its requests: the steps, notes, declines,
hand-offs and closes, and the work list's query (strict, like every staff body)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator

from chalicelib.domain.lifecycle import Resolution
from chalicelib.schemas.admin import Code, Strict, _clean
from chalicelib.schemas.model import WireModel

LongNote = Annotated[str, Field(min_length=1, max_length=4000), _clean(4000, multiline=True)]


class StepIn(Strict):
    """acknowledge, accept, hold, reopen: an optional note (public)."""

    note: LongNote | None = None


class NoteIn(Strict):
    text: LongNote
    public: bool = False  # internal unless said otherwise


class DeclineIn(Strict):
    reason: LongNote


class HandOffIn(Strict):
    department: Code
    reason: LongNote | None = None


class CloseIn(Strict):
    resolution: Resolution
    note: LongNote | None = None


class WorkQuery(WireModel):
    model_config = ConfigDict(extra="ignore")

    status: str | None = None
    page_size: int = Field(default=50, ge=1, le=200)
    after: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = None

    @field_validator("*", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value
