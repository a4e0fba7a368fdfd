"""The dashboard and the performance page over figures counted from real requests: filed
through Open311, worked by the department API, counted by the figures service's backfill
into the DynamoDB figure store (moto), then read by the pages. What the pages say is what
was done."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from chalicelib import bootstrap
from tests.functional.helpers import POTHOLE, body, post_request
from tests.functional.test_routing import _pump_router
from tests.web.pages import TOWN_PAGE, text
from tests.web.test_console_work import Session

INBOX = "/departments/public_works/requests"


def _work(api, crew: dict[str, str], request_id: str, action: str, payload=None) -> None:  # noqa: ANN001
    done = api.http.post(f"{INBOX}/{request_id}/{action}", headers=crew,
                         body=json.dumps(payload).encode() if payload is not None else b"")
    assert done.status_code == 200, done.body


def test_three_potholes_one_closed_the_next_day(api, staff, deployment) -> None:
    from chalicelib.services import figures

    filed = [body(post_request(api, POTHOLE))[0]["service_request_id"] for _ in range(3)]
    assert _pump_router(deployment) == {"batchItemFailures": []}
    deployment.clock[0] += timedelta(hours=1)
    crew = staff.headers("department_worker", departments=("public_works",))
    _work(api, crew, filed[0], "acknowledge")
    deployment.clock[0] += timedelta(hours=23)
    _work(api, crew, filed[0], "close", {"resolution": "fixed"})
    rebuilt = figures.backfill(bootstrap.container().figure_ports, "maplefalls.example")
    assert rebuilt.requests == 3

    analyst = Session(api, staff.token("analyst"))
    seen = text(analyst.get("/console/dashboard"))
    assert re.search(r"Requests opened 3 up 3 · before: 0", seen), seen
    assert re.search(r"Requests closed 1 up 1 \(better\) · before: 0", seen)
    assert re.search(r"Open at the end 2 up 2 \(worse\) · before: 0", seen)
    assert re.search(r"Half closed within 1 day ", seen)
    assert re.search(r"Half acknowledged within 1 hour ", seen)

    public = text(api.http.get(f"{TOWN_PAGE}/performance"))
    assert "Problems reported: 3" in public and "Problems closed: 1" in public
    assert "Pothole — 3 reported, 1 closed" in public  # too few to give a time
