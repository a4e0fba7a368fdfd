"""What SNS two-way SMS publishes for a text to a town's number (the inbound topic)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from chalicelib.schemas.model import WireModel

# A text is at most 1,600 characters (ten concatenated segments); anything longer is
# not a text a carrier delivered.
MAX_BODY = 1600


class InboundSms(WireModel):
    """One text a resident sent. Only these fields are read; the rest (keyword,
    previousPublishedMessageId, ...) is ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    origination: Annotated[str, Field(alias="originationNumber", min_length=3,
                                      max_length=32)]
    destination: Annotated[str | None, Field(alias="destinationNumber", max_length=32)] = None
    body: Annotated[str, Field(alias="messageBody", max_length=MAX_BODY * 2)] = ""
    # SNS gives every inbound text its id; a redelivery carries the same one.
    message_id: Annotated[str | None, Field(alias="inboundMessageId", max_length=100,
                                            pattern=r"^[A-Za-z0-9_.:-]+$")] = None
