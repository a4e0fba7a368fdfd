"""A month of Maple Falls' requests for `make run`, so that every page has something to show:
reports at the demo gazetteer's addresses, some just in, some acknowledged or being worked
on, some closed. Everything goes through the services a real report goes through (intake,
routing, the department's actions), each step at its own past instant; nobody's contact is
given, so nothing is sent.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta
from typing import Any

# (service, description) pairs a resident might write, with how often each comes in.
REPORTS = (
    ("pothole", "Deep pothole in the right lane, cars swerving around it", 6),
    ("pothole", "Several potholes after the last freeze", 3),
    ("streetlight_out", "Streetlight has been dark for a week", 4),
    ("graffiti", "Graffiti on the bus shelter", 2),
    ("missed_trash", "Trash was not picked up on our street this week", 3),
    ("downed_tree", "Large limb down across the sidewalk after the storm", 2),
    ("sidewalk_damage", "Sidewalk slab lifted by tree roots, a trip hazard", 2),
    ("illegal_dumping", "Old mattress and furniture dumped by the alley", 2),
    ("water_leak", "Water bubbling up through the pavement", 1),
    ("traffic_signal", "Walk signal button not working", 1),
)
# What has happened to a report since, with how often: the department's steps in order.
PROGRESS = (
    ((), 3),
    (("acknowledge",), 3),
    (("acknowledge", "accept"), 3),
    (("acknowledge", "accept", "close"), 5),
)
RESOLUTIONS = ("Repaired by the streets crew.", "Fixed; thank you for reporting it.",
               "Cleaned up and the area checked.")


def _answers(service: Any, rng: random.Random) -> dict[str, list[str]]:
    """An answer to each required question (the first choice of a list, a word else)."""
    answers: dict[str, list[str]] = {}
    for question in service.questions:
        if not question.required:
            continue
        if question.values:
            answers[question.code] = [rng.choice(question.values).key]
        elif question.datatype == "number":
            answers[question.code] = ["1"]
        else:
            answers[question.code] = ["yes"]
    return answers


def seed_demo_history(container: Any, town_id: str, now: datetime, count: int = 30,
                      seed: int = 311) -> int:
    """File ``count`` requests over the 30 days before ``now`` and move most of them on.
    Returns how many were filed."""
    from chalicelib.domain.access import Principal, Role
    from chalicelib.services import directory
    from chalicelib.services.demo_gazetteer import demo_entries
    from chalicelib.services.intake import read_submission, submit_request
    from chalicelib.services.routing import route_request
    from chalicelib.services.work import Action, act

    rng = random.Random(seed)
    town = directory.find_town(container.towns, town_id)
    catalogue = directory.catalogue_of(container.towns, town)
    places = [e for e in demo_entries() if e.kind == "address"]
    kinds = [(code, text) for code, text, weight in REPORTS for _ in range(weight)]
    steps = [s for s, weight in PROGRESS for _ in range(weight)]
    filed = 0
    for _ in range(count):
        code, text = rng.choice(kinds)
        service = catalogue.service(code)
        if service is None:
            continue
        place = rng.choice(places)
        at = now - timedelta(days=rng.uniform(0.2, 30))
        fields = {"service_code": code, "description": text, "address_string": place.label,
                  "lat": f"{place.lat:.6f}", "long": f"{place.long:.6f}"}
        form = read_submission(fields, _answers(service, rng), town, catalogue)
        ports = dataclasses.replace(container.intake, now=lambda at=at: at, notices=None,
                                    outreach=None)
        receipt = submit_request(form, town, catalogue, None, ports, channel="web")
        request_id = receipt.service_request_id
        routing = dataclasses.replace(container.routing_ports,
                                      now=lambda at=at: at + timedelta(minutes=5),
                                      channels=None, notices=None)
        department = route_request(town_id, request_id, routing)
        filed += 1
        if not department:
            continue
        worker = Principal(subject="demo-streets", town_id=town_id,
                           roles=frozenset({Role.DEPARTMENT_WORKER}),
                           departments=frozenset({department}))
        when = at
        for step in rng.choice(steps):
            when = min(when + timedelta(hours=rng.uniform(2, 60)), now - timedelta(minutes=5))
            work = dataclasses.replace(container.routing_ports, now=lambda w=when: w,
                                       channels=None, notices=None)
            act(work, worker, department, request_id, Action(
                step, resolution="fixed" if step == "close" else None,
                note=rng.choice(RESOLUTIONS) if step == "close" else None))
    return filed
