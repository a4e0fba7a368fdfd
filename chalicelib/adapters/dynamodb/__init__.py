"""DynamoDB storage (pynamodb): one table for every town, one module per aggregate.

- ``table.py``: the item base class and ``bind_table``; ``errors.py``: the one error
  translator (``storage_errors``) and ``written_if``; ``keys.py``: every key;
  ``access_patterns.py``: what reads and writes them, through which index
  (``docs/data-model.md`` is generated from it and infra/template.yaml)
- towns and catalogue: ``towns.py``, ``catalogue.py``, ``audit.py``
- requests: ``service_requests.py`` (items, indexes, mappers), ``request_store.py``
  (``DynamoRequestStore``), ``followers.py``, ``service_levels.py``
- residents and messages: ``residents.py``, ``notices.py``, ``limits.py``
- emergency alerts: ``subscribers.py``, ``alerts.py``
- ``migrations.py``: operator-run one-offs

Importing the package imports every module (as the single module did before); nothing
connects until ``bind_table``.
"""

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.alerts import AlertItem, DeliveryItem, DynamoAlerts
from chalicelib.adapters.dynamodb.audit import AuditItem, DynamoAuditLog
from chalicelib.adapters.dynamodb.errors import storage_error, storage_errors, written_if
from chalicelib.adapters.dynamodb.keys import key_hash, parse_sort_time, sort_time
from chalicelib.adapters.dynamodb.limits import DynamoLimits
from chalicelib.adapters.dynamodb.migrations import DynamoPhoneMigration
from chalicelib.adapters.dynamodb.notices import DynamoNoticeBook
from chalicelib.adapters.dynamodb.request_store import DynamoRequestStore
from chalicelib.adapters.dynamodb.residents import DynamoResidentAccess, contact_hashes
from chalicelib.adapters.dynamodb.service_requests import (
    RequestItem,
    request_item,
    service_request,
)
from chalicelib.adapters.dynamodb.subscribers import (
    AudienceItem,
    DynamoSubscribers,
    SubscriberItem,
)
from chalicelib.adapters.dynamodb.table import TableItem, bind_table
from chalicelib.adapters.dynamodb.towns import (
    DynamoTownDirectory,
    PlatformTownItem,
    TownItem,
    platform_town_item,
    town_item,
)

__all__ = [
    "AlertItem", "AudienceItem", "AuditItem", "DeliveryItem", "DynamoAlerts", "DynamoAuditLog",
    "DynamoLimits", "DynamoNoticeBook", "DynamoPhoneMigration", "DynamoRequestStore",
    "DynamoResidentAccess", "DynamoSubscribers", "DynamoTownDirectory", "PlatformTownItem",
    "RequestItem", "SubscriberItem", "TableItem", "TownItem", "bind_table", "contact_hashes",
    "key_hash", "keys", "parse_sort_time", "platform_town_item", "request_item",
    "service_request", "sort_time", "storage_error", "storage_errors", "town_item",
    "written_if",
]
