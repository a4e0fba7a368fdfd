"""Usage counters in memory (``UsageMeter``)."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.domain.usage import is_counter


class FakeUsage:
    """Each town's counters per month; ``fail`` makes every add raise, as a storage
    outage would (counting must never fail the action it counts)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], dict[str, int]] = {}
        self.fail: Exception | None = None

    def add(self, town_id: str, month: str, amounts: Mapping[str, int]) -> None:
        if self.fail is not None:
            raise self.fail
        bad = [name for name in amounts if not is_counter(name)]
        if bad:
            raise ValueError(f"not a usage counter: {bad[0][:40]!r}")
        if not any(amounts.values()):
            return
        kept = self.counts.setdefault((town_id, month), {})
        for name, amount in amounts.items():
            if amount:
                kept[name] = kept.get(name, 0) + amount

    def months(self, town_ids: list[str], month: str) -> dict[str, dict[str, int]]:
        return {t: dict(self.counts[(t, month)]) for t in town_ids if (t, month) in self.counts}
