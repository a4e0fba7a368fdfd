"""E-mail intake: the raw messages SES stores, and which town an address reaches."""

from __future__ import annotations

from typing import Protocol


class InboundMailbox(Protocol):
    """The raw messages SES receiving stored (S3, under ``inbound-mail/``)."""

    def read(self, key: str, max_bytes: int) -> bytes | None:
        """The stored message; None when it is gone (handled by an earlier delivery of
        the same event). A message over ``max_bytes`` raises MailTooLarge unread."""
        ...

    def delete(self, key: str) -> None:
        """Forget a handled message (the bucket's lifecycle removes what is left)."""
        ...


class IntakeAddresses(Protocol):
    """Towns' own intake addresses: one item per address (two towns cannot share one)."""

    def town_for(self, address: str) -> str | None:
        """The town whose own address this is (one GetItem), or None."""
        ...

    def point(self, address: str | None, town_id: str, previous: str | None) -> None:
        """Make ``address`` reach ``town_id`` and ``previous`` reach nothing (either may be
        None); Conflict if another town has the address."""
        ...
