"""A town's gazetteer in its own partition: a head item and the pieces of each version.

``PK=TOWN#<town>, SK=GAZ#HEAD`` names the version residents read (and what it holds);
``SK=GAZ#V#<version>#<nnn>`` are that version's pieces: the entries as one compact JSON
list, zlib-compressed (20,000 addresses are about 300 kB), cut into pieces of at most
``PIECE_BYTES`` so each fits DynamoDB's 400 kB item. Reading is a GetItem and a Query of
one version's pieces: no Scan, and two calls per container and cache period.

Replacing writes the new version's pieces first, then moves the head with a condition on
the version it replaced (two admins uploading at once: one wins, the other's pieces are
deleted and it is told to retry). The version before the one replaced is deleted then;
the one replaced is kept until the next upload, so a reader that read the old head just
before the move still finds its pieces. A reader that finds fewer pieces than its head
names (it read a head two uploads old) reads the head again, once.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence

from pynamodb.attributes import BinaryAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError

from chalicelib.adapters.dynamodb import keys
from chalicelib.adapters.dynamodb.errors import condition_failed, storage_errors
from chalicelib.adapters.dynamodb.table import TableItem, query_items
from chalicelib.domain.errors import Conflict, StorageUnavailable
from chalicelib.domain.gazetteer import GazetteerEntry, GazetteerSummary, packed, unpacked

# Room under the 400 kB item limit for the keys and attribute names.
PIECE_BYTES = 350_000


class GazetteerHeadItem(TableItem):
    version = UnicodeAttribute()
    pieces = NumberAttribute()
    uploaded_at = UnicodeAttribute()
    uploaded_by = UnicodeAttribute()
    counts = JSONAttribute()
    # The version this one replaced, kept for readers that were reading it.
    previous = UnicodeAttribute(null=True)
    previous_pieces = NumberAttribute(null=True)


class GazetteerPieceItem(TableItem):
    data = BinaryAttribute(legacy_encoding=False)


def _summary(head: GazetteerHeadItem) -> GazetteerSummary:
    return GazetteerSummary(version=head.version,
                            uploaded_at=keys.parse_sort_time(head.uploaded_at),
                            counts={k: int(v) for k, v in head.counts.items()},
                            uploaded_by=head.uploaded_by)


def pieces_of(entries: Sequence[GazetteerEntry]) -> list[bytes]:
    """The entries in their stored form, cut into item-sized pieces."""
    blob = zlib.compress(json.dumps(packed(entries), separators=(",", ":"),
                                    ensure_ascii=False).encode(), 9)
    return [blob[i:i + PIECE_BYTES] for i in range(0, len(blob), PIECE_BYTES)]


class DynamoGazetteer:
    """``GazetteerStore`` on the one table."""

    def _head(self, town_id: str, consistent: bool = False) -> GazetteerHeadItem | None:
        with storage_errors():
            try:
                return GazetteerHeadItem.get(keys.town_pk(town_id), keys.GAZETTEER_HEAD_SK,
                                             consistent_read=consistent)
            except GazetteerHeadItem.DoesNotExist:
                return None

    def summary(self, town_id: str) -> GazetteerSummary | None:
        head = self._head(town_id)
        return _summary(head) if head else None

    def load(self, town_id: str) -> tuple[GazetteerSummary, list[GazetteerEntry]] | None:
        for consistent in (False, True):
            head = self._head(town_id, consistent)
            if head is None:
                return None
            pieces = self._pieces(town_id, head.version)
            if len(pieces) == int(head.pieces):
                rows = json.loads(zlib.decompress(b"".join(pieces)))
                return _summary(head), unpacked(rows)
        raise StorageUnavailable("the gazetteer is being replaced; try again")

    def _pieces(self, town_id: str, version: str) -> list[bytes]:
        with storage_errors():
            raws = list(query_items(keys.town_pk(town_id),
                                    keys.gazetteer_pieces_prefix(version)))
        # Sort keys are zero-padded: the Query returns the pieces in order.
        return [bytes(GazetteerPieceItem.from_raw_data(raw).data) for raw in raws]

    def replace(self, town_id: str, entries: Sequence[GazetteerEntry],
                summary: GazetteerSummary) -> None:
        pk = keys.town_pk(town_id)
        before = self._head(town_id, consistent=True)
        pieces = pieces_of(entries)
        self._write_pieces(pk, summary.version, pieces)
        head = GazetteerHeadItem(
            pk, keys.GAZETTEER_HEAD_SK, version=summary.version, pieces=len(pieces),
            uploaded_at=keys.sort_time(summary.uploaded_at), uploaded_by=summary.uploaded_by,
            counts=summary.counts, previous=before.version if before else None,
            previous_pieces=int(before.pieces) if before else None)
        condition = GazetteerHeadItem.version == before.version if before \
            else GazetteerHeadItem.PK.does_not_exist()
        try:
            with storage_errors():
                try:
                    head.save(condition=condition)
                except PutError as e:
                    if not condition_failed(e):
                        raise
                    raise Conflict("another upload replaced the gazetteer meanwhile; "
                                   "upload again") from e
        except Exception:
            self._delete_pieces(pk, summary.version, len(pieces))
            raise
        if before is not None and before.previous:
            self._delete_pieces(pk, before.previous, int(before.previous_pieces or 0))

    def _write_pieces(self, pk: str, version: str, pieces: list[bytes]) -> None:
        with storage_errors(), GazetteerPieceItem.batch_write() as batch:
            for n, piece in enumerate(pieces):
                batch.save(GazetteerPieceItem(pk, keys.gazetteer_piece_sk(version, n),
                                              data=piece))

    def _delete_pieces(self, pk: str, version: str, count: int) -> None:
        with storage_errors(), GazetteerPieceItem.batch_write() as batch:
            for n in range(count):
                batch.delete(GazetteerPieceItem(pk, keys.gazetteer_piece_sk(version, n)))
