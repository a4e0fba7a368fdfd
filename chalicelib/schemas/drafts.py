"""Wire format of confirming an e-mail draft (POST /staff/requests/{id}/confirm, and the
console's form): the service and the place a member of staff chose."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import AfterValidator, Field

from chalicelib.domain.requests import DESCRIPTION_LIMIT
from chalicelib.schemas.admin import Strict, _clean


def _degrees(bound: float) -> AfterValidator:
    def check(value: float | None) -> float | None:
        if value is None:
            return None
        if not math.isfinite(value) or not -bound <= value <= bound:
            raise ValueError(f"must be a number of degrees between {-bound:g} and {bound:g}")
        return round(value, 7) + 0.0

    return AfterValidator(check)


class ConfirmDraftIn(Strict):
    """The service (one of the town's) and the place: a point, with its address if it
    was picked from the town's addresses. A missing point is refused by the service,
    named with every other problem at once."""

    service_code: Annotated[str, Field(min_length=1, max_length=100)]
    lat: Annotated[float | None, _degrees(90.0)] = None
    long: Annotated[float | None, _degrees(180.0)] = None
    address_string: Annotated[str | None, Field(max_length=200), _clean(200)] = None
    # What the public will read as the description (absent: the mail's words stay).
    description: Annotated[str | None, Field(max_length=DESCRIPTION_LIMIT),
                           _clean(DESCRIPTION_LIMIT, multiline=True)] = None
