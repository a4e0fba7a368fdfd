"""One contract, two implementations: the in-memory fakes and the DynamoDB adapters on moto
must behave the same, so service tests that use fakes say something true."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain.catalogue import Department
from chalicelib.domain.errors import AlreadyApplied, Conflict, NotFound, Throttled
from chalicelib.domain.followers import contact_hashes, tracking_key
from chalicelib.domain.queries import Quota, RequestQuery
from chalicelib.domain.requests import Place, Reporter, ServiceRequest, TimelineEvent
from chalicelib.domain.towns import ApiKey, BusinessCalendar, StaffMember
from chalicelib.domain.zones import Zone
from chalicelib.services.towns import create_town
from tests.fakes import FakeRequestStore, FakeTownDirectory

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TOWN = "maplefalls.example"


def _request(n: int, *, town: str = TOWN, service: str = "pothole", at: datetime = T0,
             status: str = "open") -> tuple[ServiceRequest, TimelineEvent]:
    event = TimelineEvent(at=at, event_id=f"E{n:04d}", kind="submitted", summary="Reported")
    request = ServiceRequest(
        town_id=town, request_id=f"R{n:04d}", token_hash=f"T{n:04d}", service_code=service,
        service_name=service.title(), requested_at=at, updated_at=at,
        place=Place(lat=41.88, long=-87.63, address="1 Main St"), description=f"#{n}",
        status=status, answers={"size": "small"},
        reporter=Reporter(email="ana@example.org"), timeline=[event])
    return request, event


class RequestStoreContract:
    @pytest.fixture
    def store(self):
        raise NotImplementedError

    def test_a_stored_request_reads_back_whole(self, store):
        request, event = _request(1)
        store.add(request, event)
        found = store.get(TOWN, "R0001", with_timeline=True)
        assert found.description == "#1" and found.answers == {"size": "small"}
        assert found.reporter.email == "ana@example.org"
        assert found.place == request.place
        assert found.requested_at == T0
        assert [e.event_id for e in found.timeline] == ["E0001"]
        assert store.request_id_for_token_hash(TOWN, "T0001") == "R0001"

    def test_requests_are_scoped_to_their_town(self, store):
        store.add(*_request(1))
        assert store.get("riverton.example", "R0001", with_timeline=False) is None
        assert store.request_id_for_token_hash("riverton.example", "T0001") is None
        assert store.get_many("riverton.example", ["R0001"]) == []

    def test_the_same_id_cannot_be_stored_twice(self, store):
        store.add(*_request(1))
        with pytest.raises(Conflict):
            store.add(*_request(1))

    def test_a_change_is_saved_with_its_event_unless_someone_changed_it_first(self, store):
        store.add(*_request(1))
        first = store.get(TOWN, "R0001", with_timeline=False)
        second = store.get(TOWN, "R0001", with_timeline=False)
        note = TimelineEvent(at=T0 + timedelta(hours=1), event_id="E0002", kind="note",
                             summary="Crew on the way")
        first.status_notes = "scheduled"
        first.timeline.append(note)
        store.record_change(first, note)
        with pytest.raises(Conflict):
            second.status_notes = "lost update"
            store.record_change(second, note)
        found = store.get(TOWN, "R0001", with_timeline=True)
        assert found.status_notes == "scheduled"
        assert [e.kind for e in found.timeline] == ["submitted", "note"]
        assert [e.kind for e in store.get(TOWN, "R0001", with_timeline=False).timeline] == [
            "submitted", "note"]

    def test_a_quota_refuses_the_request_over_the_limit_and_stores_nothing(self, store):
        minute = T0.replace(second=0)
        quota = Quota("key-1", 2, minute)
        store.add(*_request(1), quota)
        store.add(*_request(2), quota)
        with pytest.raises(Throttled) as refused:
            store.add(*_request(3), quota)
        assert refused.value.retry_after_seconds > 0
        assert store.get(TOWN, "R0003", with_timeline=False) is None
        store.add(*_request(4), Quota("key-2", 2, minute))  # another key has its own
        store.add(*_request(5), Quota("key-1", 2, minute + timedelta(minutes=1)))

    def test_a_residents_requests_are_found_by_contact_and_can_be_forgotten(self, store):
        store.add(*_request(1))
        store.add(*_request(2))
        (email_hash,) = contact_hashes("ANA@example.org ", None)
        assert store.requests_of_resident(TOWN, email_hash) == ["R0001", "R0002"]
        assert store.requests_of_resident("riverton.example", email_hash) == []
        store.forget_resident(TOWN, email_hash, ["R0001", "R0002"])
        assert store.requests_of_resident(TOWN, email_hash) == []

    def test_find_pages_newest_first_with_filters(self, store):
        for n in range(1, 8):
            service = "graffiti" if n % 2 else "pothole"
            store.add(*_request(n, service=service, at=T0 - timedelta(hours=n)))
        window = RequestQuery(start=T0 - timedelta(days=1), end=T0, page_size=2)
        page = store.find(TOWN, window)
        assert [r.request_id for r in page.items] == ["R0001", "R0002"] and page.has_more
        last = store.find(TOWN, dataclasses.replace(window, page=4))
        assert [r.request_id for r in last.items] == ["R0007"] and not last.has_more
        potholes = store.find(TOWN, dataclasses.replace(window, service_codes=("pothole",),
                                                        page_size=10))
        assert [r.request_id for r in potholes.items] == ["R0002", "R0004", "R0006"]
        closed = store.find(TOWN, dataclasses.replace(window, statuses=("closed",)))
        assert closed.items == []
        assert store.find("riverton.example", window).items == []

    def test_find_filters_on_channel_overdue_dispute_department_zone_and_words(self, store):
        def add(n: int, **changes) -> None:  # noqa: ANN003
            request, event = _request(n, at=T0 - timedelta(hours=n))
            store.add(dataclasses.replace(request, **changes), event)

        add(1, channel="phone", expected_at=T0 - timedelta(minutes=1), department="works",
            zone="north")
        add(2, expected_at=T0 + timedelta(hours=1), disputed=True, department="works")
        add(3, status="closed", expected_at=T0 - timedelta(days=1), disputed=False,
            department="parks", description="Swings broken")
        add(4, channel="phone", disputed=True, status="closed")  # a stale flag: closed
        window = RequestQuery(start=T0 - timedelta(days=1), end=T0, page_size=10)

        def ids(**changes) -> list[str]:  # noqa: ANN003
            found = store.find(TOWN, dataclasses.replace(window, **changes))
            return [r.request_id for r in found.items]

        assert ids(channels=("phone",)) == ["R0001", "R0004"]
        assert ids(channels=("open311", "web")) == ["R0002", "R0003"]
        assert ids(overdue=True, as_of=T0) == ["R0001"]
        assert ids(overdue=False, as_of=T0) == ["R0002", "R0003", "R0004"]
        assert ids(overdue=True, as_of=T0 + timedelta(hours=2)) == ["R0001", "R0002"]
        assert ids(disputed=True) == ["R0002"]
        assert ids(disputed=False) == ["R0001", "R0003", "R0004"]
        assert ids(departments=("works",), zone="north") == ["R0001"]
        assert ids(text="SWINGS") == ["R0003"]
        assert ids(disputed=True, overdue=True, as_of=T0) == []

    def test_a_keyed_change_is_applied_once(self, store):
        store.add(*_request(1))
        request = store.get(TOWN, "R0001", with_timeline=False)
        event = TimelineEvent(at=T0, event_id="E0002", kind="updated", summary="Work order")
        store.record_change(request, event, once="wo-1")
        again = store.get(TOWN, "R0001", with_timeline=False)
        with pytest.raises(AlreadyApplied):
            store.record_change(again, event, once="wo-1")
        store.record_change(again, event, once="wo-2")

    def test_a_keyed_change_with_tallies_still_applies_once(self, store):
        store.add(*_request(1))
        request = store.get(TOWN, "R0001", with_timeline=False)
        event = TimelineEvent(at=T0, event_id="E0002", kind="disputed", summary="Disputed")
        store.record_change(request, event, once="wo-1", tally={"disputes#works": 1})
        again = store.get(TOWN, "R0001", with_timeline=False)
        with pytest.raises(AlreadyApplied):
            store.record_change(again, event, once="wo-1", tally={"disputes#works": 1})
        assert store.tallies(TOWN, "disputes#") == {"disputes#works": 1}

    def test_a_change_adds_to_the_towns_tallies(self, store):
        store.add(*_request(1))
        request = store.get(TOWN, "R0001", with_timeline=False)
        event = TimelineEvent(at=T0, event_id="E0002", kind="disputed", summary="Disputed")
        store.record_change(request, event, tally={"disputes#works": 1})
        store.record_change(request, event, tally={"disputes#works": 2, "disputes#parks": 1})
        assert store.tallies(TOWN, "disputes#") == {"disputes#works": 3, "disputes#parks": 1}
        assert store.tallies("riverton.example", "disputes#") == {}

    def test_a_departments_open_work_oldest_first_page_by_page(self, store):
        for n, (department, status, hours) in enumerate(
                [("works", "open", 3), ("works", "open", 1), ("parks", "open", 2),
                 ("works", "closed", 0), ("works", "open", 2)], start=1):
            request, event = _request(n, at=T0 - timedelta(hours=hours), status=status)
            store.add(dataclasses.replace(request, department=department,
                                          lifecycle="closed" if status == "closed"
                                          else "acknowledged" if n == 5 else "routed"), event)
        page = store.department_work(TOWN, "works", None, 2, None)
        assert [r.request_id for r in page.items] == ["R0001", "R0005"] and page.has_more
        rest = store.department_work(TOWN, "works", None, 2, "R0005")
        assert [r.request_id for r in rest.items] == ["R0002"] and not rest.has_more
        acknowledged = store.department_work(TOWN, "works", "acknowledged", 10, None)
        assert [r.request_id for r in acknowledged.items] == ["R0005"]
        assert store.department_work("riverton.example", "works", None, 10, None).items == []

    def test_requests_still_unrouted_after_a_while_are_found_again(self, store):
        store.add(*_request(1, at=T0 - timedelta(minutes=10)))
        store.add(*_request(2, at=T0 - timedelta(minutes=1)))
        routed, event = _request(3, at=T0 - timedelta(minutes=10))
        store.add(dataclasses.replace(routed, department="works", lifecycle="routed"), event)
        assert store.unrouted_before(T0 - timedelta(minutes=2), 10) == [(TOWN, "R0001")]

    def test_a_request_is_found_by_its_tracking_number(self, store):
        request, event = _request(1)
        store.add(dataclasses.replace(request, tracking_number="K7QD-3M2P"), event)
        assert store.request_id_for_tracking(TOWN, tracking_key("k7qd 3m2p")) == "R0001"
        assert store.request_id_for_tracking("riverton.example", tracking_key("K7QD-3M2P")) \
            is None
        with pytest.raises(Conflict):  # a tracking number names one request
            other, event = _request(2)
            store.add(dataclasses.replace(other, tracking_number="K7QD-3M2P"), event)


class TestFakeRequestStore(RequestStoreContract):
    @pytest.fixture
    def store(self):
        return FakeRequestStore()


class TestDynamoRequestStore(RequestStoreContract):
    @pytest.fixture
    def store(self, deployment):
        return deployment.container.requests


class TownDirectoryContract:
    @pytest.fixture
    def directory(self):
        raise NotImplementedError

    def test_a_new_town_reads_back_with_its_catalogue_and_key(self, directory):
        new = create_town(directory, "contract.example", "Contract", "America/Chicago",
                          "small_town", api_key="contract-key-0000000")
        town = directory.get_town("contract.example")
        assert town == new.town
        assert "contract.example" in directory.list_towns()
        catalogue = directory.get_catalogue("contract.example", town.changeset)
        assert [s.code for s in catalogue.services][:2] == ["pothole", "streetlight_out"]
        assert catalogue.service("pothole").questions[0].values[0].key == "small"
        assert catalogue.department("public_works").name == "Public Works — Streets"
        key = directory.find_api_key("contract.example", "contract-key-0000000")
        assert key is not None and not key.revoked and key.rate_limit_per_minute == 60
        assert directory.find_api_key("riverton.example", "contract-key-0000000") is None
        assert directory.find_api_key("contract.example", "contract-key-0000001") is None
        assert directory.get_town("nowhere.example") is None
        with pytest.raises(Conflict):
            create_town(directory, "contract.example", "Again", "UTC", "small_town")

    def test_settings_catalogue_edits_and_the_changeset(self, directory):
        create_town(directory, "contract.example", "Contract", "America/Chicago", "small_town")
        town = directory.get_town("contract.example")
        renamed = dataclasses.replace(
            town, name="Contract City", locales=("en", "es"),
            calendar=BusinessCalendar(holidays=(date(2026, 12, 25),)))
        directory.save_town(renamed)
        assert directory.get_town("contract.example") == renamed
        pothole = directory.get_catalogue("contract.example", town.changeset).service("pothole")
        directory.save_service("contract.example", dataclasses.replace(pothole, active=False),
                               0, "2026-11-21T00:00:00.000000Z")
        directory.save_department("contract.example", Department("lights", "Lights Inc."),
                                  "2026-11-21T00:00:01.000000Z")
        directory.save_zone("contract.example", WARD, "2026-11-21T00:00:02.000000Z")
        town = directory.get_town("contract.example")
        assert town.changeset == "2026-11-21T00:00:02.000000Z"
        catalogue = directory.get_catalogue("contract.example", town.changeset)
        assert catalogue.service("pothole") is None  # retired, kept
        assert catalogue.by_code["pothole"].active is False
        assert catalogue.services[0].code == "pothole"
        assert catalogue.department("lights").name == "Lights Inc."
        assert [z.code for z in catalogue.zones] == ["ward-1"]
        assert catalogue.zones[0].geometry == WARD.geometry
        directory.delete_zone("contract.example", "ward-1", "2026-11-21T00:00:03.000000Z")
        directory.delete_department("contract.example", "lights", "2026-11-21T00:00:04.000000Z")
        catalogue = directory.get_catalogue("contract.example", "x")
        assert catalogue.zones == () and catalogue.department("lights") is None

    def test_api_keys_are_listed_by_id_and_revoked_everywhere(self, directory):
        create_town(directory, "contract.example", "Contract", "UTC", "small_town")
        key = ApiKey("contract.example", "k2", "Phone app", rate_limit_per_minute=10,
                     prefix="t311_abcd", created_at=T0)
        directory.add_api_key(key, "t311_abcd-secret")
        listed = {k.key_id: k for k in directory.list_api_keys("contract.example")}
        assert listed["k2"].name == "Phone app" and listed["k2"].prefix == "t311_abcd"
        directory.revoke_api_key("contract.example", "k2")
        assert directory.find_api_key("contract.example", "t311_abcd-secret").revoked
        with pytest.raises(NotFound):
            directory.revoke_api_key("contract.example", "nope")

    def test_a_web_address_belongs_to_one_town_and_moves_with_it(self, directory):
        create_town(directory, "contract.example", "Contract", "UTC", "small_town")
        create_town(directory, "elmwood.example", "Elmwood", "UTC", "small_town")
        town = directory.get_town("contract.example")
        directory.map_web_domain(dataclasses.replace(town, web_domain="311.contract.gov"), None)
        assert directory.town_at_domain("311.contract.gov") == "contract.example"
        assert directory.get_town("contract.example").web_domain == "311.contract.gov"
        other = directory.get_town("elmwood.example")
        with pytest.raises(Conflict):
            directory.map_web_domain(dataclasses.replace(other, web_domain="311.contract.gov"),
                                     None)
        assert directory.get_town("elmwood.example").web_domain is None
        town = directory.get_town("contract.example")
        directory.map_web_domain(dataclasses.replace(town, web_domain="new.contract.gov"),
                                 "311.contract.gov")
        assert directory.town_at_domain("311.contract.gov") is None
        assert directory.town_at_domain("new.contract.gov") == "contract.example"
        # Saving the same address again is not a conflict with itself.
        town = directory.get_town("contract.example")
        directory.map_web_domain(town, "new.contract.gov")
        assert directory.town_at_domain("new.contract.gov") == "contract.example"

    def test_an_sms_number_belongs_to_one_town_and_moves_with_it(self, directory):
        create_town(directory, "contract.example", "Contract", "UTC", "small_town")
        create_town(directory, "elmwood.example", "Elmwood", "UTC", "small_town")
        town = directory.get_town("contract.example")
        directory.map_sms_number(dataclasses.replace(town, sms_number="+18005550391"), None)
        assert directory.town_at_number("+18005550391") == "contract.example"
        assert directory.get_town("contract.example").sms_number == "+18005550391"
        other = directory.get_town("elmwood.example")
        with pytest.raises(Conflict):
            directory.map_sms_number(dataclasses.replace(other, sms_number="+18005550391"),
                                     None)
        assert directory.get_town("elmwood.example").sms_number is None
        town = directory.get_town("contract.example")
        directory.map_sms_number(dataclasses.replace(town, sms_number="+18005550392"),
                                 "+18005550391")
        assert directory.town_at_number("+18005550391") is None
        assert directory.town_at_number("+18005550392") == "contract.example"
        town = directory.get_town("contract.example")
        directory.map_sms_number(dataclasses.replace(town, sms_number=None), "+18005550392")
        assert directory.town_at_number("+18005550392") is None

    def test_staff_members_belong_to_their_town(self, directory):
        member = StaffMember("u1", "contract.example", "a@x.org", "A", ("agent",))
        directory.save_staff(member)
        assert directory.list_staff("contract.example") == [member]
        assert directory.get_staff("contract.example", "u1") == member
        assert directory.get_staff("riverton.example", "u1") is None

    def test_platform_staff_belong_to_no_town(self, directory):
        operator = StaffMember("op1", None, "op@x.org", "Op", ("operator",))
        directory.save_staff(operator)
        assert directory.get_staff(None, "op1") == operator
        assert directory.get_staff("contract.example", "op1") is None
        assert directory.list_staff("contract.example") == []


WARD = Zone(code="ward-1", name="Ward 1", kind="ward", geometry={
    "type": "Polygon",
    "coordinates": [[[-93.27, 44.97], [-93.25, 44.97], [-93.25, 44.98], [-93.27, 44.98],
                     [-93.27, 44.97]]]})


class TestFakeTownDirectory(TownDirectoryContract):
    @pytest.fixture
    def directory(self):
        return FakeTownDirectory()


class TestDynamoTownDirectory(TownDirectoryContract):
    @pytest.fixture
    def directory(self, deployment):
        return deployment.container.town_store
