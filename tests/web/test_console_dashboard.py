"""The console's dashboard: a period against the one before, the trend, the services doing
worst, overdue by department and the busiest zones, each chart with its table; bad periods
give the form back (400); roles without the reports permission are refused."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from chalicelib.domain.figures import Figures, Sketch
from tests.web.figures_fake import KeptFigures, install_kept_figures
from tests.web.pages import html, text
from tests.web.test_console_work import Session

DAY = 86_400


@pytest.fixture
def figures(monkeypatch) -> KeptFigures:  # noqa: ANN001
    return install_kept_figures(monkeypatch)


@pytest.fixture
def analyst(api, staff) -> Session:  # noqa: ANN001
    return Session(api, staff.token("analyst"))


def _kept(figures: KeptFigures) -> None:
    """November 2026 (the test clock is 2026-11-20) against October: more opened, slower
    potholes, streetlights never on time."""
    for offset in range(20):
        day = date(2026, 11, 1) + timedelta(days=offset)
        # 10 more open by the end of November 10th than at the start of November 1st.
        figures.keep(day, "town", "all", Figures(
            opened=3, closed=2, disputes=1 if offset == 0 else 0, sla_met=2,
            to_close=Sketch.of([2 * DAY, 2 * DAY]), to_acknowledge=Sketch.of([3600])),
            open_delta=1 if offset < 10 else 0)
        figures.keep(date(2026, 10, 1) + timedelta(days=offset), "town", "all", Figures(
            opened=2, closed=2, sla_met=1, sla_missed=1,
            to_close=Sketch.of([DAY, DAY]), to_acknowledge=Sketch.of([7200])))
    figures.open_at_present({("town", "all"): 40})  # so 30 open at the end of October 20
    figures.keep(date(2026, 11, 5), "service", "pothole", Figures(
        opened=10, closed=8, sla_met=4, sla_missed=4, to_close=Sketch.of([5 * DAY] * 8)))
    figures.keep(date(2026, 11, 5), "service", "streetlight_out", Figures(
        opened=6, closed=6, sla_missed=6, to_close=Sketch.of([DAY] * 6)))
    figures.keep(date(2026, 11, 5), "service", "graffiti", Figures(
        opened=2, closed=2, sla_met=2, to_close=Sketch.of([DAY] * 2)))
    figures.keep(date(2026, 11, 6), "zone", "old-town", Figures(opened=12))
    figures.keep(date(2026, 11, 6), "zone", "hilltop", Figures(opened=3))


def test_the_analyst_sees_this_month_against_last_month(analyst, figures) -> None:
    _kept(figures)
    page = analyst.get("/console/dashboard")
    assert page.status_code == 200
    seen = text(page)
    assert "Nov 1, 2026 to Nov 20, 2026 (20 days), compared with Oct 1, 2026 to " \
           "Oct 20, 2026" in seen
    # 60 opened against 40 (neither better nor worse), closed 40 against 40.
    assert re.search(r"Requests opened 60 up 20 · before: 40", seen)
    assert re.search(r"Requests closed 40 no change · before: 40", seen)
    # Half closed within 2 days (1 day before): slower is worse (about 100 % longer: the
    # sketch's buckets are within 2 %).
    assert re.search(r"Half closed within 2 days up (9[6-9]|10[0-4])% \(worse\) · before: "
                     r"1 day", seen)
    # On time: 100 % against 50 %; the backlog rose 10.
    assert re.search(r"Closed on time 100% up 50 percentage points \(better\)", seen)
    assert re.search(r"Open at the end 40 up 10 \(worse\) · before: 30", seen)
    assert "Mean rating (1 to 5) – before: –" in seen
    # Read: each period's days by town, November's by service and zone, and the busiest
    # service's last two years of weeks for the forecast (from the Monday 104 weeks before
    # the last complete week); nothing else.
    assert sorted(set(figures.read)) == [
        ("service", date(2024, 11, 18)), ("service", date(2026, 11, 1)),
        ("town", date(2026, 10, 1)), ("town", date(2026, 11, 1)), ("zone", date(2026, 11, 1))]


def test_the_trend_is_a_line_chart_with_its_table(analyst, figures) -> None:
    _kept(figures)
    body = html(analyst.get("/console/dashboard"))
    chart = re.search(r'<svg class="chart__svg"[^>]*aria-labelledby="trend-title trend-desc"'
                      r'.*?</svg>', body, re.S)
    assert chart, "no trend chart"
    assert "<title id=\"trend-title\">Requests opened and closed, by day</title>" in body
    lines = re.findall(r'<polyline class="chart__line chart__line--(\w+)" points="([^"]+)"',
                       chart.group(0))
    assert [name for name, _ in lines] == ["opened", "closed"]
    assert all(len(points.split()) == 20 for _, points in lines)
    assert "style=" not in chart.group(0)
    table = re.search(r'<table[^>]*id="trend-table".*?</table>', body, re.S)
    assert table and table.group(0).count("<tr>") == 21  # heading + 20 days
    assert re.search(r"<th scope=\"row\">Nov 20</th><td>3</td><td>2</td>", table.group(0))
    # The headline's opened and closed carry the same days as a sparkline.
    assert re.search(r'<svg class="chart__sparkline"[^>]*role="img" aria-label="Requests '
                     r'opened over the period, from 3 to 3"', body)


def test_a_year_is_drawn_by_week(analyst, figures) -> None:
    _kept(figures)
    body = html(analyst.get("/console/dashboard?period=year"))
    assert "Requests opened and closed, by week" in body
    assert ("town", date(2026, 1, 1)) in figures.read
    assert "Week from" in body
    # Every week from the one holding January 1st (a Thursday) to this one, quiet ones as 0.
    table = re.search(r'id="trend-table".*?</table>', body, re.S).group(0)
    weeks = re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', table)
    assert len(weeks) == 47 and weeks[0] == ("Dec 29", "0")
    assert ("Nov 16", "15") in weeks  # Nov 16 to 20: five days of 3


def test_the_worst_services_are_ranked_among_those_with_enough_closed(analyst,
                                                                     figures) -> None:
    _kept(figures)
    body = html(analyst.get("/console/dashboard"))
    on_time = re.search(r'id="worst-on-time-table".*?</table>', body, re.S).group(0)
    rows = re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', on_time)
    # Graffiti closed only 2: not compared.
    assert rows == [("Streetlight out", "0%"), ("Pothole", "50%")]
    slowest = re.search(r'id="worst-slowest-table".*?</table>', body, re.S).group(0)
    assert re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', slowest) == [
        ("Pothole", "5 days"), ("Streetlight out", "1 day")]


def test_the_busiest_zones_are_on_a_map_and_in_a_table(analyst, figures) -> None:
    _kept(figures)
    page = analyst.get("/console/dashboard")
    body = html(page)
    assert 'id="zone-counts-map"' in body
    shapes = re.search(r'<script type="application/json" id="zone-counts-map-shapes">(.*?)'
                       r'</script>', body, re.S)
    import json

    zones = json.loads(shapes.group(1))
    assert [(z["code"], z["opened"], z["level"]) for z in zones][:2] == [
        ("old-town", 12, 4), ("hilltop", 3, 1)]
    assert all(z["geometry"]["type"] in ("Polygon", "MultiPolygon") for z in zones)
    assert "Old Town 12 Hilltop 3" in text(page)


def test_overdue_by_department_comes_from_the_service_level_report(analyst, figures, api,
                                                                  deployment) -> None:
    from tests.functional.helpers import POTHOLE, post_request

    assert post_request(api, POTHOLE).status_code in (200, 201)
    deployment.clock[0] += timedelta(days=10)  # a pothole is due within 3 working days
    page = analyst.get("/console/dashboard")
    assert page.status_code == 200
    overdue = re.search(r'id="overdue-now-table".*?</table>', html(page), re.S)
    assert overdue, text(page)
    assert re.search(r'<th scope="row">[^<]+</th><td>1</td>', overdue.group(0))


@pytest.mark.parametrize("query, field, message", [
    ("period=fortnight", "period", "Choose one of the periods"),
    ("period=dates&start=yesterday&end=2026-11-10", "start", "Enter a date, like 2026-11-20"),
    ("period=dates&start=2026-11-10&end=2026-11-01", "start",
     "The start must not be after the end"),
    ("period=dates&start=2026-11-10&end=2026-12-25", "end",
     "Enter a date no later than today"),
    ("period=dates&start=2024-01-01&end=2026-11-01", "start",
     "Choose dates at most 366 days apart"),
])
def test_a_period_the_page_cannot_read_is_the_form_again(analyst, figures, query, field,
                                                        message) -> None:
    page = analyst.get(f"/console/dashboard?{query}")
    assert page.status_code == 400
    body = html(page)
    assert f'href="#period-{field}"' in body and message in text(page)
    assert 'data-error-summary' in body and "Headline figures" not in body
    assert not figures.read  # nothing read for a period it could not understand


def test_two_dates_are_compared_with_as_many_days_before(analyst, figures) -> None:
    page = analyst.get("/console/dashboard?period=dates&start=2026-11-11&end=2026-11-20")
    assert page.status_code == 200
    assert "Nov 11, 2026 to Nov 20, 2026 (10 days), compared with Nov 1, 2026 to " \
           "Nov 10, 2026." in text(page)
    assert ("town", date(2026, 11, 1)) in figures.read
    assert 'value="2026-11-11"' in html(page)


@pytest.mark.parametrize("role", ["department_worker", "emergency_manager"])
def test_roles_without_the_reports_permission_are_refused(api, staff, figures,
                                                          role) -> None:
    who = Session(api, staff.token(role, departments=("public_works",)
                                   if role == "department_worker" else ()))
    refused = who.get("/console/dashboard")
    assert refused.status_code == 403
    assert "Dashboard" not in text(who.get("/console"))


def test_a_platform_operator_has_no_town_to_show(api, staff, figures) -> None:
    operator = Session(api, staff.token("operator", town=None))
    assert operator.get("/console/dashboard").status_code == 403
    assert not figures.read


def test_the_menu_offers_the_dashboard_to_those_who_may_read_reports(analyst,
                                                                     figures) -> None:
    assert 'href="/console/dashboard"' in html(analyst.get("/console"))


def test_a_stranger_is_sent_to_sign_in(api) -> None:
    first = api.http.get("/console/dashboard")
    assert first.status_code == 303
    assert first.headers["Location"] == "/console/sign-in?next=%2Fconsole%2Fdashboard"


def test_the_dashboard_in_spanish(analyst, figures) -> None:
    _kept(figures)
    page = analyst.get("/console/dashboard?lang=es")
    seen = text(page)
    assert "Panel de indicadores" in seen
    assert re.search(r"La mitad cerrada en 2\sdías sube \d+\s?% \(peor\)", seen), seen
    assert "Cerradas a tiempo, de menor a mayor" in seen
