"""The one table: the base of every item class, and its binding to the deployment's table.

Every subclass of ``TableItem`` registers itself as it is defined, and ``bind_table``
imports every module of the package before binding, so no item class can be left pointing
at the unbound placeholder table, whichever module it is defined in.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any, ClassVar

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite


class TableItem(Model):
    """Base of every item class: the single table and its composite primary key."""

    class Meta:
        table_name = "unbound"  # bound by ``bind_table`` from settings, never at import
        region = "us-east-1"

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)

    registered: ClassVar[list[type[TableItem]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        TableItem.registered.append(cls)


def item_classes() -> list[type[TableItem]]:
    """The base and every item class defined so far."""
    return [TableItem, *TableItem.registered]


def bind_table(table_name: str, region: str) -> None:
    """Point every item class at the deployment's table (called once, by bootstrap)."""
    package = importlib.import_module(__package__ or "")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    classes = item_classes()
    for cls in classes:
        cls.Meta.table_name = table_name
        cls.Meta.region = region
        cls._connection = None
    # Every item class shares one connection (one botocore client): pynamodb would make a
    # client per class, and each costs a cold start tens of milliseconds. pynamodb takes a
    # connection's picture of the table (its indexes) from the class that makes it, so the
    # class that declares the indexes (RequestItem) makes it.
    indexed = [cls for cls in classes if cls._indexes]
    shared = (indexed[0] if indexed else TableItem)._get_connection()
    for cls in classes:
        cls._connection = shared


def transaction() -> TransactWrite:
    """A transaction on the shared connection."""
    return TransactWrite(connection=TableItem._get_connection().connection)


def query_items(pk: str, sk_prefix: str | None = None, sk_upto: str | None = None,
                consistent: bool = False) -> Iterator[dict[str, Any]]:
    """Every item of one partition (optionally one kind, or sort keys up to ``sk_upto``),
    as raw DynamoDB maps.

    Items of different kinds share a partition (a request and its timeline), so the raw
    map is read once and handed to the class its sort key names.
    """
    connection = TableItem._get_connection()
    condition = TableItem.SK.startswith(sk_prefix) if sk_prefix else \
        TableItem.SK <= sk_upto if sk_upto else None  # noqa: SIM300 - a key condition
    start: dict[str, Any] | None = None
    while True:
        page = connection.query(pk, range_key_condition=condition, exclusive_start_key=start,
                                consistent_read=consistent)
        yield from page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return
