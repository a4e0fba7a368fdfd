"""The emergency desk's services on fakes: asking for approval (who asked, on the audit
log; the queue holds only what someone asked about), subscriber counts per zone, and a
drawn area refused with a clear problem."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.access import Principal, Role
from chalicelib.domain.errors import AccessDenied, Conflict, InvalidInput
from tests.unit.test_alerts_service import APPROVER, NOON, WRITER, Draft, World


@pytest.fixture
def world() -> World:
    return World(alert_test_recipients=("qa@maple.example",))


def test_asking_for_approval_puts_the_draft_in_the_queue_and_logs_who_asked(world):
    from chalicelib.services import alerts

    made = alerts.compose(world.ports, WRITER, Draft())
    assert alerts.awaiting_approval(world.ports, APPROVER) == []  # nobody asked yet
    asked = alerts.request_approval(world.ports, WRITER, made.alert_id)
    assert (asked.status, asked.asked_by, asked.asked_at) == ("awaiting_approval", "em-1",
                                                              NOON)
    assert [a.alert_id for a in alerts.awaiting_approval(world.ports, APPROVER)] == [
        made.alert_id]
    entry = world.audit.entries[-1]
    assert (entry.action, entry.actor, entry.target) == ("alert.approval_requested", "em-1",
                                                         made.alert_id)
    assert alerts.document(asked)["approval_requested_by"] == "em-1"
    with pytest.raises(Conflict):  # asked once
        alerts.request_approval(world.ports, APPROVER, made.alert_id)
    sent = alerts.approve(world.ports, APPROVER, made.alert_id)
    assert sent.status == "sending" and alerts.awaiting_approval(world.ports, APPROVER) == []


def test_the_author_still_cannot_approve_what_they_asked_about(world):
    from chalicelib.services import alerts

    made = alerts.compose(world.ports, WRITER, Draft())
    alerts.request_approval(world.ports, WRITER, made.alert_id)
    with pytest.raises(AccessDenied):
        alerts.approve(world.ports, WRITER, made.alert_id)
    assert world.queue.sent == []


def test_a_plain_draft_is_still_approved_for_older_api_clients(world):
    from chalicelib.services import alerts

    made = alerts.compose(world.ports, WRITER, Draft())
    assert alerts.approve(world.ports, APPROVER, made.alert_id).status == "sending"
    assert [json.loads(b)["type"] for b in world.queue.sent] == ["alert"]


def test_an_alert_awaiting_approval_can_be_discarded_and_then_not_approved(world):
    from chalicelib.services import alerts

    made = alerts.compose(world.ports, WRITER, Draft())
    alerts.request_approval(world.ports, WRITER, made.alert_id)
    assert alerts.cancel(world.ports, WRITER, made.alert_id).status == "cancelled"
    with pytest.raises(Conflict):
        alerts.approve(world.ports, APPROVER, made.alert_id)
    with pytest.raises(Conflict):
        alerts.request_approval(world.ports, WRITER, made.alert_id)


def test_only_whoever_composes_alerts_asks_for_approval(world):
    from chalicelib.services import alerts

    made = alerts.compose(world.ports, WRITER, Draft())
    admin = Principal(subject="ta-1", town_id="maple", roles=frozenset({Role.TOWN_ADMIN}))
    with pytest.raises(AccessDenied):
        alerts.request_approval(world.ports, admin, made.alert_id)
    assert world.store.get("maple", made.alert_id).status == "draft"


def test_the_preview_numbers_hold_while_it_awaits_approval(world):
    from chalicelib.services import alerts

    world.join(1, ("ward-1",))
    made = alerts.compose(world.ports, WRITER, Draft())
    alerts.request_approval(world.ports, WRITER, made.alert_id)
    alert, reach = alerts.at_desk(world.ports, APPROVER, made.alert_id)
    assert alert.status == "awaiting_approval" and reach is not None
    assert reach["recipients"] == 1


def test_subscriber_counts_per_zone_and_channel_and_the_test_list(world):
    from chalicelib.services import alerts

    world.join(1, ("ward-1",))
    world.join(2, ("ward-1", "ward-2"), email=True)
    world.join(3, (), phone=False, email=True)
    seen = alerts.audiences(world.ports, APPROVER)
    assert [z.code for z in seen.zones] == ["ward-1", "ward-2"]
    assert seen.counts["ward-1"] == {"people": 2, "sms": 2, "email": 1}
    assert seen.counts["ward-2"] == {"people": 1, "sms": 1, "email": 1}
    assert seen.counts["*"] == {"people": 3, "sms": 2, "email": 2}
    assert seen.test_list == ("qa@maple.example",)
    world.subscribers.remove(world.subscribers.get("maple", "S002"))
    assert alerts.audiences(world.ports, WRITER).counts["ward-2"]["people"] == 0


def test_counts_are_for_the_desk_only(world):
    from chalicelib.services import alerts

    worker = Principal(subject="dw-1", town_id="maple",
                       roles=frozenset({Role.DEPARTMENT_WORKER}))
    with pytest.raises(AccessDenied):
        alerts.audiences(world.ports, worker)


def test_a_drawn_area_that_is_no_polygon_is_refused_by_name(world):
    from chalicelib.services import alerts

    with pytest.raises(InvalidInput) as refused:
        alerts.compose(world.ports, WRITER, Draft(zones=[], area={
            "type": "Polygon", "coordinates": [[[-93.5, 44.5], [-93.4, 44.5]]]}))
    assert {p.field.split(".")[0].split("[")[0] for p in refused.value.problems} == {"area"}
    assert world.store.alerts == {}


def test_a_drawn_area_reaches_the_zones_it_overlaps_and_only_homes_inside(world):
    from chalicelib.services import alerts

    world.join(1, ("ward-1",))
    world.join(2, ("ward-2",))
    area = {"type": "Polygon", "coordinates": [[[-93.9, 44.1], [-93.5, 44.1],
                                                 [-93.5, 44.5], [-93.9, 44.5],
                                                 [-93.9, 44.1]]]}
    made = alerts.compose(world.ports, WRITER, Draft(zones=[], area=area))
    assert made.zones == ("ward-1",) and made.area == area
    assert alerts.preview(world.ports, WRITER, made.alert_id)["recipients"] == 1
