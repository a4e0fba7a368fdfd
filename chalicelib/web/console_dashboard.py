"""The console's dashboard: how the town is doing over a chosen period against the one
before it, the trend of requests opened and closed, the services doing worst, what is
overdue in each department now, and where requests come from on a map of the zones.

Everything but "overdue now" comes from the figures kept as requests change
(``services.figures``: one read per day and dimension asked, never one per request);
"overdue now" is the service-level report the JSON API has
(``/staff/reports/service-levels`` → ``service_levels.figures_report``), over its usual
window. The services decide who may look (the same permission as those reports); the page
only draws what they answer. Charts are SVG drawn by the template (``_charts.html``),
each with its table.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import bootstrap
from chalicelib.domain.errors import InvalidInput
from chalicelib.web.console import render_console, staff_page

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
    from chalicelib.domain.catalogue import Catalogue
    from chalicelib.domain.figures import Figures
    from chalicelib.domain.towns import Town
    from chalicelib.web.pages import PageRequest
    from chalicelib.web.periods import Period

blueprint = Blueprint(__name__)
staff = staff_page(blueprint)

# A service's times and on-time share say something only over a few closed requests.
ENOUGH_CLOSED = 5
WORST = 5  # services in each "doing worst" chart
# Up to two months the trend is by day; longer, by week (a year of days is unreadable).
DAILY_UP_TO = 62


def _town(req: PageRequest) -> Town:
    if req.town is None:  # a platform operator: no town's figures to show
        from chalicelib.domain.errors import AccessDenied

        raise AccessDenied("your sign-in belongs to no town")
    return req.town


def _catalogue(town: Town) -> Catalogue:
    from chalicelib.services import directory

    return directory.catalogue_of(bootstrap.container().towns, town)


def _asked(req: PageRequest, today: date) -> tuple[dict[str, str], Period]:
    """The period in the query (``period=week|month|quarter|year``, or ``period=dates``
    with ``start`` and ``end``); this month when nothing is asked."""
    from chalicelib.domain.errors import Problem
    from chalicelib.web import periods

    asked = {name: req.query.get(name, "")[:20] for name in ("period", "start", "end")}
    kind = asked["period"] or ("dates" if asked["start"] or asked["end"] else "month")
    asked["period"] = kind
    if kind in periods.PRESETS:
        return asked, periods.so_far(kind, today)
    if kind != "dates":
        raise InvalidInput.of([Problem("period", "choose one of the listed periods")])
    return asked, periods.between(asked["start"], asked["end"], today)


def _problems(req: PageRequest, error: InvalidInput) -> dict[str, str]:
    """Each refused field with what to do about it, in the reader's language."""
    from chalicelib.web.periods import MAX_DAYS

    wording = {"enter a date, like 2026-11-20": req.gettext("Enter a date, like 2026-11-20"),
               "must not be after today": req.gettext("Enter a date no later than today"),
               "must not be after the end": req.gettext("The start must not be after the end"),
               "choose one of the listed periods": req.gettext("Choose one of the periods")}
    return {p.field: wording.get(p.message, req.gettext(
        "Choose dates at most %(days)s days apart", days=str(MAX_DAYS)))
        for p in error.problems}


@blueprint.route("/console/dashboard", methods=["GET"])
@staff
def dashboard(req: PageRequest, who: Principal) -> Response:
    """The dashboard for the chosen period. A period the page cannot read is the form again
    with what to fix (400); the figures are not read then."""
    from chalicelib.domain.figures import Figures
    from chalicelib.services import figures, service_levels

    town = _town(req)
    c = bootstrap.container()
    now = c.now()
    today = now.astimezone(town.zone).date()
    try:
        asked, period = _asked(req, today)
    except InvalidInput as e:
        return render_console(req, who, "console/dashboard/dashboard.html", status=400,
                              asked=_raw(req), errors=_problems(req, e), today=today)
    before = period.previous()
    ports = c.figure_ports
    days = figures.daily(ports, who, period.start, period.end, "town", "all")
    # The period's town figures are its days merged (the backlog: the last day's), so the
    # town's days are read once for the trend and the headline both.
    town_now = Figures()
    for _, day_figures in days:
        town_now = town_now.merge(day_figures)
    # A period before with nothing in it and nothing open at its end has no entry: zeros
    # (its backlog 0 when backlogs are known at all).
    town_before = figures.period(ports, who, before.start, before.end, "town").get(
        "all") or Figures(backlog=None if town_now.backlog is None else 0)
    services = figures.period(ports, who, period.start, period.end, "service")
    zones = figures.period(ports, who, period.start, period.end, "zone")
    overdue = service_levels.figures_report(c.requests, who, None, None, now)
    catalogue = _catalogue(town)
    trend = _trend(req, period, days)
    # A service the town does not offer: the dashboard still, with the forecast's selector
    # and what to fix (400), never an error page for a whole dashboard.
    try:
        ahead, ahead_error = _ahead(req, who, catalogue, services), False
    except InvalidInput:
        ahead, ahead_error = None, True
    headline = _headline(req, town_now, town_before)
    for figure in headline:  # opened and closed carry their trend beside them
        figure["spark"] = next((s["values"] for s in trend["series"]
                                if s["css"] == figure["key"]), None)
    return render_console(
        req, who, "console/dashboard/dashboard.html", status=400 if ahead_error else 200,
        asked=asked, errors={}, today=today,
        period=period, before=before, day=_day(req), headline=headline,
        trend=trend, worst=_worst(req, catalogue, services),
        overdue=_overdue(req, catalogue, overdue), zones=_zones(req, catalogue, zones),
        ahead=ahead, ahead_error=ahead_error,
        choices=_choices(req, catalogue, ahead["service"] if ahead else ""),
        cost=_cost(who), cost_names=_cost_names(req))


