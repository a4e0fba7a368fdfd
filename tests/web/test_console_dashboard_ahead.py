"""The dashboard's "Next 8 weeks" (a service's last weeks and the forecast after them, with
its interval and method named, and a table) and the town admin's "This month's use and
estimated cost" panel, which others simply do not get."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.domain.figures import Figures
from chalicelib.domain.forecast import forecast
from tests.web.figures_fake import KeptFigures, install_kept_figures
from tests.web.pages import html, text
from tests.web.test_console_work import Session

# The test clock is Friday 2026-11-20: the last complete week is the one from Nov 9.
LAST_MONDAY = date(2026, 11, 9)


@pytest.fixture
def figures(monkeypatch) -> KeptFigures:  # noqa: ANN001
    return install_kept_figures(monkeypatch)


@pytest.fixture
def analyst(api, staff) -> Session:  # noqa: ANN001
    return Session(api, staff.token("analyst"))


@pytest.fixture
def admin(api, staff) -> Session:  # noqa: ANN001
    return Session(api, staff.token("town_admin"))


def _weeks(figures: KeptFigures, code: str, counts: list[int]) -> list[tuple[date, int]]:
    """``counts`` requests opened for ``code``, one week each (on its Wednesday), ending
    with the last complete week; returns the history as the forecast reads it."""
    first = LAST_MONDAY - timedelta(weeks=len(counts) - 1)
    history = []
    for i, n in enumerate(counts):
        monday = first + timedelta(weeks=i)
        figures.keep(monday + timedelta(days=2), "service", code, Figures(opened=n))
        history.append((monday, n))
    return history


def test_the_busiest_service_is_forecast_beside_its_last_weeks(analyst, figures) -> None:
    # Twenty weeks of potholes (4, 5, 6, 4, 5, 6...): less than a year, so a trend. Its
    # first week is the town's first and is left out (a town starts mid-week).
    counts = [4, 5, 6] * 6 + [4, 5]
    history = _weeks(figures, "pothole", counts)[1:]
    _weeks(figures, "graffiti", [1] * 20)
    figures.keep(date(2026, 11, 16), "service", "pothole", Figures(opened=9))
    figures.keep(date(2026, 11, 16), "service", "graffiti", Figures(opened=2))
    expected = forecast(history, 8)
    assert expected.method == "trend"

    page = analyst.get("/console/dashboard")
    assert page.status_code == 200
    body, seen = html(page), text(page)
    assert "Next 8 weeks" in seen
    assert re.search(r'<option value="pothole" selected>Pothole</option>', body)
    assert "Method: Trend only: less than a year of history — provisional." in seen
    chart = re.search(r'<svg class="chart__svg"[^>]*aria-labelledby="forecast-title '
                      r'forecast-desc".*?</svg>', body, re.S).group(0)
    assert "Pothole: requests per week, and the next 8 weeks expected" in chart
    actual = re.search(r'chart__line--actual" points="([^"]+)"', chart).group(1)
    ahead = re.search(r'chart__line--expected" points="([^"]+)"', chart).group(1)
    band = re.search(r'<polygon class="chart__band" points="([^"]+)"', chart).group(1)
    assert len(actual.split()) == 12 and len(ahead.split()) == 8
    assert len(band.split()) == 16
    assert "style=" not in chart
    # The table: the last 12 actual weeks, then the 8 expected with their ranges.
    table = re.search(r'id="forecast-table".*?</table>', body, re.S).group(0)
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]*)</td><td>([^<]*)</td>'
                      r'<td>([^<]*)</td></tr>', table)
    assert len(rows) == 20
    assert [r[1] for r in rows[:12]] == [str(n) for _, n in history[-12:]]
    assert rows[11][0] == "Nov 9"
    for row, week in zip(rows[12:], expected.weeks, strict=True):
        assert row[1] == "" and row[2] == str(round(week.expected))
        assert row[3] == f"{round(week.low)} to {round(week.high)}"
    assert rows[12][0] == "Nov 16"


def test_another_service_is_chosen_and_the_period_kept(analyst, figures) -> None:
    _weeks(figures, "pothole", [5] * 10)
    _weeks(figures, "graffiti", [2, 3] * 30)  # over a year: seasonal
    page = analyst.get("/console/dashboard?period=quarter&service=graffiti")
    assert page.status_code == 200
    body = html(page)
    assert re.search(r'<option value="graffiti" selected>', body)
    assert '<input type="hidden" name="period" value="quarter">' in body
    assert "Method: Seasonal, from last year's same weeks." in text(page)


@pytest.mark.parametrize("service", ["no-such-service", "x" * 300, "<script>"])
def test_a_service_the_town_does_not_offer_is_the_page_with_the_problem(
        analyst, figures, service) -> None:
    from urllib.parse import urlencode

    page = analyst.get("/console/dashboard?" + urlencode({"service": service}))
    assert page.status_code == 400
    seen, body = text(page), html(page)
    assert "Choose one of the town's services" in seen
    assert 'aria-describedby="forecast-service-error"' in body
    assert re.search(r'data-error-summary.*?href="#forecast-service"', body, re.S)
    assert "Headline figures" in seen  # the rest of the dashboard is still there
    assert "<script>" not in body  # what was asked is never put back unescaped
    assert 'id="forecast-table"' not in body


def test_a_service_without_history_says_so_without_a_chart(analyst, figures) -> None:
    page = analyst.get("/console/dashboard?service=graffiti")
    assert page.status_code == 200
    assert "No history yet: nothing to forecast from" in text(page)
    assert 'id="forecast-table"' not in html(page)


def test_the_forecast_in_spanish(analyst, figures) -> None:
    _weeks(figures, "pothole", [4, 5, 6] * 7)
    seen = text(analyst.get("/console/dashboard?lang=es"))
    assert "Próximas 8 semanas" in seen
    assert "Método: solo la tendencia: menos de un año de historial — provisional." in seen
    assert "Intervalo probable" in seen and "Previstas" in seen


def _use(**amounts: int) -> None:
    c = bootstrap.container()
    c.usage_ports.usage.add("maplefalls.example", "2026-11", amounts)


def test_the_town_admin_sees_this_months_use_and_estimated_cost(admin, figures) -> None:
    from chalicelib.domain.usage import estimate_cost

    counts = {"requests_web": 7, "requests_phone": 3, "photos": 4, "photo_bytes": 2_097_152,
              "messages_email": 12, "messages_sms": 5, "sms_segments": 6,
              "alert_messages": 2}
    _use(**counts)
    page = admin.get("/console/dashboard")
    assert page.status_code == 200
    seen = text(page)
    assert "This month's use and estimated cost" in seen
    assert "Usage in 2026-11" in seen
    assert re.search(r"Requests filed 10 Phone call 3 Web pages 7 Photos stored 4 \(2\.0 MB\) "
                     r"E-mails 12 Texts \(segments\) 5 \(6\) Alert messages 2", seen), seen
    cost = estimate_cost(counts, bootstrap.container().usage_ports.prices)
    total = cost.total
    shown = "< $0.01" if 0 < total < 0.005 else f"${total:.2f}"
    assert f"Total {shown}" in seen
    assert f"Texts (SNS) ${cost.lines['sms']:.2f}" in seen
    assert "This is an estimate from list prices, not a bill." in seen


def test_the_cost_panel_in_spanish(admin, figures) -> None:
    _use(requests_web=1)
    seen = text(admin.get("/console/dashboard?lang=es"))
    assert "Uso de este mes y costo estimado" in seen
    assert "Es una estimación a partir de los precios de lista, no una factura." in seen


def test_an_analyst_gets_no_cost_panel(analyst, figures) -> None:
    _use(requests_web=1)
    page = analyst.get("/console/dashboard")
    assert page.status_code == 200
    assert "This month's use and estimated cost" not in text(page)
    assert "Next 8 weeks" in text(page)
