"""Who changed what, per town, newest first: ``PK=TOWN#<town>#AUDIT, SK=<at>#<entry id>``."""

from __future__ import annotations

import json
from datetime import datetime

from pynamodb.attributes import UnicodeAttribute

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import storage_errors
from chalicelib.adapters.dynamodb.table import TableItem
from chalicelib.domain.towns import AuditEntry


class AuditItem(TableItem):
    actor = UnicodeAttribute()
    actor_kind = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    source_ip = UnicodeAttribute(null=True)
    details = UnicodeAttribute(null=True)


def audit_item(entry: AuditEntry) -> AuditItem:
    return AuditItem(keys.audit_pk(entry.town_id), keys.audit_sk(entry.at, entry.entry_id),
                     actor=entry.actor, actor_kind=entry.actor_kind, action=entry.action,
                     target=entry.target, source_ip=entry.source_ip,
                     details=json.dumps(entry.details, default=str))


def _audit_entry(town_id: str, item: AuditItem) -> AuditEntry:
    at, entry_id = keys.audit_entry_of(item.SK)
    return AuditEntry(town_id=town_id, at=at, entry_id=entry_id,
                      actor=item.actor, actor_kind=item.actor_kind, action=item.action,
                      target=item.target, source_ip=item.source_ip,
                      details=json.loads(item.details or "{}"))


class DynamoAuditLog:
    """A town's audit log (requests.add writes an entry in its own transaction too)."""

    def record(self, entry: AuditEntry) -> None:
        with storage_errors():
            audit_item(entry).save()

    def page(self, town_id: str, before: datetime | None, limit: int) -> list[AuditEntry]:
        condition = AuditItem.SK < keys.sort_time(before) if before else None  # noqa: SIM300
        with storage_errors():
            items = AuditItem.query(keys.audit_pk(town_id), condition,
                                    scan_index_forward=False, limit=limit)
            return [_audit_entry(town_id, item) for item in items]