def _day(req: PageRequest) -> Any:
    from babel.dates import format_date

    return lambda day: format_date(day, "medium", locale=req.language)


def _raw(req: PageRequest) -> dict[str, str]:
    return {name: req.query.get(name, "")[:20] for name in ("period", "start", "end")}


def _headline(req: PageRequest, now: Figures | None, before: Figures | None
              ) -> list[dict[str, Any]]:
    from chalicelib.web.figures_words import movements

    names = {"opened": req.gettext("Requests opened"),
             "closed": req.gettext("Requests closed"),
             "backlog": req.gettext("Open at the end"),
             "median_to_close": req.gettext("Half closed within"),
             "p90_to_close": req.gettext("9 in 10 closed within"),
             "median_to_acknowledge": req.gettext("Half acknowledged within"),
             "p90_to_acknowledge": req.gettext("9 in 10 acknowledged within"),
             "sla_met_share": req.gettext("Closed on time"),
             "disputes": req.gettext("Disputes"), "reopened": req.gettext("Reopenings"),
             "mean_rating": req.gettext("Mean rating (1 to 5)"),
             "information": req.gettext("Questions answered, no request needed")}
    from chalicelib.domain.figures import Figures

    return [{"name": names[m.key], **vars(m)} for m in movements(
        now or Figures(), before or Figures(), req.language, req.gettext)]


def _trend(req: PageRequest, period: Period, days: list[tuple[date, Figures]]
           ) -> dict[str, Any]:
    """Opened and closed per day, or per week (from Monday) for a long period."""
    from babel.dates import format_skeleton

    from chalicelib.web.figures_words import count

    by_week = period.days > DAILY_UP_TO
    buckets: dict[date, list[int]] = {}
    for day, f in sorted(days, key=lambda pair: pair[0]):
        key = day - timedelta(days=day.weekday()) if by_week else day
        totals = buckets.setdefault(key, [0, 0])
        totals[0] += f.opened
        totals[1] += f.closed
    # A day (or week) without figures is one with nothing opened or closed: drawn as 0.
    first = period.start - timedelta(days=period.start.weekday()) if by_week else period.start
    for offset in range(0, (period.end - first).days + 1, 7 if by_week else 1):
        buckets.setdefault(first + timedelta(days=offset), [0, 0])
    ordered = sorted(buckets.items())
    labels = [format_skeleton("MMMd", day, locale=req.language) for day, _ in ordered]
    series = []
    for i, (name, css) in enumerate(((req.gettext("Requests opened"), "opened"),
                                     (req.gettext("Requests closed"), "closed"))):
        values = [totals[i] for _, totals in ordered]
        series.append({"name": name, "css": css, "values": values,
                       "shown": [count(v, req.language) for v in values]})
    return {"by_week": by_week, "labels": labels, "series": series,
            "first_heading": req.gettext("Week from") if by_week else req.gettext("Day")}


def _service_name(req: PageRequest, catalogue: Catalogue, code: str) -> str:
    from chalicelib.web.pages import translations

    found = next((s for s in catalogue.services if s.code == code), None)
    return translations(req.language).gettext(found.name) if found else code


def _worst(req: PageRequest, catalogue: Catalogue, services: dict[str, Figures]
           ) -> dict[str, Any]:
    """The services closed least often on time, and those slowest to close, among those
    with at least ``ENOUGH_CLOSED`` closed in the period."""
    from chalicelib.web.figures_words import duration, percent

    enough = {code: f for code, f in services.items() if f.closed >= ENOUGH_CLOSED}
    on_time = sorted(((f.sla_met_share, code) for code, f in enough.items()
                      if f.sla_met_share is not None))[:WORST]
    slowest = sorted(((f.median_to_close, code) for code, f in enough.items()
                      if f.median_to_close is not None), reverse=True)[:WORST]
    return {
        "on_time": [{"label": _service_name(req, catalogue, code), "value": share * 100,
                     "shown": percent(share, req.language), "css": "worse"}
                    for share, code in on_time],
        "slowest": [{"label": _service_name(req, catalogue, code), "value": seconds,
                     "shown": duration(seconds, req.language)}
                    for seconds, code in slowest],
        "too_few": len(services) - len(enough), "enough": ENOUGH_CLOSED}


