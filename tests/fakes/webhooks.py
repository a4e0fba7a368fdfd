"""Fakes of the webhook gateways (the HTTP poster, the name resolver) and of the store of
delivery results."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.addresses import Destination
from chalicelib.domain.deliveries import DeliveryResult
from chalicelib.domain.errors import StorageUnavailable

PUBLIC = "93.184.216.34"  # a public address (example.com's), where a webhook may go


class FakePoster:
    """WebhookPoster: answers each post with the next of ``answers`` (None: no answer
    came back) and keeps what was posted."""

    def __init__(self, *answers: int | None) -> None:
        self.answers = list(answers)
        self.posts: list[tuple[Destination, bytes, dict[str, str]]] = []

    def post(self, destination: Destination, body: bytes,
             headers: dict[str, str]) -> int | None:
        self.posts.append((destination, body, headers))
        return self.answers.pop(0)


class FakeResolver:
    """DNS as the test says it is: every name resolves to ``answers`` (public unless told),
    or, given ``names``, each name to its own addresses and any other to none."""

    def __init__(self, *answers: str, names: dict[str, list[str]] | None = None) -> None:
        self.answers = list(answers) if answers else [PUBLIC]
        self.names = names
        self.asked: list[tuple[str, int]] = []

    def resolve(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        if self.names is not None:
            return list(self.names.get(host, []))
        return list(self.answers)


class FakeDeliveryResults:
    """DeliveryResults in memory: each department's results by their key (time, delivery,
    channel, attempt), with when each expires; ``fail`` makes it unavailable."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], dict[tuple[datetime, str, str, int],
                                              tuple[DeliveryResult, int]]] = {}
        self.fail = False

    def record(self, town_id: str, department: str, result: DeliveryResult,
               expires_at: int) -> None:
        if self.fail:
            raise StorageUnavailable("the table is unavailable")
        self.kept.setdefault((town_id, department), {})[
            (result.at, result.delivery_id, result.channel, result.attempt)] = (result, expires_at)

    def recent(self, town_id: str, department: str, limit: int) -> list[DeliveryResult]:
        if self.fail:
            raise StorageUnavailable("the table is unavailable")
        found = self.kept.get((town_id, department), {})
        return [found[k][0] for k in sorted(found, reverse=True)[:limit]]
