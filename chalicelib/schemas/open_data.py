"""What the open-data routes take and answer: the feed's query, and export jobs."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator

from chalicelib.domain.open_data import FEED_PAGE_DEFAULT, FEED_PAGE_MAX, Position, decode_cursor
from chalicelib.schemas.fields import OptionalInstant
from chalicelib.schemas.model import WireModel


class FeedQuery(WireModel):
    """``?updated_after=<time with offset>&cursor=<from the last page>&page_size=<1..500>``;
    any other parameter is refused (a misspelt one would silently read everything)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    updated_after: OptionalInstant = None
    cursor: Annotated[str | None, Field(max_length=200)] = None
    page_size: Annotated[int, Field(ge=1, le=FEED_PAGE_MAX)] = FEED_PAGE_DEFAULT

    @field_validator("cursor")
    @classmethod
    def _cursor(cls, value: str | None) -> str | None:
        if value:
            try:
                decode_cursor(value)
            except ValueError:
                raise ValueError("not a cursor from this feed; start again without one") \
                    from None
        return value or None

    @property
    def position(self) -> Position | None:
        return decode_cursor(self.cursor) if self.cursor else None


def job_document(job: Any, link: str | None, location: str) -> dict[str, Any]:
    """An export job as the APIs show it (no requester: it may be a member of staff)."""
    return {
        "job_id": job.job_id, "kind": job.kind, "status": job.status, "year": job.year,
        "rows": job.rows, "parts": job.parts, "bytes": job.bytes_written,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "expires_at": job.expires_at.isoformat(), "file_name": job.file_name,
        "download_url": link, "location": location,
    }
