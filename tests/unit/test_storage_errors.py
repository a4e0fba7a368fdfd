"""The storage adapters' one error border: pynamodb errors become domain errors (with the
cause kept), domain errors pass through, and a conditional write refused by its condition
is an answer (False), not an error."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError, QueryError, UpdateError

from chalicelib.adapters.dynamodb.errors import storage_errors, written_if
from chalicelib.domain.errors import Conflict, InvalidInput, StorageUnavailable


def _refused(error: type[Exception], code: str) -> Exception:
    return error("refused", cause=ClientError({"Error": {"Code": code, "Message": "no"}},
                                              "PutItem"))


def test_an_outage_becomes_storage_unavailable_with_its_cause() -> None:
    cause = _refused(QueryError, "ProvisionedThroughputExceededException")
    with pytest.raises(StorageUnavailable) as raised, storage_errors():
        raise cause
    assert raised.value.__cause__ is cause
    assert "ProvisionedThroughputExceededException" in str(raised.value)


def test_data_dynamodb_refuses_becomes_invalid_input() -> None:
    with pytest.raises(InvalidInput), storage_errors():
        raise _refused(PutError, "ValidationException")


def test_domain_errors_pass_through_unchanged() -> None:
    with pytest.raises(Conflict), storage_errors():
        raise Conflict("changed meanwhile")


def test_a_write_its_condition_refused_was_not_written() -> None:
    def refused() -> None:
        raise _refused(UpdateError, "ConditionalCheckFailedException")

    assert written_if(refused) is False
    assert written_if(lambda: None) is True


def test_a_conditional_write_that_fails_otherwise_is_an_outage() -> None:
    def throttled() -> None:
        raise _refused(UpdateError, "ThrottlingException")

    with pytest.raises(StorageUnavailable):
        written_if(throttled)
