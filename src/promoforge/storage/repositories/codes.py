"""A store's promotion codes."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Label,
    Row,
    RowMapping,
    ScalarSelect,
    Select,
    and_,
    delete,
    func,
    literal_column,
    or_,
    select,
    update,
)

from promoforge.domain.codes import NewCode, PromotionCode
from promoforge.domain.identifiers import code_id, code_id_parts
from promoforge.domain.queries import Page
from promoforge.storage.column_types import CompactDateTime
from promoforge.storage.dialects import DialectOps
from promoforge.storage.schema import (
    CODE_NUMBER_BITS,
    CODE_NUMBER_LIMIT,
    promotion_codes,
    promotion_jobs,
    promotions,
    stores,
)

_IN_LIST_CHUNK = 500
_Item = TypeVar("_Item")
_codes = promotion_codes.c
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def _chunks(values: Sequence[_Item]) -> Iterator[list[_Item]]:
    for start in range(0, len(values), _IN_LIST_CHUNK):
        yield list(values[start : start + _IN_LIST_CHUNK])


def promotion_ref_of(seq: ColumnElement[int]) -> ColumnElement[int]:
    """The ref of the promotion a code's seq belongs to."""
    # A literal: PostgreSQL has bigint >> integer, and a bound parameter would be sent as bigint.
    return seq.op(">>", return_type=seq.type)(literal_column(str(CODE_NUMBER_BITS)))


def in_range_of(ref: ColumnElement[Any]) -> ColumnElement[bool]:
    """Codes whose seq falls in the range of the promotion with this ref."""
    return and_(_codes.seq >= ref * CODE_NUMBER_LIMIT, _codes.seq < (ref + 1) * CODE_NUMBER_LIMIT)


def _by_ids(code_ids: Sequence[str]) -> ColumnElement[bool]:
    """Codes with these ids, stored or computed; may match a few more, which `_code` then tells apart."""
    seqs = [parts[0] for parts in map(code_id_parts, code_ids) if parts]
    stored = _codes.id.in_(code_ids)
    return or_(stored, and_(_codes.seq.in_(seqs), _codes.id.is_(None))) if seqs else stored


def _by_id(code_id_text: str) -> ColumnElement[bool]:
    """Exactly the code with this id: its stored id, or the seq and creation millisecond it was made of."""
    stored = _codes.id == code_id_text
    parts = code_id_parts(code_id_text)
    if parts is None:
        return stored
    seq, unix_ms = parts
    made = _EPOCH + timedelta(milliseconds=unix_ms)
    created_at = _created_at(_of_job(promotion_jobs.c.created_at))
    computed = and_(
        _codes.seq == seq,
        _codes.id.is_(None),
        created_at >= made,
        created_at < made + _MILLISECOND,
    )
    return or_(stored, computed)


def codes_of_promotion(promotion_id: str) -> ColumnElement[bool]:
    """Codes of the promotion with this id, whatever its store."""
    return in_range_of(select(promotions.c.ref).where(promotions.c.id == promotion_id).scalar_subquery())


def _of_job(column: ColumnElement[Any]) -> ScalarSelect[Any]:
    """`column` of the code's job (NULL for a manual code), for a statement on promotion_codes."""
    return select(column).where(promotion_jobs.c.ref == _codes.job_ref).scalar_subquery()


def _created_at(job_created_at: ColumnElement[Any]) -> ColumnElement[Any]:
    """A code's creation time, its job's where it leaves it to its job (which only PostgreSQL's generated
    codes do: SQLite's store it, and in another form than the job's)."""
    return func.coalesce(_codes.created_at, job_created_at, type_=CompactDateTime)


def _max_uses(job_max_uses: ColumnElement[Any]) -> ColumnElement[Any]:
    """A code's max_uses, its job's where it leaves it to its job."""
    return func.coalesce(_codes.max_uses, job_max_uses)


def code_columns(prefix: str = "") -> list[Label[Any]]:
    """A code's columns with what its row leaves out, named with `prefix`, for a statement that joins the
    code's promotion and (outer) its job: the code's own text, its promotion, job, author and, for a code
    that leaves them to its job, its max_uses, uses and creation time."""
    max_uses = _max_uses(promotion_jobs.c.code_max_uses)
    columns: list[ColumnElement[Any]] = [
        _codes.seq.label("seq"),
        _codes.id.label("id"),
        func.coalesce(_codes.code, _codes.code_key).label("code"),
        max_uses.label("max_uses"),
        func.coalesce(_codes.uses, max_uses).label("uses"),
        _codes.consume_unit.label("consume_unit"),
        _codes.user_restriction.label("user_restriction"),
        func.coalesce(_codes.created_by, promotion_jobs.c.created_by).label("created_by"),
        _created_at(promotion_jobs.c.created_at).label("created_at"),
        promotions.c.id.label("promotion_id"),
        promotions.c.store_id.label("store_id"),
        promotion_jobs.c.id.label("job_id"),
    ]
    return [column.label(prefix + column.name) for column in columns]


