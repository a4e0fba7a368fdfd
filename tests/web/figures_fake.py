"""Figures for page tests: what the figures service answers for days the test keeps.

``install_fake_figures`` puts a stand-in for ``chalicelib.services.figures``'s reading
functions (``period``, ``daily``, ``public_period``; see /work/wt/notes/FIGURES.md) in
place, refusing as the service does (the reports permission, in the caller's own town),
and records what the pages asked for.
"""

from __future__ import annotations

import sys
import types
from datetime import date, timedelta
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.domain.access import Permission, Principal, require
from chalicelib.domain.figures import Figures


class FakeFigures:
    def __init__(self) -> None:
        self.days: dict[tuple[date, str, str], Figures] = {}
        self.asked: list[tuple[Any, ...]] = []
        self.published: set[str] | None = None  # services public_period shows (None: all)

    def keep(self, day: date, by: str, value: str, figures: Figures) -> None:
        self.days[(day, by, value)] = figures

    def _between(self, start: date, end: date, by: str) -> dict[str, Figures]:
        found: dict[str, Figures] = {}
        for (day, dimension, value), f in sorted(self.days.items(), key=lambda i: i[0]):
            if dimension == by and start <= day <= end:
                found[value] = found[value].merge(f) if value in found else f
        return found

    def period(self, ports: object, who: Principal, start: date, end: date,
               by: str) -> dict[str, Figures]:
        require(who, Permission.READ_REQUESTS, who.town_id)
        self.asked.append(("period", start, end, by))
        return self._between(start, end, by)

    def daily(self, ports: object, who: Principal, start: date, end: date, by: str,
              value: str) -> list[tuple[date, Figures]]:
        require(who, Permission.READ_REQUESTS, who.town_id)
        self.asked.append(("daily", start, end, by, value))
        return [(start + timedelta(days=i), self.days[(start + timedelta(days=i), by, value)])
                for i in range((end - start).days + 1)
                if (start + timedelta(days=i), by, value) in self.days]

    def public_period(self, ports: object, town_id: str, start: date, end: date,
                      by: str) -> dict[str, Figures]:
        self.asked.append(("public_period", town_id, start, end, by))
        found = self._between(start, end, by)
        return {k: v for k, v in found.items()
                if self.published is None or k in self.published}


def install_fake_figures(monkeypatch: pytest.MonkeyPatch) -> FakeFigures:
    fake = FakeFigures()
    try:
        from chalicelib.services import figures as module
    except ImportError:  # the service is not merged yet: a module of the same name
        module = types.ModuleType("chalicelib.services.figures")
        monkeypatch.setitem(sys.modules, "chalicelib.services.figures", module)
        import chalicelib.services as services

        monkeypatch.setattr(services, "figures", module, raising=False)
    for name in ("period", "daily", "public_period"):
        monkeypatch.setattr(module, name, getattr(fake, name), raising=False)
    monkeypatch.setattr(bootstrap.container(), "figure_ports", object(), raising=False)
    return fake
