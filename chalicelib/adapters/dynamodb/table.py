"""The one table: the base of every item class, and its binding to the deployment's table.

Every subclass of ``TableItem`` registers itself as it is defined, and takes the bound
table and the shared connection then if ``bind_table`` has run already: so no item class
can be left pointing at the unbound placeholder table, whichever module it is defined in
and whenever that module is imported. (Modules are imported by the first call that needs
them: a GET of the service list never loads the alert or subscriber items.)
"""

from __future__ import annotations

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
        # Defined after bind_table: the class shares the connection every other one has.
        # (Every item class uses TableItem.Meta, so the table's name is bound already.)
        cls._connection = TableItem._connection


def item_classes() -> list[type[TableItem]]:
    """The base and every item class defined so far."""
    return [TableItem, *TableItem.registered]


def bind_table(table_name: str, region: str, indexed: type[TableItem]) -> None:
    """Point every item class, defined now or later, at the deployment's table (called
    once, by bootstrap, through the package's ``bind_table``).

    Every item class shares one connection (one botocore client): pynamodb would make a
    client per class, and each costs a cold start tens of milliseconds. pynamodb takes a
    connection's picture of the table (its indexes) from the class that makes it, so the
    class that declares the indexes (``indexed``: RequestItem) makes it."""
    TableItem.Meta.table_name = table_name
    TableItem.Meta.region = region
    classes = item_classes()
    for cls in classes:
        cls._connection = None
    shared = indexed._get_connection()
    for cls in classes:
        cls._connection = shared


def shared_botocore_session() -> Any:
    """The botocore session of the shared connection (bound first), which the rest of the
    function makes its clients from: one session reads botocore's data files once."""
    return TableItem._get_connection().connection.session


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
