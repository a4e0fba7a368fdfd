"""The shared retry of optimistic writes."""

from __future__ import annotations

import pytest

from chalicelib.domain.errors import AlreadyApplied, Conflict, NotFound
from chalicelib.services.retries import retry_on_conflict


def test_a_write_that_loses_a_race_is_tried_again_on_a_fresh_read() -> None:
    tries: list[int] = []

    def attempt(n: int) -> str:
        tries.append(n)
        if n < 2:
            raise Conflict("someone wrote first")
        return "stored"

    assert retry_on_conflict(attempt) == "stored"
    assert tries == [0, 1, 2]


def test_the_last_conflict_is_raised_after_three_tries() -> None:
    with pytest.raises(Conflict, match="third"):
        retry_on_conflict(lambda n: (_ for _ in ()).throw(Conflict(["first", "second",
                                                                    "third"][n])))


def test_a_caller_may_say_what_to_do_when_it_gives_up() -> None:
    with pytest.raises(Conflict, match="send the update again") as raised:
        retry_on_conflict(lambda n: (_ for _ in ()).throw(Conflict("lost")),
                          gave_up="the request kept changing; send the update again")
    assert isinstance(raised.value.__cause__, Conflict)


def test_other_errors_are_not_retried() -> None:
    tries: list[int] = []

    def attempt(n: int) -> None:
        tries.append(n)
        raise NotFound("gone")

    with pytest.raises(NotFound):
        retry_on_conflict(attempt)
    assert tries == [0]


def test_already_applied_is_a_conflict_the_attempt_handles_itself() -> None:
    def attempt(n: int) -> str:
        try:
            raise AlreadyApplied("done before")
        except AlreadyApplied:
            return "done"

    assert retry_on_conflict(attempt) == "done"
