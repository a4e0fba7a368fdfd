"""The one error summary (templates/_errors.html) every form uses: at the top, focusable,
one link per problem to its field, what a person typed shown as text; and the console's
per-area wrappers (admin, people, setup) hand it their own messages and anchors."""

from __future__ import annotations

import re

from chalicelib.web.pages import environment


def _render(source: str, **context: object) -> str:
    return environment().from_string(source).render(_=lambda m, **v: m % v if v else m,
                                                    **context)


def _links(html: str) -> list[tuple[str, str]]:
    return [(href, re.sub(r"\s+", " ", text).strip())
            for href, text in re.findall(r'<a href="#([^"]*)">(.*?)</a>', html, re.S)]


SUMMARY = '{% import "_errors.html" as e with context %}'


def test_a_dict_of_problems_links_each_to_its_field_and_shows_typed_text_as_text():
    html = _render(SUMMARY + "{{ e.summary(problems) }}",
                   problems={"email": "Enter an e-mail", "phone": "<script>x</script>"})
    assert 'data-error-summary tabindex="-1"' in html and 'role="alert"' in html
    assert "There is a problem" in html
    assert _links(html) == [("email", "Enter an e-mail"),
                            ("phone", "&lt;script&gt;x&lt;/script&gt;")]


def test_pairs_labels_and_one_anchor_for_every_link():
    html = _render(SUMMARY + "{{ e.summary(problems, labels=labels) }}",
                   problems=[("zones", "Choose one")], labels={"zones": "Zones"})
    assert _links(html) == [("zones", "Zones: Choose one")]
    html = _render(SUMMARY + '{{ e.summary(problems, anchor="language") }}',
                   problems={"language": "Choose", "other": "Again"})
    assert [href for href, _ in _links(html)] == ["language", "language"]


def test_no_problems_no_summary():
    assert _render(SUMMARY + "{{ e.summary({}) }}{{ e.summary([]) }}").strip() == ""


def test_the_console_areas_give_their_own_messages_and_anchors():
    people = _render('{% import "console/people/_labels.html" as m with context %}'
                     "{{ m.summary(['email_taken', 'roles']) }}")
    assert _links(people) == [("email", "This person is already on the staff"),
                              ("roles", "Choose at least one role")]
    admin = _render('{% import "console/admin/_messages.html" as m with context %}'
                    "{{ m.summary(['q1_values', 'photo_limit']) }}")
    assert _links(admin) == [("q1_values", "A list question needs its answers, one a line"),
                             ("photo_limit", "Enter a whole number from 1 to 10")]
    setup = _render('{% import "console/setup/_fields.html" as f with context %}'
                    "{{ f.summary(problems) }}",
                    problems={"code": ["taken"], "geometry": ["@not_json", "<b>bad</b>"]})
    assert _links(setup) == [
        ("code", "Use 1 to 40 lowercase letters, digits, - or _, starting with a letter or a "
                 "digit; each code only once"),
        ("geometry", "The boundary is not GeoJSON: check it is copied whole; "
                     "&lt;b&gt;bad&lt;/b&gt;")]
    assert all(html.count("data-error-summary") == 1 for html in (people, admin, setup))
