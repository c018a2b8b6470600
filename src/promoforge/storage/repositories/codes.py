"""A store's promotion codes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, delete, func, select, update

from promoforge.domain.models import NewCode, Page, PromotionCode
from promoforge.storage.dialects import DialectOps
from promoforge.storage.repositories.paging import count_and_page
from promoforge.storage.schema import promotion_codes, promotions

_IN_LIST_CHUNK = 500


def _chunks(values: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _IN_LIST_CHUNK):
        yield list(values[start : start + _IN_LIST_CHUNK])


class CodeRepository:
    """Codes of one store's promotions."""

    def __init__(self, connection: Connection, ops: DialectOps, store_id: str) -> None:
        self.connection = connection
        self.ops = ops
        self.store_id = store_id

    def _of(self, promotion_id: str) -> ColumnElement[bool]:
        return and_(
            promotion_codes.c.store_id == self.store_id, promotion_codes.c.promotion_id == promotion_id
        )

    def existing(self, keys: Sequence[str]) -> list[str]:
        """Return the stored texts of those `keys` that already exist in the store."""
        found: list[str] = []
        for chunk in _chunks(keys):
            found.extend(
                self.connection.execute(
                    select(promotion_codes.c.code).where(
                        promotion_codes.c.store_id == self.store_id, promotion_codes.c.code_key.in_(chunk)
                    )
                ).scalars()
            )
        return found

    def by_key(self, code_key: str) -> PromotionCode | None:
        """The code with this canonical key, of a promotion that is not deleted."""
        row = self.connection.execute(
            select(promotion_codes)
            .join(promotions, promotions.c.id == promotion_codes.c.promotion_id)
            .where(
                promotion_codes.c.store_id == self.store_id,
                promotion_codes.c.code_key == code_key,
                promotions.c.deleted_at.is_(None),
            )
        ).first()
        return _code(row) if row else None

    def many(self, code_ids: Sequence[str]) -> dict[str, PromotionCode]:
        """The codes with these ids, by id (missing ones left out)."""
        found: dict[str, PromotionCode] = {}
        for chunk in _chunks(code_ids):
            # By id alone: with the store in the WHERE too, planners walk the store's whole code index.
            rows = self.connection.execute(
                select(promotion_codes).where(promotion_codes.c.id.in_(chunk))
            ).all()
            found.update((str(row.id), _code(row)) for row in rows if str(row.store_id) == self.store_id)
        return found

    def lock(self, code_ids: Sequence[str]) -> dict[str, PromotionCode]:
        """Lock these codes until the transaction ends, in id order so that checkouts never deadlock
        (§7.5); return the ones that still exist, by id."""
        found: dict[str, PromotionCode] = {}
        for chunk in _chunks(sorted(set(code_ids))):
            query = (
                select(promotion_codes)
                .where(promotion_codes.c.id.in_(chunk))
                .order_by(promotion_codes.c.id)
                .with_for_update()
            )
            rows = self.connection.execute(query).all()
            found.update((str(row.id), _code(row)) for row in rows if str(row.store_id) == self.store_id)
        return found

    def consume(self, code_id: str, uses: int) -> bool:
        """Take `uses` from a limited code in one conditional statement; False if it has fewer left."""
        result = self.connection.execute(
            update(promotion_codes)
            .where(
                promotion_codes.c.id == code_id,
                promotion_codes.c.store_id == self.store_id,
                promotion_codes.c.uses >= uses,
            )
            .values(uses=promotion_codes.c.uses - uses)
        )
        return result.rowcount == 1

    def add(
        self,
        *,
        promotion_id: str,
        codes: Sequence[tuple[str, NewCode]],
        created_by: str | None,
        now: datetime,
    ) -> set[str]:
        """Insert manual codes with their new ids, skipping keys the store has; return the keys inserted."""
        if not codes:
            return set()
        statement = self.ops.insert_ignoring_conflicts(promotion_codes).returning(promotion_codes.c.code_key)
        rows = [
            {
                "id": code_id,
                "store_id": self.store_id,
                "promotion_id": promotion_id,
                "job_id": None,
                "code": new.code,
                "code_key": new.key,
                "max_uses": new.max_uses,
                "uses": new.max_uses,
                "consume_unit": new.consume_unit,
                "user_restriction": new.user,
                "created_by": created_by,
                "created_at": now,
            }
            for code_id, new in codes
        ]
        return set(self.connection.execute(statement, rows).scalars())

    def delete_of_deleted_promotions(self, keys: Sequence[str]) -> int:
        """Delete codes with these keys that still belong to deleted promotions awaiting their purge."""
        deleted_promotions = select(promotions.c.id).where(
            promotions.c.store_id == self.store_id, promotions.c.deleted_at.is_not(None)
        )
        removed = 0
        for chunk in _chunks(keys):
            removed += self.connection.execute(
                delete(promotion_codes).where(
                    promotion_codes.c.store_id == self.store_id,
                    promotion_codes.c.code_key.in_(chunk),
                    promotion_codes.c.promotion_id.in_(deleted_promotions.scalar_subquery()),
                )
            ).rowcount
        return removed

    def add_random(
        self,
        *,
        promotion_id: str,
        job_id: str,
        prefix: str,
        key_prefix: str,
        ids: Sequence[str],
        bodies: Sequence[str],
        max_uses: int | None,
        consume_unit: str,
        created_by: str | None,
        now: datetime,
    ) -> int:
        """Insert generated codes in one statement, skipping any that clash; return how many went in."""
        # The code index is random; inserting in key order visits each of its pages once per batch instead
        # of at random, which is what keeps big batches fast. Ids are time-ordered and land at the end of
        # theirs. (Sorting ids and codes separately pairs them no less randomly.)
        values = {
            "store_id": self.store_id,
            "promotion_id": promotion_id,
            "job_id": job_id,
            "prefix": prefix,
            "key_prefix": key_prefix,
            "max_uses": max_uses,
            "consume_unit": consume_unit,
            "created_by": created_by,
            "created_at": now,
        }
        return self.ops.insert_random_codes(self.connection, values, sorted(ids), sorted(bodies))

    def list_page(
        self, promotion_id: str, page: Page, *, code_key: str | None = None
    ) -> tuple[list[PromotionCode], int]:
        """Return a page of a promotion's codes in creation order."""
        condition = self._of(promotion_id)
        if code_key is not None:
            condition = and_(condition, promotion_codes.c.code_key == code_key)
        return count_and_page(
            self.connection, promotion_codes, condition, (promotion_codes.c.seq,), page, _code
        )

    def count(self, promotion_id: str) -> int:
        """Return how many codes a promotion has."""
        return int(
            self.connection.execute(
                select(func.count()).select_from(promotion_codes).where(self._of(promotion_id))
            ).scalar_one()
        )

    def delete_by_keys(self, promotion_id: str, keys: Sequence[str]) -> int:
        """Delete the promotion's codes with these canonical keys; return how many went."""
        return sum(
            self.connection.execute(
                delete(promotion_codes).where(self._of(promotion_id), promotion_codes.c.code_key.in_(chunk))
            ).rowcount
            for chunk in _chunks(keys)
        )

    def delete_by_ids(self, promotion_id: str, ids: Sequence[str]) -> int:
        """Delete the promotion's codes with these ids; return how many went."""
        # Chosen by id alone first: a DELETE naming store and promotion walks the promotion's whole index.
        owned = [code.id for code in self.many(ids).values() if code.promotion_id == promotion_id]
        return sum(
            self.connection.execute(delete(promotion_codes).where(promotion_codes.c.id.in_(chunk))).rowcount
            for chunk in _chunks(owned)
        )

    def delete_all(self, promotion_id: str) -> int:
        """Delete every code of a promotion; return how many went."""
        return int(self.connection.execute(delete(promotion_codes).where(self._of(promotion_id))).rowcount)

    def delete_batch(self, promotion_id: str, batch: int, *, job_id: str | None = None) -> int:
        """Delete up to `batch` of a promotion's codes (only `job_id`'s, if given); return how many."""
        condition = self._of(promotion_id)
        if job_id is not None:
            condition = and_(condition, promotion_codes.c.job_id == job_id)
        victims = select(promotion_codes.c.seq).where(condition).order_by(promotion_codes.c.seq).limit(batch)
        return int(
            self.connection.execute(
                delete(promotion_codes).where(promotion_codes.c.seq.in_(victims.scalar_subquery()))
            ).rowcount
        )

    def refresh_statistics(self) -> None:
        """Tell the query planner about a bulk change to the codes table."""
        self.ops.refresh_statistics(self.connection, promotion_codes.name)

    def export_csv_chunks(self, promotion_id: str, rows_per_chunk: int) -> Iterator[tuple[bytes, int]]:
        """Yield the promotion's codes as CSV lines (bytes, CRLF between lines) with their row counts.

        The database formats and joins each chunk, so no Python object is made per code; chunks follow
        each other by seq within one snapshot, so the file is consistent however long it takes.
        """
        self.ops.begin_snapshot(self.connection)
        after = 0
        statement = self.ops.export_chunk()
        while True:
            data, last_seq, count = self.connection.execute(
                statement,
                {
                    "store_id": self.store_id,
                    "promotion_id": promotion_id,
                    "after": after,
                    "limit": rows_per_chunk,
                },
            ).one()
            if not count:
                return
            yield bytes(data), int(count)
            after = int(last_seq)


def _code(row: Row[Any]) -> PromotionCode:
    m = row._mapping
    return PromotionCode(
        id=str(m["id"]),
        promotion_id=str(m["promotion_id"]),
        code=m["code"],
        max_uses=m["max_uses"],
        uses=m["uses"],
        consume_unit=m["consume_unit"],
        user=m["user_restriction"],
        created_by=m["created_by"],
        created_at=m["created_at"],
        job_id=None if m["job_id"] is None else str(m["job_id"]),
    )
