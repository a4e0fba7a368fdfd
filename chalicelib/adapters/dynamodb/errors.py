"""pynamodb's errors turned into domain errors, in one place.

``with storage_errors():`` around a call is the adapters' one border: a pynamodb error
leaving it becomes ``StorageUnavailable`` (an outage: retrying may help) or ``InvalidInput``
(DynamoDB refused the data itself: retrying never helps), with the cause chained. Errors
the block raises itself (``Conflict``, ``NotFound``…) pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pynamodb.exceptions import (
    DeleteError,
    PutError,
    PynamoDBException,
    TransactWriteError,
    UpdateError,
)

from chalicelib.adapters.dynamodb.table import TableItem
from chalicelib.domain.errors import InvalidInput, Problem, StorageUnavailable

CONDITION_FAILED = "ConditionalCheckFailed"  # a transaction's cancellation reason

def storage_error(e: PynamoDBException) -> StorageUnavailable | InvalidInput:
    """The domain error a pynamodb error means."""
    reasons = [r.code for r in getattr(e, "cancellation_reasons", None) or [] if r]
    if e.cause_response_code == "ValidationException" or "ValidationError" in reasons:
        return InvalidInput.of([Problem("request", "cannot be stored as given")])
    return StorageUnavailable(f"storage is unavailable ({e.cause_response_code or 'error'})")


@contextmanager
def storage_errors() -> Iterator[None]:
    """Translate any pynamodb error raised in the block (see the module's docstring)."""
    try:
        yield
    except PynamoDBException as e:
        raise storage_error(e) from e


def condition_failed(e: PynamoDBException) -> bool:
    """A single write refused by its condition (not a transaction: see ``reasons``)."""
    return e.cause_response_code == "ConditionalCheckFailedException"


def reasons(e: TransactWriteError) -> list[str | None]:
    """Why each write of a cancelled transaction was refused, in the order pynamodb sent
    them (puts and deletes first, then updates); None for a write that was not."""
    return [r.code if r else None for r in e.cancellation_reasons or []]


def written_if(write: Callable[[], object]) -> bool:
    """Run a conditional write: True if it was written, False if its condition said no
    (a claim already taken, a limit reached); any other failure is a storage error."""
    with storage_errors():
        try:
            write()
        except (PutError, UpdateError, DeleteError) as e:
            if condition_failed(e):
                return False
            raise
    return True


def get_or_none[Item: TableItem](item_class: type[Item], pk: str, sk: str,
                                 consistent_read: bool = False) -> Item | None:
    """One item by its key, or None if there is none."""
    with storage_errors():
        try:
            return item_class.get(pk, sk, consistent_read=consistent_read)
        except item_class.DoesNotExist:
            return None
