"""Figures as a reader reads them, in the page's language: counts, durations ("2 days",
"2 días", babel's ``format_timedelta``), shares ("82 %"), the mean rating, and how a
figure moved against the period before (better or worse, for the figure's own sense:
fewer disputes is better, more closed is better, a shorter time is better).

Shared by the staff dashboard and the residents' performance page; nothing here reads a
store or decides what a person may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.domain.figures import Figures


def count(n: int | None, language: str) -> str:
    from babel.numbers import format_decimal

    return "–" if n is None else format_decimal(n, locale=language)


def duration(seconds: float | None, language: str) -> str:
    """A time in the largest unit that reads naturally ("20 hours", "2 days")."""
    from babel.dates import format_timedelta

    if seconds is None:
        return "–"
    return format_timedelta(timedelta(seconds=max(seconds, 0)), locale=language,
                            threshold=0.9)


def percent(share: float | None, language: str) -> str:
    from babel.numbers import format_percent

    return "–" if share is None else format_percent(share, locale=language)


def rating(mean: float | None, language: str) -> str:
    from babel.numbers import format_decimal

    return "–" if mean is None else format_decimal(mean, "0.0", locale=language)


# What each headline figure is, how it is shown, and which way is better (+1: more is
# better, -1: less is better, 0: neither, e.g. how many were reported).
KINDS = {"count": count, "duration": duration, "share": percent, "rating": rating}
HEADLINE: tuple[tuple[str, str, int], ...] = (
    ("opened", "count", 0), ("closed", "count", 1), ("backlog", "count", -1),
    ("median_to_close", "duration", -1), ("p90_to_close", "duration", -1),
    ("median_to_acknowledge", "duration", -1), ("p90_to_acknowledge", "duration", -1),
    ("sla_met_share", "share", 1), ("disputes", "count", -1), ("reopened", "count", -1),
    ("mean_rating", "rating", 1),
    # Questions answered from the town's answers instead of a work order (an information
    # request): more is neither better nor worse for the town's service.
    ("information", "count", 0),
)


@dataclass(frozen=True)
class Movement:
    """One headline figure now and before: shown values, the change in words, and
    whether it went the good way ("better"), the bad way ("worse") or neither ("")."""

    key: str
    shown: str
    before: str
    change: str
    sense: str


def movements(now: Figures, before: Figures, language: str,
              gettext: Callable[..., str]) -> list[Movement]:
    """Each headline figure of ``now`` against ``before``. ``gettext`` is the page's gettext
    (``req.gettext``)."""
    found: list[Movement] = []
    for key, kind, better in HEADLINE:
        value, old = getattr(now, key), getattr(before, key)
        show = KINDS[kind]
        found.append(Movement(key, show(value, language), show(old, language),
                              *_change(value, old, kind, better, language, gettext)))
    return found


def _change(value: float | None, old: float | None, kind: str, better: int,
            language: str, gettext: Callable[..., str]) -> tuple[str, str]:
    if value is None or old is None:
        return "", ""
    delta = value - old
    if abs(delta) < 1e-9:
        return gettext("no change"), ""
    if kind == "count":
        amount = count(int(abs(delta)), language)
    elif kind == "share":
        from babel.numbers import format_decimal

        amount = gettext("%(points)s percentage points",
                     points=format_decimal(abs(delta) * 100, "0.#", locale=language))
    elif kind == "rating":
        amount = rating(abs(delta), language)
    else:  # a duration: how much longer or shorter, as a share of the time before
        amount = percent(abs(delta) / old, language) if old else duration(abs(delta),
                                                                           language)
    words = gettext("up %(change)s", change=amount) if delta > 0 else \
        gettext("down %(change)s", change=amount)
    sense = "" if better == 0 else "better" if delta * better > 0 else "worse"
    return words, sense
