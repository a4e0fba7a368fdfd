"""Wire format of confirming an e-mail draft (POST /staff/requests/{id}/confirm, and the
console's form): the service and the place a member of staff chose."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chalicelib.domain.requests import DESCRIPTION_LIMIT
from chalicelib.schemas.admin import Strict, _clean
from chalicelib.schemas.fields import coordinate


class ConfirmDraftIn(Strict):
    """The service (one of the town's) and the place: a point, with its address if it
    was picked from the town's addresses. A missing point is refused by the service,
    named with every other problem at once."""

    service_code: Annotated[str, Field(min_length=1, max_length=100)]
    lat: Annotated[float | None, coordinate(90.0)] = None
    long: Annotated[float | None, coordinate(180.0)] = None
    address_string: Annotated[str | None, Field(max_length=200), _clean(200)] = None
    # What the public will read as the description (absent: the mail's words stay).
    description: Annotated[str | None, Field(max_length=DESCRIPTION_LIMIT),
                           _clean(DESCRIPTION_LIMIT, multiline=True)] = None
