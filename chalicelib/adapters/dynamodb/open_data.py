"""A town's requests in index order, for the open-data feed and the year's file: one Query
of the town's by_updated (or by_requested) index, ascending, from a position on."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import storage_errors
from chalicelib.adapters.dynamodb.keys import sort_time
from chalicelib.adapters.dynamodb.service_requests import RequestItem, service_request
from chalicelib.domain.open_data import Window
from chalicelib.domain.requests import ServiceRequest


class DynamoOpenDataSource:
    """``OpenDataSource`` on the request indexes (requests are projected whole: ALL)."""

    def in_order(self, town_id: str, window: Window, limit: int) -> list[ServiceRequest]:
        index: Any = RequestItem.by_updated if window.by_updated else RequestItem.by_requested
        sort_key: Any = RequestItem.GSI2SK if window.by_updated else RequestItem.GSI1SK
        lower = sort_time(window.start)
        after = None
        if window.after is not None:
            after = f"{sort_time(window.after.at)}#{window.after.request_id}"
            lower = max(lower, after)
        found: list[ServiceRequest] = []
        with storage_errors():
            # The key range is inclusive: the request the last page ended on is read again
            # and skipped (one item more, not a second query).
            for item in index.query(keys.town_pk(town_id),
                                    sort_key.between(lower, keys.upto(window.end)),
                                    scan_index_forward=True, limit=limit + 1,
                                    page_size=min(limit + 1, 1000)):
                key = item.GSI2SK if window.by_updated else item.GSI1SK
                if key == after:
                    continue
                found.append(service_request(item))
                if len(found) == limit:
                    break
        return found
