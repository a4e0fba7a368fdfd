"""DynamoDB storage (pynamodb): one table for every town, one module per aggregate.

- ``table.py``: the item base class and ``bind_table``; ``errors.py``: the one error
  translator (``storage_errors``) and ``written_if``; ``keys.py``: every key;
  ``access_patterns.py``: what reads and writes them, through which index
  (``docs/data-model.md`` is generated from it and infra/template.yaml)
- towns and catalogue: ``towns.py``, ``catalogue.py``, ``audit.py``
- requests: ``service_requests.py`` (items, indexes, mappers), ``request_store.py``
  (``DynamoRequestStore``), ``followers.py``, ``service_levels.py``
- residents and messages: ``residents.py``, ``notices.py``, ``limits.py``; reports by
  text message: ``sms.py``
- emergency alerts: ``subscribers.py``, ``alerts.py``
- what each town uses per month: ``usage.py``
- departments' deliveries: ``delivery_results.py``
- a town's figures, counted per event: ``figures.py``
- a town's knowledge base (answers): ``knowledge.py``
- ``migrations.py``: operator-run one-offs

Importing the package imports none of them: each name below is loaded from its module on
first use (``__getattr__``), so a call pays only for the aggregates it touches (the first
GET of a town's services loads towns and catalogue, not alerts, subscribers or audit).
Nothing connects until ``bind_table``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from chalicelib.adapters.dynamodb import keys

if TYPE_CHECKING:
    from chalicelib.adapters.dynamodb.alerts import AlertItem, DeliveryItem, DynamoAlerts
    from chalicelib.adapters.dynamodb.audit import AuditItem, DynamoAuditLog
    from chalicelib.adapters.dynamodb.delivery_results import (
        DeliveryResultItem,
        DynamoDeliveryResults,
    )
    from chalicelib.adapters.dynamodb.errors import storage_error, storage_errors, written_if
    from chalicelib.adapters.dynamodb.exports import DynamoExportJobs
    from chalicelib.adapters.dynamodb.figures import DynamoFigureStore
    from chalicelib.adapters.dynamodb.keys import key_hash, parse_sort_time, sort_time
    from chalicelib.adapters.dynamodb.knowledge import DynamoArticleStore
    from chalicelib.adapters.dynamodb.limits import DynamoLimits
    from chalicelib.adapters.dynamodb.migrations import DynamoPhoneMigration
    from chalicelib.adapters.dynamodb.notices import DynamoNoticeBook
    from chalicelib.adapters.dynamodb.open_data import DynamoOpenDataSource
    from chalicelib.adapters.dynamodb.request_store import DynamoRequestStore
    from chalicelib.adapters.dynamodb.residents import DynamoResidentAccess, contact_hashes
    from chalicelib.adapters.dynamodb.service_requests import (
        RequestItem,
        request_item,
        service_request,
    )
    from chalicelib.adapters.dynamodb.sms import DynamoSmsConversations
    from chalicelib.adapters.dynamodb.subscribers import (
        AudienceItem,
        DynamoSubscribers,
        SubscriberItem,
    )
    from chalicelib.adapters.dynamodb.table import TableItem, shared_botocore_session
    from chalicelib.adapters.dynamodb.towns import (
        DynamoTownDirectory,
        PlatformTownItem,
        TownItem,
        platform_town_item,
        town_item,
    )
    from chalicelib.adapters.dynamodb.usage import DynamoUsage, UsageItem

# Where each name of the package lives (``__getattr__`` imports the module on first use).
_HOMES = {
    "AlertItem": "alerts",
    "AudienceItem": "subscribers",
    "AuditItem": "audit",
    "DeliveryItem": "alerts",
    "DeliveryResultItem": "delivery_results",
    "DynamoAlerts": "alerts",
    "DynamoArticleStore": "knowledge",
    "DynamoAuditLog": "audit",
    "DynamoDeliveryResults": "delivery_results",
    "DynamoExportJobs": "exports",
    "DynamoOpenDataSource": "open_data",
    "DynamoFigureStore": "figures",
    "DynamoLimits": "limits",
    "DynamoNoticeBook": "notices",
    "DynamoPhoneMigration": "migrations",
    "DynamoRequestStore": "request_store",
    "DynamoResidentAccess": "residents",
    "DynamoSmsConversations": "sms",
    "DynamoSubscribers": "subscribers",
    "DynamoTownDirectory": "towns",
    "DynamoUsage": "usage",
    "PlatformTownItem": "towns",
    "RequestItem": "service_requests",
    "SubscriberItem": "subscribers",
    "TableItem": "table",
    "TownItem": "towns",
    "UsageItem": "usage",
    "contact_hashes": "residents",
    "key_hash": "keys",
    "parse_sort_time": "keys",
    "platform_town_item": "towns",
    "request_item": "service_requests",
    "service_request": "service_requests",
    "shared_botocore_session": "table",
    "sort_time": "keys",
    "storage_error": "errors",
    "storage_errors": "errors",
    "town_item": "towns",
    "written_if": "errors",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def bind_table(table_name: str, region: str) -> None:
    """Bind every item class to the deployment's table (``table.bind_table``), with the
    connection made by the request items, the one class that declares the indexes."""
    from chalicelib.adapters.dynamodb import service_requests, table

    table.bind_table(table_name, region, service_requests.RequestItem)


__all__ = [
    "AlertItem", "AudienceItem", "AuditItem", "DeliveryItem", "DeliveryResultItem",
    "DynamoAlerts", "DynamoArticleStore", "DynamoAuditLog", "DynamoDeliveryResults",
    "DynamoExportJobs",
    "DynamoFigureStore", "DynamoLimits", "DynamoNoticeBook", "DynamoOpenDataSource",
    "DynamoPhoneMigration", "DynamoRequestStore", "DynamoResidentAccess",
    "DynamoSmsConversations", "DynamoSubscribers", "DynamoTownDirectory", "DynamoUsage",
    "PlatformTownItem",
    "RequestItem", "SubscriberItem", "TableItem", "TownItem", "UsageItem", "bind_table",
    "contact_hashes", "key_hash", "keys", "parse_sort_time", "platform_town_item",
    "request_item", "service_request", "shared_botocore_session", "sort_time",
    "storage_error", "storage_errors", "town_item", "written_if",
]
