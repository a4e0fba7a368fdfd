"""How the town is doing, for residents: a quarter's figures in plain words ("Potholes:
half closed within 2 days; 9 in 10 within 6 days"), each service's promise beside what
was delivered.

The figures are the public ones (``figures.public_period``: only the services the town
publishes, counts and times only — no request, no person, no private field); a service
with too few requests closed in the quarter is named as such rather than given a time
that would mislead. Durations are in the reader's language (babel).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.web.pages import PageRequest, find_town, page_view, render, translations

if TYPE_CHECKING:
    from chalicelib.domain.catalogue import Service
    from chalicelib.domain.figures import Figures
    from chalicelib.web.periods import Period

blueprint = Blueprint(__name__)
page = page_view(blueprint)

# Times and on-time shares from fewer closed requests than this say more about luck than
# about the service: the page says there were too few instead.
ENOUGH_CLOSED = 10
QUARTERS = 8  # how far back the selector goes


@blueprint.route("/towns/{town}/performance", methods=["GET"])
@page
def performance(req: PageRequest, town: str) -> Response:
    """A quarter's figures (``?quarter=2026-Q3``; this quarter so far when not asked). A
    quarter the selector does not offer is the selector again with what to fix (400)."""
    from chalicelib.services import directory, figures
    from chalicelib.web import periods

    place = find_town(req, town)
    c = bootstrap.container()
    today = c.now().astimezone(place.zone).date()
    offered = periods.recent_quarters(today, QUARTERS)
    asked = req.query.get("quarter", "")[:10] or offered[0]
    choices = [(key, _quarter_name(req, key)) for key in offered]
    quarter = periods.quarter(asked) if asked in offered else None
    if quarter is None:
        return render(req, "performance/performance.html", status=400, choices=choices,
                      asked=asked, error=req.gettext("Choose one of the listed quarters"))
    span = quarter if quarter.end <= today else \
        periods.Period(quarter.start, today, "quarter")
    found = figures.public_period(c.figure_ports, place.town_id, span.start, span.end,
                                  "service")
    catalogue = directory.catalogue_of(c.towns, place)
    shown = [s for s in catalogue.services if s.code in found]
    return render(req, "performance/performance.html", choices=choices, asked=asked,
                  error=None, span=_span(req, span, quarter, today),
                  town_figures=_town_figures(req, [found[s.code] for s in shown]),
                  services=[_service(req, s, found[s.code]) for s in shown],
                  enough=ENOUGH_CLOSED)


def _quarter_name(req: PageRequest, key: str) -> str:
    """``2026-Q4`` as "October to December 2026" in the reader's language."""
    from babel.dates import format_date, format_skeleton

    from chalicelib.web.periods import quarter

    found = quarter(key)
    assert found is not None  # keys come from recent_quarters
    return req.gettext("%(first)s to %(last)s", first=format_date(
        found.start, "LLLL", locale=req.language), last=format_skeleton(
        "yMMMM", found.end, locale=req.language))


def _span(req: PageRequest, span: Period, quarter: Period, today: date) -> dict[str, Any]:
    from babel.dates import format_date

    return {"start": format_date(span.start, "long", locale=req.language),
            "end": format_date(span.end, "long", locale=req.language),
            "so_far": quarter.end > today}


def _town_figures(req: PageRequest, each: list[Figures]) -> dict[str, Any] | None:
    """The published services together (the town's own total may count services it does
    not publish)."""
    from chalicelib.web import figures_words as words

    if not each:
        return None
    total = each[0]
    for f in each[1:]:
        total = total.combine(f)
    lang = req.language
    return {"opened": total.opened, "opened_shown": words.count(total.opened, lang),
            "closed": total.closed, "closed_shown": words.count(total.closed, lang),
            "enough": total.closed >= ENOUGH_CLOSED,
            "median": words.duration(total.median_to_close, lang),
            "p90": words.duration(total.p90_to_close, lang),
            "on_time": words.percent(total.sla_met_share, lang)
            if total.sla_met_share is not None else None,
            "rating": words.rating(total.mean_rating, lang)
            if total.mean_rating is not None else None}


def _service(req: PageRequest, service: Service, f: Figures) -> dict[str, Any]:
    from chalicelib.web import figures_words as words

    lang = req.language
    target = service.sla.target if service.sla else None
    return {"code": service.code, "name": translations(lang).gettext(service.name),
            "opened": f.opened, "opened_shown": words.count(f.opened, lang),
            "closed": f.closed, "closed_shown": words.count(f.closed, lang),
            "enough": f.closed >= ENOUGH_CLOSED,
            "median": words.duration(f.median_to_close, lang),
            "p90": words.duration(f.p90_to_close, lang),
            "promise": (_amount(target.amount, lang), target.unit) if target else None,
            "sooner_when_urgent": bool(service.sla and service.sla.priorities),
            "on_time_share": f.sla_met_share,
            "on_time": words.percent(f.sla_met_share, lang)
            if f.sla_met_share is not None else None}


def _amount(amount: float, language: str) -> str:
    from babel.numbers import format_decimal

    return format_decimal(amount, "0.##", locale=language)
