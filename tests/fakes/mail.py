"""E-mail intake's ports in memory: the stored raw messages and towns' own addresses."""

from __future__ import annotations

from chalicelib.domain.errors import Conflict
from chalicelib.domain.mail import MailTooLarge


class FakeInboundMailbox:
    def __init__(self) -> None:
        self.messages: dict[str, bytes] = {}

    def read(self, key: str, max_bytes: int) -> bytes | None:
        if not key.startswith("inbound-mail/"):
            raise ValueError(f"{key!r} is not under inbound-mail/")
        found = self.messages.get(key)
        if found is not None and len(found) > max_bytes:
            raise MailTooLarge(f"the message is over {max_bytes} bytes")
        return found

    def delete(self, key: str) -> None:
        self.messages.pop(key, None)


class FakeIntakeAddresses:
    def __init__(self) -> None:
        self.towns: dict[str, str] = {}

    def town_for(self, address: str) -> str | None:
        return self.towns.get(address.lower())

    def point(self, address: str | None, town_id: str, previous: str | None) -> None:
        if address is not None:
            holder = self.towns.get(address.lower())
            if holder is not None and holder != town_id:
                raise Conflict(f"{address} is another town's address")
            self.towns[address.lower()] = town_id
        if previous is not None and previous.lower() != (address or "").lower():
            self.towns.pop(previous.lower(), None)
