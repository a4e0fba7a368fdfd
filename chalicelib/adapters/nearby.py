"""Open requests near a point, from the sparse ``by_place`` index (never a Scan).

``by_place`` holds only open requests with a point: GSI3PK =
``TOWN#<town>#SVC#<service_code>#<geohash-7>``, GSI3SK = ``<requested_at>#<request_id>``
(see ``chalicelib/adapters/dynamodb/keys.py``). One Query per cell, with the time window as the
key condition, reads exactly the town's open requests of that service in that cell and
window: nothing closed, nothing older, nothing of another service or town. The cells are
queried side by side on a few threads, so a lookup waits for about one Query, not nine.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import storage_errors
from chalicelib.adapters.dynamodb.service_requests import RequestItem, service_request
from chalicelib.domain.requests import ServiceRequest

# A 3 x 3 block at most for the radii towns may set (a second ring only at high latitude).
MAX_PARALLEL = 9


class DynamoNearbyRequests:
    """``NearbyRequests`` on DynamoDB: one Query per cell, run in parallel."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    def open_near(self, town_id: str, service_code: str, cells: list[str],
                  since: datetime) -> list[ServiceRequest]:
        unique = list(dict.fromkeys(cells))
        if not unique:
            return []
        # Make the shared botocore client now, on this thread: threads that each found it
        # missing would each make one (botocore clients are thread-safe once made).
        RequestItem._get_connection().connection.client  # noqa: B018
        start = keys.sort_time(since)
        with storage_errors():
            if len(unique) == 1:
                found = [self._cell(town_id, service_code, unique[0], start)]
            else:
                found = list(self._threads().map(
                    lambda cell: self._cell(town_id, service_code, cell, start), unique))
        return [request for cell in found for request in cell]

    def _threads(self) -> ThreadPoolExecutor:
        if self._pool is None:  # made on first use, kept for the warm Lambda's next calls
            self._pool = ThreadPoolExecutor(max_workers=MAX_PARALLEL,
                                            thread_name_prefix="nearby")
        return self._pool

    @staticmethod
    def _cell(town_id: str, service_code: str, cell: str, start: str) -> list[ServiceRequest]:
        """Every page of one cell's open requests requested at or after ``start``."""
        items = RequestItem.by_place.query(keys.place_key(town_id, service_code, cell),
                                           RequestItem.GSI3SK >= start)  # noqa: SIM300
        return [service_request(item) for item in items]
