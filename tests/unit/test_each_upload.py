"""The S3 handlers' shared loop (photos, e-mail): every object is tried, outcomes are
counted, and an unavailable store fails the event at the end (so S3 invokes it again)
without stopping the objects after it."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import StorageUnavailable
from chalicelib.events.pipeline import each_upload


def _event(*keys: str) -> dict:
    return {"Records": [{"s3": {"object": {"key": k}}} for k in keys]}


def test_each_object_is_handled_and_its_outcome_counted() -> None:
    seen: list[str] = []

    def handle(key: str) -> str:
        seen.append(key)
        return "drafted" if key.endswith(".eml") else "skipped"

    assert each_upload(_event("inbound-mail/a.eml", "inbound-mail/b+c.eml", "x"), handle,
                       "e-mail") == {"drafted": 2, "skipped": 1}
    assert seen == ["inbound-mail/a.eml", "inbound-mail/b c.eml", "x"]  # keys decoded


def test_an_unavailable_store_fails_the_event_after_trying_the_others() -> None:
    seen: list[str] = []

    def handle(key: str) -> str:
        seen.append(key)
        if key == "b":
            raise StorageUnavailable("table throttled")
        return "processed"

    with pytest.raises(RuntimeError, match=r'1 photo\(s\) could not be handled: '
                                           r'\{"processed": 2\}'):
        each_upload(_event("a", "b", "c"), handle, "photo")
    assert seen == ["a", "b", "c"]


def test_a_bug_is_not_swallowed() -> None:
    def handle(key: str) -> str:
        raise KeyError(key)

    with pytest.raises(KeyError):
        each_upload(_event("a"), handle, "photo")
