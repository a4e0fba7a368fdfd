"""``GazetteerStore``: the in-memory fake and the DynamoDB adapter on moto keep each town's
gazetteer alike; the adapter cuts 20,000 entries into pieces that fit an item, reads with
two calls and no Scan, and a reader never sees half of a gazetteer while it is replaced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.adapters.dynamodb import gazetteer as dynamo
from chalicelib.adapters.dynamodb import keys
from chalicelib.domain.errors import Conflict
from chalicelib.domain.gazetteer import GazetteerIndex, GazetteerSummary
from chalicelib.services.demo_gazetteer import demo_entries
from tests.fakes.gazetteer import FakeGazetteerStore
from tests.unit.test_gazetteer import big_town

TOWN, OTHER = "maplefalls.example", "riverton.example"
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def _summary(version: str, entries: list, minutes: int = 0) -> GazetteerSummary:
    return GazetteerSummary(version=version, uploaded_at=NOW + timedelta(minutes=minutes),
                            counts=GazetteerIndex.counts_of(entries), uploaded_by="sub-admin")


class GazetteerContract:
    @pytest.fixture
    def store(self):
        raise NotImplementedError

    def test_a_town_without_a_gazetteer_has_none(self, store) -> None:
        assert store.summary(TOWN) is None
        assert store.load(TOWN) is None

    def test_what_is_stored_is_read_back_whole_for_that_town_only(self, store) -> None:
        entries = demo_entries()
        store.replace(TOWN, entries, _summary("V1", entries))
        summary, loaded = store.load(TOWN)
        assert loaded == entries
        assert summary == _summary("V1", entries) == store.summary(TOWN)
        assert store.load(OTHER) is None and store.summary(OTHER) is None

    def test_a_replacement_replaces_everything(self, store) -> None:
        first, second = demo_entries(), demo_entries()[:10]
        store.replace(TOWN, first, _summary("V1", first))
        store.replace(TOWN, second, _summary("V2", second, 1))
        store.replace(OTHER, first, _summary("V9", first))
        summary, loaded = store.load(TOWN)
        assert (summary.version, loaded) == ("V2", second)
        assert store.load(OTHER)[1] == first


class TestFakeGazetteer(GazetteerContract):
    @pytest.fixture
    def store(self):
        return FakeGazetteerStore()


def _piece_keys(deployment, town: str) -> list[str]:
    table = deployment.client("dynamodb")
    name = deployment.container.settings.table_name
    found = table.query(TableName=name, KeyConditionExpression="PK = :pk AND begins_with(SK, :g)",
                        ExpressionAttributeValues={":pk": {"S": keys.town_pk(town)},
                                                   ":g": {"S": "GAZ#V#"}})
    return [item["SK"]["S"] for item in found["Items"]]


class TestDynamoGazetteer(GazetteerContract):
    @pytest.fixture
    def store(self, deployment):
        return deployment.container.gazetteer_store

    def test_20000_entries_are_cut_into_pieces_that_fit_an_item(self, store, deployment,
                                                                 monkeypatch) -> None:
        entries = big_town()
        pieces = dynamo.pieces_of(entries)
        assert all(len(p) <= dynamo.PIECE_BYTES < 400_000 for p in pieces)
        # Cut smaller than need be, so that the test sees several pieces put back in order.
        monkeypatch.setattr(dynamo, "PIECE_BYTES", max(1, sum(map(len, pieces)) // 4))
        store.replace(TOWN, entries, _summary("V1", entries))
        assert len(_piece_keys(deployment, TOWN)) >= 4
        summary, loaded = store.load(TOWN)
        assert loaded == entries and summary.total == 20_000

    def test_a_load_is_a_get_and_one_query_never_a_scan(self, store, monkeypatch) -> None:
        from chalicelib.adapters.dynamodb.table import TableItem

        entries = demo_entries()
        store.replace(TOWN, entries, _summary("V1", entries))
        connection = TableItem._get_connection().connection
        calls: list[str] = []
        real = connection.dispatch

        def counting(operation_name, operation_kwargs, *args, **kwargs):  # noqa: ANN001, ANN202
            calls.append(operation_name)
            return real(operation_name, operation_kwargs, *args, **kwargs)

        monkeypatch.setattr(connection, "dispatch", counting)
        assert store.load(TOWN)[1] == entries
        assert calls == ["GetItem", "Query"]

    def test_a_reader_of_the_version_just_replaced_still_reads_it_whole(
            self, store, monkeypatch) -> None:
        first, second, third = demo_entries(), demo_entries()[:50], demo_entries()[:7]
        store.replace(TOWN, first, _summary("V1", first))
        real = store._pieces
        moves = iter([lambda: store.replace(TOWN, second, _summary("V2", second, 1))])

        def replaced_meanwhile(town_id: str, version: str) -> list[bytes]:
            for move in moves:  # another upload moves the head after this reader read it
                move()
            return real(town_id, version)

        monkeypatch.setattr(store, "_pieces", replaced_meanwhile)
        summary, loaded = store.load(TOWN)
        assert (summary.version, loaded) == ("V1", first)
        assert store.load(TOWN)[1] == second
        # The next upload deletes V1 (two back) and keeps V2 for its readers.
        store.replace(TOWN, third, _summary("V3", third, 2))
        assert store.load(TOWN)[1] == third

    def test_a_reader_two_uploads_behind_reads_the_head_again(self, store, monkeypatch) -> None:
        first, second, third = demo_entries(), demo_entries()[:50], demo_entries()[:7]
        store.replace(TOWN, first, _summary("V1", first))
        real = store._pieces
        moves = iter([lambda: (store.replace(TOWN, second, _summary("V2", second, 1)),
                               store.replace(TOWN, third, _summary("V3", third, 2)))])

        def replaced_twice_meanwhile(town_id: str, version: str) -> list[bytes]:
            for move in moves:
                move()
            return real(town_id, version)

        monkeypatch.setattr(store, "_pieces", replaced_twice_meanwhile)
        summary, loaded = store.load(TOWN)
        assert (summary.version, loaded) == ("V3", third)  # never V1 in part

    def test_old_versions_are_deleted_and_only_two_are_kept(self, store, deployment) -> None:
        entries = demo_entries()
        for n in range(1, 5):
            store.replace(TOWN, entries, _summary(f"V{n}", entries, n))
        versions = {sk.split("#")[2] for sk in _piece_keys(deployment, TOWN)}
        assert versions == {"V3", "V4"}

    def test_two_uploads_at_once_one_wins_and_the_loser_leaves_nothing(
            self, store, deployment, monkeypatch) -> None:
        entries = demo_entries()
        store.replace(TOWN, entries, _summary("V1", entries))
        real = store._head

        def head_read_before_the_other_upload(town_id: str, consistent: bool = False):  # noqa: ANN202
            head = real(town_id, consistent)
            if consistent:  # the loser read V1 as the head; the winner then moved it
                monkeypatch.setattr(store, "_head", real)
                store.replace(TOWN, entries[:5], _summary("WIN", entries[:5], 1))
            return head

        monkeypatch.setattr(store, "_head", head_read_before_the_other_upload)
        with pytest.raises(Conflict, match="upload again"):
            store.replace(TOWN, entries[:9], _summary("LOSE", entries[:9], 2))
        assert store.load(TOWN)[0].version == "WIN"
        assert not [sk for sk in _piece_keys(deployment, TOWN) if "#LOSE#" in sk]
