"""Service questions: Open311's datatypes, the required flag and list keys."""

from __future__ import annotations

import pytest

from chalicelib.domain.catalogue import (
    AttributeChoice,
    Service,
    ServiceQuestion,
    parse_attribute_answers,
)
from chalicelib.domain.errors import InvalidInput
from chalicelib.services.towns import load_pack

YES_NO = (AttributeChoice("yes", "Yes"), AttributeChoice("no", "No"))
SERVICE = Service("s", "S", "d", "g", questions=(
    ServiceQuestion("name", "string", "Name", required=True),
    ServiceQuestion("count", "number", "Count"),
    ServiceQuestion("when", "datetime", "When"),
    ServiceQuestion("story", "text", "Story"),
    ServiceQuestion("ok", "singlevaluelist", "OK?", values=YES_NO),
    ServiceQuestion("many", "multivaluelist", "Many", values=YES_NO),
    ServiceQuestion("info", "text", "Read me", variable=False),
))


def _problems(raw):
    with pytest.raises(InvalidInput) as refused:
        parse_attribute_answers(SERVICE, raw)
    return {p.field: p.message for p in refused.value.problems}


def test_every_datatype_is_accepted_when_well_formed():
    answers = parse_attribute_answers(SERVICE, {
        "name": ["Ana"], "count": ["2.5"], "when": ["2026-11-20T10:00:00.5-06:00"],
        "story": ["line 1\nline 2"], "ok": ["yes"], "many": ["yes", "no", "yes"]})
    assert answers == {"name": "Ana", "count": "2.5", "when": "2026-11-20T10:00:00.5-06:00",
                       "story": "line 1\nline 2", "ok": "yes", "many": ["yes", "no"]}


def test_every_problem_is_reported_at_once():
    problems = _problems({"count": ["many"], "when": ["soon"], "ok": ["maybe"],
                          "many": ["yes", "perhaps"], "extra": ["x"], "name": [""],
                          "info": ["typed anyway"]})
    assert set(problems) == {"attribute[name]", "attribute[count]", "attribute[when]",
                             "attribute[ok]", "attribute[many]", "attribute[extra]",
                             "attribute[info]"}
    assert "required" in problems["attribute[name]"]


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity"])
def test_numbers_must_be_finite(value):
    assert "attribute[count]" in _problems({"name": ["A"], "count": [value]})


def test_single_value_questions_take_one_value():
    assert "attribute[ok]" in _problems({"name": ["A"], "ok": ["yes", "no"]})


def test_control_characters_are_refused_in_answers():
    assert "attribute[name]" in _problems({"name": ["A\x00B"]})


def test_list_questions_need_values():
    with pytest.raises(ValueError):
        ServiceQuestion("x", "singlevaluelist", "X")
    with pytest.raises(ValueError):
        ServiceQuestion("x", "colour", "X")


def test_the_small_town_pack_is_a_complete_catalogue():
    catalogue = load_pack("small_town")
    assert len(catalogue.services) >= 12
    assert catalogue.department("triage") is not None
    for service in catalogue.services:
        assert service.keywords and service.group
        assert catalogue.department(service.department) is not None, service.code
    with pytest.raises(ValueError):
        load_pack("../etc/passwd")


@pytest.mark.parametrize("pack", ["small_town", "rural_township"])
def test_every_template_pack_routes_each_service_to_one_of_its_departments(pack):
    catalogue = load_pack(pack)
    assert catalogue.department("triage") is not None
    for service in catalogue.services:
        assert service.keywords and service.group and service.description
        assert catalogue.department(service.department) is not None, service.code
