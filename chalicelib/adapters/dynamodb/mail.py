"""Towns' own e-mail intake addresses: ``PK=PLATFORM#MAILTO#<address>, SK=MAILTO`` holds
the town an address reaches, so the mail handler resolves a recipient with one GetItem
(a town's default address, ``<town_id>@<intake domain>``, needs no item: its local part
is the town's id)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import TransactWriteError

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import (
    CONDITION_FAILED,
    get_or_none,
    reasons,
    storage_errors,
)
from chalicelib.adapters.dynamodb.table import TableItem, transaction
from chalicelib.domain.errors import Conflict


class MailAddressItem(TableItem):
    town_id = UnicodeAttribute()


class DynamoIntakeAddresses:
    def town_for(self, address: str) -> str | None:
        item = get_or_none(MailAddressItem, keys.mail_address_pk(address),
                           keys.MAIL_ADDRESS_SK)
        return item.town_id if item is not None else None

    def point(self, address: str | None, town_id: str, previous: str | None) -> None:
        with storage_errors():
            try:
                with transaction() as tx:
                    if address is not None:
                        tx.save(MailAddressItem(keys.mail_address_pk(address),
                                                keys.MAIL_ADDRESS_SK, town_id=town_id),
                                condition=MailAddressItem.PK.does_not_exist()
                                | (MailAddressItem.town_id == town_id))
                    if previous is not None and previous.lower() != (address or "").lower():
                        tx.delete(TableItem(keys.mail_address_pk(previous),
                                            keys.MAIL_ADDRESS_SK))
            except TransactWriteError as e:
                if CONDITION_FAILED in reasons(e):
                    raise Conflict(f"{address} is another town's address") from e
                raise