@functools.cache
def _readable() -> Select[Any]:
    """Codes with their promotion and job (see `code_columns`); built once, refined by each query."""
    return (
        select(*code_columns())
        .select_from(promotion_codes)
        .join(promotions, promotions.c.ref == promotion_ref_of(_codes.seq))
        .outerjoin(promotion_jobs, promotion_jobs.c.ref == _codes.job_ref)
    )


class CodeRepository:
    """Codes of one store's promotions."""

    def __init__(self, connection: Connection, ops: DialectOps, store_id: str) -> None:
        self.connection = connection
        self.ops = ops
        self.store_id = store_id

    def _store_ref(self) -> ScalarSelect[Any]:
        return select(stores.c.ref).where(stores.c.id == self.store_id).scalar_subquery()

    def _promotion_ref(self, promotion_id: str) -> ScalarSelect[Any]:
        return (
            select(promotions.c.ref)
            .where(promotions.c.id == promotion_id, promotions.c.store_id == self.store_id)
            .scalar_subquery()
        )

    def _of(self, promotion_id: str) -> ColumnElement[bool]:
        """The promotion's codes: one range of seq."""
        return in_range_of(self._promotion_ref(promotion_id))

    def _mine(self, rows: Sequence[Row[Any]], code_ids: Sequence[str]) -> dict[str, PromotionCode]:
        """The rows' codes that are this store's and have one of these ids, by id."""
        wanted = set(code_ids)
        codes = (_code(row) for row in rows if str(row.store_id) == self.store_id)
        return {code.id: code for code in codes if code.id in wanted}

    def existing(self, keys: Sequence[str]) -> list[str]:
        """Return the stored texts of those `keys` that already exist in the store."""
        found: list[str] = []
        for chunk in _chunks(keys):
            found.extend(
                self.connection.execute(
                    select(func.coalesce(_codes.code, _codes.code_key)).where(
                        _codes.store_ref == self._store_ref(), _codes.code_key.in_(chunk)
                    )
                ).scalars()
            )
        return found

    def by_key(self, code_key: str) -> PromotionCode | None:
        """The code with this canonical key, of a promotion that is not deleted."""
        row = self.connection.execute(
            _readable().where(
                _codes.store_ref == self._store_ref(),
                _codes.code_key == code_key,
                promotions.c.deleted_at.is_(None),
            )
        ).first()
        return _code(row) if row else None

    def many(self, code_ids: Sequence[str]) -> dict[str, PromotionCode]:
        """The codes with these ids, by id (missing ones left out)."""
        found: dict[str, PromotionCode] = {}
        for chunk in _chunks(code_ids):
            # By id alone, the store checked on each row: naming the store too makes planners walk its index.
            found.update(self._mine(self.connection.execute(_readable().where(_by_ids(chunk))).all(), chunk))
        return found

    def lock(self, code_ids: Sequence[str]) -> dict[str, PromotionCode]:
        """Lock these codes until the transaction ends, in seq order so that checkouts never deadlock
        (§7.5); return the ones that still exist, by id."""
        found: dict[str, PromotionCode] = {}
        for seq_chunk in _chunks(self._seqs_of(code_ids)):
            query = (
                _readable()
                .where(_codes.seq.in_(seq_chunk))
                .order_by(_codes.seq)
                .with_for_update(of=promotion_codes)
            )
            found.update(self._mine(self.connection.execute(query).all(), code_ids))
        return found

    def _seqs_of(self, code_ids: Sequence[str], *within: ColumnElement[bool]) -> list[int]:
        """The seqs of the codes with these ids (and the conditions `within`), ascending."""
        seqs: set[int] = set()
        for chunk in _chunks(code_ids):
            rows = self.connection.execute(
                select(
                    _codes.seq,
                    _codes.id,
                    _created_at(_of_job(promotion_jobs.c.created_at)).label("created_at"),
                ).where(_by_ids(chunk), *within)
            ).all()
            wanted = set(chunk)
            seqs.update(row.seq for row in rows if _id_of(row._mapping) in wanted)
        return sorted(seqs)

    def consume(self, code_id: str, uses: int) -> bool:
        """Take `uses` from a limited code in one conditional statement; False if it has fewer left."""
        # An untouched code that leaves its uses to its job has all of its job's max_uses_per_code left.
        left = func.coalesce(_codes.uses, _max_uses(_of_job(promotion_jobs.c.code_max_uses)))
        result = self.connection.execute(
            update(promotion_codes)
            .where(_by_id(code_id), _codes.store_ref == self._store_ref(), left >= uses)
            .values(uses=left - uses)
        )
        return result.rowcount == 1

    def add(
        self,
        *,
        promotion_ref: int,
        codes: Sequence[tuple[int, NewCode]],
        created_by: str | None,
        now: datetime,
    ) -> set[str]:
        """Insert manual codes with their numbers, skipping keys the store has; return the keys inserted."""
        if not codes:
            return set()
        store_ref = self.connection.execute(select(self._store_ref())).scalar_one()
        statement = self.ops.insert_ignoring_conflicts(promotion_codes).returning(_codes.code_key)
        rows = [
            {
                "seq": promotion_ref * CODE_NUMBER_LIMIT + number,
                "id": None,
                "store_ref": store_ref,
                "job_ref": None,
                "code": None if new.code == new.key else new.code,
                "code_key": new.key,
                "max_uses": new.max_uses,
                "uses": new.max_uses,
                "consume_unit": new.consume_unit,
                "user_restriction": new.user,
                "created_by": created_by,
                "created_at": now,
            }
            for number, new in codes
        ]
        return set(self.connection.execute(statement, rows).scalars())

    def delete_of_deleted_promotions(self, keys: Sequence[str]) -> int:
        """Delete codes with these keys that still belong to deleted promotions awaiting their purge."""
        deleted_promotions = select(promotions.c.ref).where(
            promotions.c.store_id == self.store_id, promotions.c.deleted_at.is_not(None)
        )
        removed = 0
        for chunk in _chunks(keys):
            removed += self.connection.execute(
                delete(promotion_codes).where(
                    _codes.store_ref == self._store_ref(),
                    _codes.code_key.in_(chunk),
                    promotion_ref_of(_codes.seq).in_(deleted_promotions.scalar_subquery()),
                )
            ).rowcount
        return removed

    def add_random(
        self,
        *,
        promotion_ref: int,
        first_number: int,
        job_id: str,
        prefix: str,
        key_prefix: str,
        bodies: Sequence[str],
        max_uses: int | None,
        consume_unit: str,
        created_at: datetime,
        on_send: Callable[[], object] = lambda: None,
    ) -> int:
        """Insert generated codes, numbered from `first_number` in one statement, skipping any that clash;
        return how many went in. `created_at` is the job's (where a backend stores it per code at all);
        `on_send` is called as the rows start going to the database."""
        # The code index is random; inserting in key order visits each of its pages once per batch instead
        # of at random, which is what keeps big batches fast.
        values = {
            "store_id": self.store_id,
            "first_seq": promotion_ref * CODE_NUMBER_LIMIT + first_number,
            "job_id": job_id,
            # The code's own text is stored only where it differs from its key.
            "prefix": None if prefix == key_prefix else prefix,
            "key_prefix": key_prefix,
            "max_uses": max_uses,
            "consume_unit": consume_unit,
            "created_at": created_at,
        }
        # Sorting what is already sorted (as a job draws them) is one linear pass.
        return self.ops.insert_random_codes(self.connection, values, sorted(bodies), on_send)

    def list_page(
        self, promotion_id: str, page: Page, *, code_key: str | None = None
    ) -> tuple[list[PromotionCode], int]:
        """Return a page of a promotion's codes in creation order, and how many match in all."""
        condition = self._of(promotion_id)
        if code_key is not None:
            # The store's code index finds the one row; the promotion's range then only checks it.
            condition = and_(condition, _codes.store_ref == self._store_ref(), _codes.code_key == code_key)
            total = self.connection.execute(
                select(func.count()).select_from(promotion_codes).where(condition)
            ).scalar_one()
        else:
            total = self.held_count(promotion_id)
        rows = self.connection.execute(
            _readable().where(condition).order_by(_codes.seq).limit(page.limit).offset(page.offset)
        ).all()
        return [_code(row) for row in rows], int(total)

    def held_count(self, promotion_id: str) -> int:
        """How many codes the promotion holds, from its counter: the counter also holds what running
        generation jobs reserved and have not made yet, which is taken off. Exact, and in one statement
        (the counter and a job's count change in the transaction that inserts or deletes codes)."""
        jobs = promotion_jobs.c
        unmade = (
            select(func.coalesce(func.sum(jobs.progress_total - jobs.generated), 0))
            .where(jobs.promotion_id == promotion_id, jobs.capacity_reserved.is_(True))
            .scalar_subquery()
        )
        held = self.connection.execute(
            select(promotions.c.code_count - unmade).where(
                promotions.c.id == promotion_id, promotions.c.store_id == self.store_id
            )
        ).scalar_one_or_none()
        return int(held or 0)

    def count(self, promotion_id: str) -> int:
        """Return how many codes a promotion has."""
        return int(
            self.connection.execute(
                select(func.count()).select_from(promotion_codes).where(self._of(promotion_id))
            ).scalar_one()
        )

    def numbered(self, promotion_ref: int, first_number: int, count: int) -> list[PromotionCode]:
        """The codes a promotion numbered `first_number` and the `count` after it, in order."""
        first = promotion_ref << CODE_NUMBER_BITS | first_number
        rows = self.connection.execute(
            _readable()
            .where(_codes.seq >= first, _codes.seq < first + count, _codes.store_ref == self._store_ref())
            .order_by(_codes.seq)
        ).all()
        return [_code(row) for row in rows]

    def with_keys(self, promotion_id: str, keys: Sequence[str]) -> list[PromotionCode]:
        """The promotion's codes with these canonical keys."""
        found: list[PromotionCode] = []
        for chunk in _chunks(keys):
            rows = self.connection.execute(
                _readable().where(
                    _codes.store_ref == self._store_ref(), _codes.code_key.in_(chunk), self._of(promotion_id)
                )
            ).all()
            found.extend(_code(row) for row in rows)
        return found

    def with_ids(self, promotion_id: str, ids: Sequence[str]) -> list[PromotionCode]:
        """The promotion's codes with these ids."""
        found: list[PromotionCode] = []
        for chunk in _chunks(self._seqs_of(ids, self._of(promotion_id))):
            found.extend(
                _code(row) for row in self.connection.execute(_readable().where(_codes.seq.in_(chunk)))
            )
        return found

    def delete_by_keys(self, promotion_id: str, keys: Sequence[str]) -> int:
        """Delete the promotion's codes with these canonical keys; return how many went."""
        return sum(
            self.connection.execute(
                delete(promotion_codes).where(
                    _codes.store_ref == self._store_ref(), _codes.code_key.in_(chunk), self._of(promotion_id)
                )
            ).rowcount
            for chunk in _chunks(keys)
        )

    def delete_by_ids(self, promotion_id: str, ids: Sequence[str]) -> int:
        """Delete the promotion's codes with these ids; return how many went."""
        owned = self._seqs_of(ids, self._of(promotion_id))
        return sum(
            self.connection.execute(delete(promotion_codes).where(_codes.seq.in_(chunk))).rowcount
            for chunk in _chunks(owned)
        )

    def delete_all(self, promotion_id: str) -> int:
        """Delete every code of a promotion; return how many went."""
        return int(self.connection.execute(delete(promotion_codes).where(self._of(promotion_id))).rowcount)

    def delete_batch(self, promotion_id: str, batch: int, *, job_id: str | None = None) -> int:
        """Delete up to `batch` of a promotion's codes (only `job_id`'s, if given); return how many."""
        condition = self._of(promotion_id)
        if job_id is not None:
            job_ref = select(promotion_jobs.c.ref).where(promotion_jobs.c.id == job_id).scalar_subquery()
            condition = and_(condition, _codes.job_ref == job_ref)
        victims = select(_codes.seq).where(condition).order_by(_codes.seq).limit(batch)
        return int(
            self.connection.execute(
                delete(promotion_codes).where(_codes.seq.in_(victims.scalar_subquery()))
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
        ref = self.connection.execute(select(self._promotion_ref(promotion_id))).scalar_one_or_none()
        if ref is None:
            return
        after = int(ref) * CODE_NUMBER_LIMIT - 1
        end = (int(ref) + 1) * CODE_NUMBER_LIMIT
        while True:
            data, last_seq, count = self.ops.export_chunk(self.connection, after, end, rows_per_chunk)
            if not count:
                return
            yield bytes(data), int(count)
            after = int(last_seq)


def _id_of(m: RowMapping, prefix: str = "") -> str:
    """A code row's id: the stored one, or the one computed from its seq and creation time."""
    stored = m[prefix + "id"]
    return code_id(int(m[prefix + "seq"]), m[prefix + "created_at"]) if stored is None else str(stored)


def _code(row: Row[Any]) -> PromotionCode:
    return code_from(row._mapping)


def code_from(m: RowMapping, prefix: str = "") -> PromotionCode:
    """The code of a row read with `code_columns(prefix)`."""
    job_id = m[prefix + "job_id"]
    return PromotionCode(
        id=_id_of(m, prefix),
        promotion_id=str(m[prefix + "promotion_id"]),
        code=m[prefix + "code"],
        max_uses=m[prefix + "max_uses"],
        uses=m[prefix + "uses"],
        consume_unit=m[prefix + "consume_unit"],
        user=m[prefix + "user_restriction"],
        created_by=m[prefix + "created_by"],
        created_at=m[prefix + "created_at"],
        job_id=None if job_id is None else str(job_id),
    )
