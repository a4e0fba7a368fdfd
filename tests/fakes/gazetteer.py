"""An in-memory ``GazetteerStore`` (chalicelib.services.gazetteer); the contract tests in
tests/integration/test_gazetteer_contract.py run it and the DynamoDB adapter alike."""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.domain.gazetteer import GazetteerEntry, GazetteerSummary


class FakeGazetteerStore:
    def __init__(self) -> None:
        self.current: dict[str, tuple[GazetteerSummary, list[GazetteerEntry]]] = {}
        self.loads = 0

    def summary(self, town_id: str) -> GazetteerSummary | None:
        found = self.current.get(town_id)
        return found[0] if found else None

    def load(self, town_id: str) -> tuple[GazetteerSummary, list[GazetteerEntry]] | None:
        self.loads += 1
        found = self.current.get(town_id)
        return (found[0], list(found[1])) if found else None

    def replace(self, town_id: str, entries: Sequence[GazetteerEntry],
                summary: GazetteerSummary) -> None:
        self.current[town_id] = (summary, list(entries))
