"""The residents' performance page: a quarter's public figures in plain words, each
service's promise beside what was delivered, only where there were enough requests to
say, in English and Spanish; a quarter it does not offer is the selector again (400)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from chalicelib.domain.figures import Figures, Sketch
from tests.web.figures_fake import KeptFigures, install_kept_figures
from tests.web.pages import TOWN_PAGE, html, text

DAY = 86_400
PAGE = f"{TOWN_PAGE}/performance"


@pytest.fixture
def figures(monkeypatch) -> KeptFigures:  # noqa: ANN001
    return install_kept_figures(monkeypatch)


def _quarter(figures: KeptFigures) -> None:
    """This quarter so far (the test clock is 2026-11-20): potholes closed quick enough,
    graffiti too rare to say."""
    figures.keep(date(2026, 10, 14), "service", "pothole", Figures(
        opened=24, closed=20, sla_met=15, sla_missed=5, ratings=4, rating_total=18,
        to_close=Sketch.of([2 * DAY] * 10 + [3 * DAY] * 8 + [6 * DAY] * 2)))
    figures.keep(date(2026, 10, 20), "service", "graffiti", Figures(
        opened=3, closed=2, sla_met=2, to_close=Sketch.of([DAY, DAY])))


def test_potholes_half_closed_within_two_days_beside_the_promise(api, figures) -> None:
    _quarter(figures)
    page = api.http.get(PAGE)
    assert page.status_code == 200
    seen = text(page)
    assert "How we are doing" in seen
    assert "This quarter so far: October 1, 2026 to November 20, 2026." in seen
    assert re.search(r"Pothole Half closed within 2 days; 9 in 10 within [3-6] days\.", seen)
    assert "We promise to close it within 3 working days (sooner when it is urgent)" in seen
    assert "We delivered 75% closed in time" in seen
    assert "24 reported, 20 closed" in seen
    # All services together: the published ones.
    assert "Problems reported: 27" in seen and "Problems closed: 22" in seen
    assert "gave it 4.5 out of 5 on average" in seen
    assert figures.read == [("service", date(2026, 10, 1))]


def test_a_service_with_too_few_requests_is_named_without_a_time(api, figures) -> None:
    _quarter(figures)
    seen = text(api.http.get(PAGE))
    few = seen[seen.index("Too few requests to say"):]
    assert "Graffiti — 3 reported, 2 closed" in few
    assert "Graffiti Half closed" not in seen


def test_the_on_time_chart_has_its_table(api, figures) -> None:
    _quarter(figures)
    body = html(api.http.get(PAGE))
    assert re.search(r'<svg class="chart__svg"[^>]*role="img" aria-labelledby="on-time-title '
                     r'on-time-desc"', body)
    table = re.search(r'id="on-time-table".*?</table>', body, re.S).group(0)
    assert re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', table) == [
        ("Pothole", "75%")]
    assert not re.search(r"<[^>]+\sstyle=", body)  # the CSP allows no style attributes


def test_an_earlier_quarter_is_the_whole_quarter(api, figures) -> None:
    page = api.http.get(f"{PAGE}?quarter=2026-Q2")
    assert page.status_code == 200
    assert "From April 1, 2026 to June 30, 2026." in text(page)
    assert '<option value="2026-Q2" selected>April to June 2026</option>' in html(page)
    assert "Nothing was reported in this period." in text(page)


@pytest.mark.parametrize("asked", ["2019-Q1", "2026-Q5", "next", "2027-Q1"])
def test_a_quarter_not_offered_is_the_selector_again(api, figures, asked) -> None:
    page = api.http.get(f"{PAGE}?quarter={asked}")
    assert page.status_code == 400
    assert "Choose one of the listed quarters" in text(page)
    assert 'href="#quarter"' in html(page) and "data-error-summary" in html(page)
    assert not figures.read


def test_a_service_the_town_no_longer_offers_is_not_shown(api, figures, staff) -> None:
    _quarter(figures)
    retired = api.http.post("/admin/services/graffiti/retire", headers=staff.headers(
        "town_admin"), body="{}")
    assert retired.status_code == 200, retired.body
    seen = text(api.http.get(PAGE))
    assert "Graffiti" not in seen and "Pothole" in seen
    assert "Problems reported: 24" in seen  # its requests are not in the total either


def test_an_unknown_town_is_a_404_page(api, figures) -> None:
    page = api.http.get("/towns/nowhere.example/performance")
    assert page.status_code == 404
    assert not figures.read


def test_the_home_page_links_to_the_performance_page(api, figures) -> None:
    assert f'href="{PAGE}"' in html(api.http.get(TOWN_PAGE))


def test_the_performance_page_in_spanish(api, figures) -> None:
    _quarter(figures)
    page = api.http.get(f"{PAGE}?lang=es")
    seen = text(page)
    assert "Cómo lo estamos haciendo" in seen
    assert re.search(r"Bache La mitad se cerró en 2\sdías; 9 de cada 10, en [3-6]\sdías\.",
                     seen), seen
    assert "Prometemos cerrarla en 3 días laborables" in seen
    assert re.search(r"Cumplimos 75\s%\scerradas a tiempo", seen)
    assert '<option value="2026-Q3">De julio a septiembre de 2026</option>' in html(page)


def test_nothing_of_a_request_is_on_the_page(api, figures) -> None:
    from tests.functional.helpers import POTHOLE, body, post_request

    (receipt,) = body(post_request(api, {**POTHOLE, "description": "Crater by the mill",
                                         "address_string": "12 Quillon Row",
                                         "email": "anabel@example.org",
                                         "first_name": "Anabel", "last_name": "Quist"}))
    _quarter(figures)
    page = html(api.http.get(PAGE))
    for private in ("Crater", "anabel@example.org", "Anabel", "Quist", "Quillon",
                    receipt["service_request_id"]):
        assert private not in page, private
