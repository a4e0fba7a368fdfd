"""What a town uses each month (chalicelib.domain.usage names the counters)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class UsageMeter(Protocol):
    """Per-town, per-month counters, each event added in one atomic write."""

    def add(self, town_id: str, month: str, amounts: Mapping[str, int]) -> None:
        """Add ``amounts`` (counter name to a whole number) to the town's usage of
        ``month`` (``2026-12``), all in one write."""
        ...

    def months(self, town_ids: list[str], month: str) -> dict[str, dict[str, int]]:
        """Each town's counters of ``month``, by town (a town with none: absent)."""
        ...
