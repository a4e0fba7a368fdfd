"""Figures for page tests: the figures service as it is, over the in-memory figure store
(tests/fakes/figures.py) seeded with the days a test keeps, and a record of what the pages
read from it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pytest

from chalicelib import bootstrap
from chalicelib.domain.figures import DayFigures, Figures
from tests.fakes.figures import FakeFigureStore

TOWN = "maplefalls.example"


class KeptFigures(FakeFigureStore):
    """The fake store; ``keep`` seeds a day, ``read`` lists each Query the service made
    (dimension and first day)."""

    def __init__(self) -> None:
        super().__init__()
        self.read: list[tuple[str, date]] = []

    def keep(self, day: date, by: str, value: str, figures: Figures,
             open_delta: int = 0) -> None:
        self.put(TOWN, DayFigures(day, by, value, figures, open_delta))

    def open_at_present(self, counts: Mapping[tuple[str, str], int]) -> None:
        self.set_open(TOWN, counts)

    def days(self, town_id: str, dimension: str, start: date,
             end: date | None = None) -> list[DayFigures]:
        self.read.append((dimension, start))
        return super().days(town_id, dimension, start, end)


def install_kept_figures(monkeypatch: pytest.MonkeyPatch) -> KeptFigures:
    store = KeptFigures()
    monkeypatch.setattr(bootstrap.container(), "figures", store)
    return store
