"""Emergency alerts and their subscribers."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # only named in annotations: a cold start does not load them
    from chalicelib.domain.alerts import Alert
    from chalicelib.domain.subscribers import AudienceCount, AudienceMember, Subscriber


class SubscriberStore(Protocol):
    """Emergency alert subscribers, their contact pointers and the audiences per zone."""

    def get(self, town_id: str, subscriber_id: str) -> Subscriber | None: ...

    def find_by_contact(self, town_id: str, contact_hash: str) -> str | None:
        """The confirmed subscription of a contact (a pending one points nowhere)."""
        ...

    def save(self, s: Subscriber) -> None:
        """Write a subscriber (pending or active) with its contact pointers and, when
        active, its audience entries and the STOP pointer, at once."""
        ...

    def remove(self, s: Subscriber) -> None:
        """Forget a subscriber everywhere at once (STOP, the link, or their own delete)."""
        ...

    def take_try(self, town_id: str, subscriber_id: str, max_tries: int) -> bool:
        """Count one try at a pending sign-up's code, in the write that checks the tries
        left: False when none is left (or it is not pending)."""
        ...

    def audience_counts(self, town_id: str, zones: builtins.list[str]
                        ) -> dict[str, AudienceCount]:
        """Confirmed subscribers of each zone and of ``*`` (the whole town), in total and
        per channel, from counts kept as subscribers confirm and stop (no audience read,
        except once to backfill a town counted before the counts existed)."""
        ...

    def subscriptions_of_phone(self, phone_hash: str) -> list[tuple[str, str]]:
        """(town, subscriber) of every active subscription of a phone, in every town."""
        ...

    def audience(self, town_id: str, zone: str) -> Iterator[AudienceMember]:
        """Active subscribers of one zone ("*": the whole town), page by page."""
        ...


class AlertDeliveries(Protocol):
    """An alert's one-message-per-recipient records, as the stop link reads them."""

    def stop_hash(self, town_id: str, alert_id: str, key: str) -> str | None:
        """The hash of the stop link's secret in the message of ``alert_id`` to ``key``."""
        ...


class AlertStore(AlertDeliveries, Protocol):
    """Alerts, their progress counts and their one-message-per-recipient records."""

    def save(self, alert: Alert, new: bool = False) -> None:
        """Store an alert; an existing one only if nobody changed it since it was read
        (Conflict); moves ``alert.version`` on."""
        ...

    def get(self, town_id: str, alert_id: str) -> Alert | None:
        """The alert with its progress counts."""
        ...

    def count(self, town_id: str, alert_id: str, outcome: str, amount: int = 1) -> None: ...

    def counts(self, town_id: str, alert_id: str) -> dict[str, int]:
        """The alert's tallies, read strongly consistent."""
        ...

    def plan(self, town_id: str, alert_id: str, tallies: dict[str, int]) -> None:
        """Set (not add) what the fan-out planned: a retried fan-out writes the same
        numbers again instead of doubling them."""
        ...

    def mark_sent(self, town_id: str, alert_id: str) -> bool:
        """sending → sent, only if it is still sending (a cancel meanwhile wins)."""
        ...

    def delivered_to(self, town_id: str, alert_id: str) -> set[str]:
        """The subscribers an alert reached (on any channel)."""
        ...

    def take_sms_slot(self, town_id: str, second: int, per_second: int) -> bool:
        """One of the town's texts for this second, if any is left."""
        ...

    def claim(self, town_id: str, alert_id: str, key: str, expires_at: int,
              stop_hash: str | None = None) -> bool:
        """Take the message of ``alert_id`` to ``key`` (False: taken before)."""
        ...

    def settle(self, town_id: str, alert_id: str, key: str, state: str | None,
               tally: str | None = None) -> bool:
        """Record how a claimed message ended and add one to ``tally``, once however
        often its batch is retried; None gives the claim back. False: already settled."""
        ...

    # Last: inside this class the name ``list`` is this method (hence builtins.list above).
    def list(self, town_id: str) -> builtins.list[Alert]:
        """The town's alerts, newest first."""
        ...