def _overdue(req: PageRequest, catalogue: Catalogue, report: dict[str, Any]
             ) -> list[dict[str, Any]]:
    from chalicelib.web.figures_words import count

    names = {d.code: d.name for d in catalogue.departments}
    names["unrouted"] = req.gettext("Not yet routed")
    rows = sorted(((doc["open_overdue"], code) for code, doc in
                   report["departments"].items()), key=lambda pair: (-pair[0], pair[1]))
    return [{"label": names.get(code, code), "value": n, "shown": count(n, req.language)}
            for n, code in rows]


def _zones(req: PageRequest, catalogue: Catalogue, zones: dict[str, Figures]
           ) -> list[dict[str, Any]]:
    """Each zone of the town with the requests opened in it, busiest first, and its shade
    on the map (0 to 4, by its share of the busiest zone's count)."""
    from chalicelib.web.figures_words import count

    top = max((f.opened for f in zones.values()), default=0)
    found = []
    for zone in catalogue.zones:
        opened = zones[zone.code].opened if zone.code in zones else 0
        found.append({"code": zone.code, "name": zone.name, "geometry": zone.geometry,
                      "opened": opened, "shown": count(opened, req.language),
                      "level": min(4, opened * 5 // top) if top else 0})
    return sorted(found, key=lambda z: (-z["opened"], z["name"]))


def _choices(req: PageRequest, catalogue: Catalogue, chosen: str) -> list[dict[str, Any]]:
    return [{"code": s.code, "name": _service_name(req, catalogue, s.code),
             "chosen": s.code == chosen} for s in catalogue.services]


def _ahead(req: PageRequest, who: Principal, catalogue: Catalogue,
           services: dict[str, Figures]) -> dict[str, Any] | None:
    """The next 8 weeks of one service (``service`` in the query, else the one with most
    requests opened in the period) after its last complete weeks, from
    ``forecasting.town_forecast`` (which decides who may see it). A service the town does
    not offer is InvalidInput; a town without services has nothing to forecast (None)."""
    from babel.dates import format_skeleton

    from chalicelib.domain.errors import Problem
    from chalicelib.services import forecasting
    from chalicelib.web.figures_words import count

    asked = req.query.get("service", "")
    if asked and len(asked) > 40:  # no service code is longer (ForecastQuery's pattern)
        raise InvalidInput.of([Problem("service", "not a service")])
    codes = [s.code for s in catalogue.services]
    busiest = sorted(((-f.opened, code) for code, f in services.items() if code in codes))
    code = asked or (busiest[0][1] if busiest else codes[0] if codes else "")
    if not code:
        return None
    # The service checks who may see it (READ_REQUESTS, as for the dashboard's figures).
    found = forecasting.town_forecast(bootstrap.container().figure_ports, who, code)
    doc: dict[str, Any] = found["services"][code]  # type: ignore[index]
    actual = [(date.fromisoformat(w["week_start"]), w["opened"]) for w in doc["actual"]]
    ahead = [(date.fromisoformat(w["week_start"]), w) for w in doc["weeks"]]

    def label(monday: date) -> str:
        return format_skeleton("MMMd", monday, locale=req.language)

    methods = {
        "seasonal": req.gettext("Seasonal, from last year's same weeks"),
        "trend": req.gettext("Trend only: less than a year of history — provisional"),
        "mean": req.gettext("The average of the recent weeks: too little history for a "
                            "trend — provisional"),
        "none": req.gettext("No history yet: nothing to forecast from"),
    }
    return {
        "service": code, "name": _service_name(req, catalogue, code),
        "method": doc["method"], "method_words": methods.get(doc["method"], doc["method"]),
        "history_weeks": doc["history_weeks"],
        "actual": [n for _, n in actual],
        "expected": [w["expected"] for _, w in ahead],
        "low": [w["low"] for _, w in ahead], "high": [w["high"] for _, w in ahead],
        "labels": [label(d) for d, _ in actual] + [label(d) for d, _ in ahead],
        "rows": [[count(n, req.language), "", ""] for _, n in actual] + [
            ["", count(round(w["expected"]), req.language),
             req.gettext("%(low)s to %(high)s", low=count(round(w["low"]), req.language),
                         high=count(round(w["high"]), req.language))] for _, w in ahead],
    }


def _cost(who: Principal) -> Any:
    """This month's use and estimated cost of the town, for those the usage service shows
    it to (a town's administrators); None for everyone else, who simply get no panel."""
    from chalicelib.domain.errors import AccessDenied
    from chalicelib.services import usage

    try:
        return usage.town_usage(bootstrap.container().usage_ports, who)
    except AccessDenied:
        return None


def _cost_names(req: PageRequest) -> dict[str, str]:
    """The estimate's lines (domain.usage.COST_LINES) as a town's admin reads them."""
    return {"lambda": req.gettext("Functions (AWS Lambda)"),
            "api_gateway": req.gettext("Web requests (API Gateway)"),
            "sqs": req.gettext("Queues (SQS)"), "dynamodb": req.gettext("Database (DynamoDB)"),
            "s3": req.gettext("Photo storage (S3)"), "sms": req.gettext("Texts (SNS)"),
            "email": req.gettext("E-mails (SES)")}
