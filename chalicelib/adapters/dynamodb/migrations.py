"""One-off migrations (operator-run; never on a resident's or a schedule's path)."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import storage_errors
from chalicelib.adapters.dynamodb.residents import ResidentItem
from chalicelib.adapters.dynamodb.service_requests import RequestItem, reporter_doc
from chalicelib.domain.requests import Reporter


class DynamoPhoneMigration:
    """What rewriting typed phones as E.164 needs beyond the request store: every request
    id of a town (a Query of ``by_requested`` over all time), the reporter's phone on its
    own, and index entries under the new hash."""

    def request_ids(self, town_id: str) -> Iterator[str]:
        with storage_errors():
            for item in RequestItem.by_requested.query(keys.town_pk(town_id),
                                                       attributes_to_get=["request_id"]):
                yield item.request_id

    def set_reporter_phone(self, town_id: str, request_id: str, reporter: Reporter) -> None:
        item = RequestItem(keys.request_pk(town_id, request_id), keys.META_SK)
        with storage_errors():
            item.update(actions=[RequestItem.reporter.set(reporter_doc(reporter))],
                        condition=RequestItem.PK.exists(), add_version_condition=False)

    def add_resident_entry(self, town_id: str, contact_hash: str, request_id: str, *,
                           reported: bool) -> None:
        entry = keys.reported_sk(request_id) if reported else keys.followed_sk(request_id)
        with storage_errors():
            ResidentItem(keys.resident_pk(town_id, contact_hash), entry).save()
