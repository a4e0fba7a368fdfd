"""The resident search falls back on the category guess when the words name no service."""

from __future__ import annotations

import re

from tests.web.pages import TOWN_PAGE, html, text

REPORT = f"{TOWN_PAGE}/report"


def matched(page) -> list[str]:
    return re.findall(r"/report/(\w+)", html(page).split('id="matches"')[1]
                      .split("</section>")[0])


def test_words_that_name_no_service_find_the_guessed_one_on_the_home_page(api) -> None:
    page = api.http.get(f"{TOWN_PAGE}?q=my+bin+was+skipped")
    assert page.status_code == 200
    assert matched(page)[0] == "missed_trash"


def test_a_misspelt_search_finds_the_service(api) -> None:
    assert matched(api.http.get(f"{TOWN_PAGE}?q=grafitti+on+my+fence"))[0] == "graffiti"


def test_the_report_page_search_uses_the_guess_too_in_spanish(api) -> None:
    page = api.http.get(f"{REPORT}?lang=es&q=el+sem%C3%A1foro+no+cambia")
    assert page.status_code == 200
    assert matched(page)[0] == "traffic_signal"


def test_nonsense_still_matches_nothing(api) -> None:
    assert "No service matches those words" in text(api.http.get(f"{TOWN_PAGE}?q=zzzz+qqqq"))


def test_the_agent_describes_the_problem_and_is_offered_the_guessed_services(api,
                                                                             staff) -> None:
    from tests.web.test_console_entry import NEW, desk

    agent = desk(api, staff, "agent")
    page = agent.get(f"{NEW}?describe=caller+says+a+tree+fell+on+her+road")
    assert page.status_code == 200
    assert matched_console(page)[0] == "downed_tree"
    assert 'value="caller says a tree fell on her road"' in html(page)
    # Every service is still listed below to choose from.
    assert 'href="/console/requests/new/graffiti"' in html(page)
    nothing = agent.get(f"{NEW}?describe=%3Cb%3Ezzzz%3C/b%3E")
    assert "No service matches those words" in text(nothing)
    assert "<b>zzzz</b>" not in html(nothing)
    spanish = agent.get(f"{NEW}?describe=hay+un+bache&lang=es")
    assert spanish.status_code == 200 and matched_console(spanish)[0] == "pothole"


def matched_console(page) -> list[str]:
    return re.findall(r"/console/requests/new/(\w+)", html(page).split('id="matches"')[1]
                      .split("</section>")[0])
