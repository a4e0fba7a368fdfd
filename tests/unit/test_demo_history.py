"""`make run`'s month of demo requests: filed, routed and moved on through the services."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.queries import RequestQuery
from local.demo_history import seed_demo_history


def test_the_demo_month_has_requests_in_several_states(deployment) -> None:
    c = deployment.container
    now = c.now()
    assert seed_demo_history(c, "maplefalls.example", now, count=30) == 30
    page = c.requests.find("maplefalls.example", RequestQuery(
        start=now - timedelta(days=31), end=now, page_size=100))
    requests = page.items
    assert len(requests) == 30
    states = {r.lifecycle for r in requests}
    assert {"routed", "acknowledged", "closed"} <= states, states
    assert all(r.place.address and r.place.lat for r in requests)
    assert all(now - timedelta(days=31) < r.requested_at < now for r in requests)
    closed = [r for r in requests if r.lifecycle == "closed"]
    assert all(r.closed_at and r.closed_at > r.requested_at for r in closed)
    assert all(r.resolution == "fixed" for r in closed)
    assert all(r.reporter.email is None and r.reporter.phone is None for r in requests)
