"""Taking a report, with fakes for every port."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.schemas.open311 import NewServiceRequest
from chalicelib.services.intake import IntakePorts, Photo, submit_request
from chalicelib.services.towns import seed_demo_town
from tests.fakes import (
    FakePhotoInbox,
    FakeRequestStore,
    FakeRoutingQueue,
    FakeTownDirectory,
    counter_ids,
)

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


@pytest.fixture
def town():
    directory = FakeTownDirectory()
    demo = seed_demo_town(directory, api_key="secret-key-for-tests")
    catalogue = directory.get_catalogue(demo.town.town_id, demo.town.changeset)
    key = directory.find_api_key(demo.town.town_id, "secret-key-for-tests")
    return demo.town, catalogue, key


def _ports(routing=None):
    return IntakePorts(store=FakeRequestStore(), routing=routing or FakeRoutingQueue(),
                       photos=FakePhotoInbox(), new_id=counter_ids(), now=lambda: NOW)


def _form(**fields) -> NewServiceRequest:
    base = {"service_code": "pothole", "lat": "41.88", "long": "-87.63",
            "attributes": {"size": ["small"]}}
    return NewServiceRequest.model_validate({**base, **fields})


def test_a_report_is_stored_with_its_first_event_and_sent_for_routing(town):
    ports = _ports()
    receipt = submit_request(_form(description="by the school"), *town, ports)
    stored = ports.store.get(town[0].town_id, receipt.service_request_id, with_timeline=True)
    assert stored.description == "by the school"
    assert stored.answers == {"size": "small"}
    assert stored.channel == "open311" and stored.api_key_id == town[2].key_id
    assert [e.kind for e in stored.timeline] == ["submitted"]
    assert ports.routing.sent == [(town[0].town_id, receipt.service_request_id)]


def test_a_report_is_kept_when_the_routing_queue_is_down(town):
    ports = _ports(FakeRoutingQueue(fail=True))
    receipt = submit_request(_form(), *town, ports)
    assert ports.store.get(town[0].town_id, receipt.service_request_id,
                           with_timeline=False) is not None


def test_unknown_service_is_invalid_and_nothing_is_stored(town):
    ports = _ports()
    with pytest.raises(InvalidInput) as refused:
        submit_request(_form(service_code="unicorns"), *town, ports)
    assert refused.value.problems[0].field == "service_code"
    assert ports.store.requests == {} and ports.routing.sent == []


def test_a_photo_is_put_in_the_inbox_before_the_request_is_stored(town):
    ports = _ports()
    receipt = submit_request(_form(), *town, ports, Photo(b"\xff\xd8 jpeg", "image/jpeg"))
    (key,) = ports.photos.objects
    assert key.startswith(f"incoming/{town[0].town_id}/{receipt.service_request_id}/")
    stored = ports.store.get(town[0].town_id, receipt.service_request_id, with_timeline=True)
    assert stored.timeline[0].summary == "Pothole reported with a photo"


@pytest.mark.parametrize("photo", [Photo(b"", "image/jpeg"), Photo(b"GIF89a", "image/gif"),
                                   Photo(b"x" * (8 * 2**20 + 1), "image/jpeg")])
def test_bad_photos_are_refused_up_front(town, photo):
    ports = _ports()
    with pytest.raises(InvalidInput):
        submit_request(_form(), *town, ports, photo)
    assert ports.photos.objects == {} and ports.store.requests == {}
