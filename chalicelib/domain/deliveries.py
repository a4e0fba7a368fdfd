"""What became of each delivery of an assignment to a department's own systems (its
queue, its webhook): kept a while, so a town admin can see that a work-order system
answers without reading logs.

A result is one try: a webhook retried three times leaves three, with their attempt
numbers. A test delivery (sent from the console) is marked, so it is never mistaken for
an assignment of a real request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# How long results are kept (DynamoDB's TTL removes them), and how many a screen shows.
KEPT_FOR = timedelta(days=14)
RECENT = 20

CHANNELS = ("webhook", "queue")
# delivered: the receiver answered 2xx; queued: on the department's queue; retrying: it
# will be tried again (an answer that is not 2xx, or none); dropped: not sent and not
# retried (no webhook any more, or its address is not public now).
OUTCOMES = ("delivered", "queued", "retrying", "dropped")


@dataclass(frozen=True)
class DeliveryResult:
    """One try at delivering one assignment (``delivery_id``) on one channel."""

    at: datetime
    delivery_id: str
    channel: str  # one of CHANNELS
    outcome: str  # one of OUTCOMES
    attempt: int = 1
    test: bool = False
    status: int | None = None  # the receiver's HTTP status, when it answered
    error: str | None = None  # what went wrong, in plain words (never a secret or a body)
