"""Repositories: every query the services need, each scoped by store where a caller is involved."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    and_,
    case,
    delete,
    func,
    insert,
    select,
    update,
)

from promoforge.domain.jobs import JobStatus, JobType
from promoforge.domain.models import (
    Job,
    NewCode,
    Page,
    Promotion,
    PromotionAttributes,
    PromotionCode,
    PromotionVersion,
    Store,
)
from promoforge.storage.dialects import DialectOps, dialect_ops
from promoforge.storage.errors import translated_errors
from promoforge.storage.schema import (
    job_files,
    promotion_codes,
    promotion_jobs,
    promotion_versions,
    promotions,
    service_keys,
    stores,
)

_IN_LIST_CHUNK = 500


class Database:
    """The storage port: opens read and write transactions over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.backend = engine.dialect.name
        self.ops = dialect_ops(self.backend)
        self._write_engine = (
            engine.execution_options(sqlite_begin="IMMEDIATE") if self.backend == "sqlite" else engine
        )

    @contextmanager
    def read(self) -> Iterator[Repositories]:
        """A read-only transaction."""
        with translated_errors(), self.engine.begin() as connection:
            yield Repositories(connection, self.ops)

    @contextmanager
    def write(self) -> Iterator[Repositories]:
        """A transaction that may write; on SQLite it takes the write lock up front."""
        with translated_errors(), self._write_engine.begin() as connection:
            yield Repositories(connection, self.ops)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


class Repositories:
    """All repositories bound to one connection (one transaction)."""

    def __init__(self, connection: Connection, ops: DialectOps) -> None:
        self.connection = connection
        self.stores = StoreRepository(connection)
        self.keys = ServiceKeyRepository(connection, ops)
        self.promotions = PromotionRepository(connection)
        self.codes = CodeRepository(connection, ops)
        self.jobs = JobRepository(connection, ops)


class StoreRepository:
    """Stores and their API credentials."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, store: Store) -> None:
        """Insert a store."""
        self.connection.execute(insert(stores).values(**_store_values(store)))

    def get(self, store_id: str) -> Store | None:
        """Return a store by id."""
        row = self.connection.execute(select(stores).where(stores.c.id == store_id)).first()
        return _store(row) if row else None

    def by_client_id(self, client_id: str) -> Store | None:
        """Return the store owning a client id."""
        row = self.connection.execute(select(stores).where(stores.c.client_id == client_id)).first()
        return _store(row) if row else None

    def all(self) -> list[Store]:
        """Return every store, oldest first."""
        rows = self.connection.execute(select(stores).order_by(stores.c.created_at, stores.c.id)).all()
        return [_store(row) for row in rows]

    def count(self) -> int:
        """Return how many stores exist."""
        return int(self.connection.execute(select(func.count()).select_from(stores)).scalar_one())

    def update(self, store_id: str, **values: Any) -> None:
        """Change some columns of a store."""
        self.connection.execute(update(stores).where(stores.c.id == store_id).values(**values))


class ServiceKeyRepository:
    """Secrets the service generates for itself (token and link signing)."""

    def __init__(self, connection: Connection, ops: DialectOps) -> None:
        self.connection = connection
        self.ops = ops

    def get_or_create(self, name: str, candidate: str, now: datetime) -> str:
        """Return the stored secret `name`, storing `candidate` first if there is none."""
        self.connection.execute(
            self.ops.insert_ignoring_conflicts(service_keys).values(
                name=name, secret=candidate, created_at=now
            )
        )
        secret = self.connection.execute(
            select(service_keys.c.secret).where(service_keys.c.name == name)
        ).scalar_one()
        return str(secret)


class PromotionRepository:
    """Promotions, their versions and their code counters."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, promotion: Promotion) -> None:
        """Insert a promotion and its first version."""
        self.connection.execute(insert(promotions).values(**_promotion_values(promotion)))
        self._add_version(promotion)

    def get(self, store_id: str, promotion_id: str, *, for_update: bool = False) -> Promotion | None:
        """Return one promotion of a store; `for_update` locks it until the transaction ends."""
        query = select(promotions).where(promotions.c.store_id == store_id, promotions.c.id == promotion_id)
        if for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return _promotion(row) if row else None

    def exists(self, store_id: str, promotion_id: str) -> bool:
        """Tell whether the store has this promotion."""
        query = select(promotions.c.id).where(
            promotions.c.store_id == store_id, promotions.c.id == promotion_id
        )
        return self.connection.execute(query).first() is not None

    def lock(self, store_id: str, promotion_id: str) -> bool:
        """Lock the store's promotion until the transaction ends; tell whether it exists.

        Every transaction that changes a promotion's codes takes this lock first, so a concurrent
        delete of the promotion either waits for it or has already happened (no orphan codes).
        """
        query = (
            select(promotions.c.id)
            .where(promotions.c.store_id == store_id, promotions.c.id == promotion_id)
            .with_for_update()
        )
        return self.connection.execute(query).first() is not None

    def list_page(
        self, store_id: str, page: Page, *, code_key: str | None = None
    ) -> tuple[list[Promotion], int]:
        """Return a page of a store's promotions, oldest first, optionally only the one owning a code."""
        condition = promotions.c.store_id == store_id
        if code_key is not None:
            owner = select(promotion_codes.c.promotion_id).where(
                promotion_codes.c.store_id == store_id, promotion_codes.c.code_key == code_key
            )
            condition = and_(condition, promotions.c.id.in_(owner.scalar_subquery()))
        total = self.connection.execute(select(func.count()).select_from(promotions).where(condition))
        rows = self.connection.execute(
            select(promotions)
            .where(condition)
            .order_by(promotions.c.created_at, promotions.c.id)
            .limit(page.limit)
            .offset(page.offset)
        ).all()
        return [_promotion(row) for row in rows], int(total.scalar_one())

    def save(self, promotion: Promotion) -> None:
        """Write new attributes and record them as a new version."""
        values = _promotion_values(promotion)
        for fixed in ("id", "store_id", "created_at", "created_by", "code_count"):
            values.pop(fixed)
        self.connection.execute(
            update(promotions)
            .where(promotions.c.store_id == promotion.store_id, promotions.c.id == promotion.id)
            .values(**values)
        )
        self._add_version(promotion)

    def delete(self, store_id: str, promotion_id: str) -> bool:
        """Delete a promotion with its versions, codes, jobs and files; tell whether it existed."""
        if not self.lock(store_id, promotion_id):
            return False
        condition = and_(promotions.c.store_id == store_id, promotions.c.id == promotion_id)
        job_ids = select(promotion_jobs.c.id).where(promotion_jobs.c.promotion_id == promotion_id)
        self.connection.execute(delete(job_files).where(job_files.c.job_id.in_(job_ids)))
        self.connection.execute(delete(promotion_jobs).where(promotion_jobs.c.promotion_id == promotion_id))
        self.connection.execute(delete(promotion_codes).where(promotion_codes.c.promotion_id == promotion_id))
        self.connection.execute(
            delete(promotion_versions).where(promotion_versions.c.promotion_id == promotion_id)
        )
        self.connection.execute(delete(promotions).where(condition))
        return True

    def history(self, store_id: str, promotion_id: str, page: Page) -> tuple[list[PromotionVersion], int]:
        """Return a page of a promotion's versions, newest first."""
        condition = and_(
            promotion_versions.c.store_id == store_id, promotion_versions.c.promotion_id == promotion_id
        )
        total = self.connection.execute(
            select(func.count()).select_from(promotion_versions).where(condition)
        ).scalar_one()
        rows = self.connection.execute(
            select(promotion_versions)
            .where(condition)
            .order_by(promotion_versions.c.version.desc())
            .limit(page.limit)
            .offset(page.offset)
        ).all()
        return [_version(row) for row in rows], int(total)

    def reserve_codes(self, store_id: str, promotion_id: str, count: int) -> bool:
        """Count `count` more codes against the promotion if its store's limit allows; tell whether it did."""
        limit = select(stores.c.max_codes_per_promotion).where(stores.c.id == store_id).scalar_subquery()
        result = self.connection.execute(
            update(promotions)
            .where(
                promotions.c.store_id == store_id,
                promotions.c.id == promotion_id,
                promotions.c.code_count + count <= limit,
            )
            .values(code_count=promotions.c.code_count + count)
        )
        return result.rowcount == 1

    def release_codes(self, store_id: str, promotion_id: str, count: int) -> None:
        """Stop counting `count` codes against the promotion."""
        if count:
            self.connection.execute(
                update(promotions)
                .where(promotions.c.store_id == store_id, promotions.c.id == promotion_id)
                .values(code_count=promotions.c.code_count - count)
            )

    def store_code_total(self, store_id: str) -> int:
        """Return the codes counted against all of a store's promotions."""
        total = self.connection.execute(
            select(func.coalesce(func.sum(promotions.c.code_count), 0)).where(
                promotions.c.store_id == store_id
            )
        ).scalar_one()
        return int(total)

    def _add_version(self, promotion: Promotion) -> None:
        self.connection.execute(
            insert(promotion_versions).values(
                promotion_id=promotion.id,
                version=promotion.version,
                store_id=promotion.store_id,
                attributes=_version_document(promotion),
                created_at=promotion.updated_at,
            )
        )


class CodeRepository:
    """Promotion codes."""

    def __init__(self, connection: Connection, ops: DialectOps) -> None:
        self.connection = connection
        self.ops = ops

    def existing(self, store_id: str, keys: Sequence[str]) -> list[str]:
        """Return the stored texts of those `keys` that already exist in the store."""
        found: list[str] = []
        for start in range(0, len(keys), _IN_LIST_CHUNK):
            chunk = list(keys[start : start + _IN_LIST_CHUNK])
            found.extend(
                self.connection.execute(
                    select(promotion_codes.c.code).where(
                        promotion_codes.c.store_id == store_id, promotion_codes.c.code_key.in_(chunk)
                    )
                ).scalars()
            )
        return found

    def add(
        self,
        *,
        store_id: str,
        promotion_id: str,
        codes: Sequence[tuple[str, NewCode]],
        created_by: str | None,
        now: datetime,
    ) -> None:
        """Insert manual codes, each with its new id."""
        if not codes:
            return
        self.connection.execute(
            insert(promotion_codes),
            [
                {
                    "id": code_id,
                    "store_id": store_id,
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
            ],
        )

    def add_random(
        self,
        *,
        store_id: str,
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
        # Both indexes the batch touches are random; inserting in key order visits each index page once
        # per batch instead of at random, which is what keeps big batches fast. (Ids and codes are
        # independent random values, so sorting each list separately pairs them no less randomly.)
        result = self.connection.execute(
            self.ops.insert_random_codes(),
            {
                "store_id": store_id,
                "promotion_id": promotion_id,
                "job_id": job_id,
                "prefix": prefix,
                "key_prefix": key_prefix,
                **self.ops.random_code_params(sorted(ids), sorted(bodies)),
                "max_uses": max_uses,
                "consume_unit": consume_unit,
                "created_by": created_by,
                "created_at": now,
            },
        )
        return int(result.rowcount)

    def list_page(
        self, store_id: str, promotion_id: str, page: Page, *, code_key: str | None = None
    ) -> tuple[list[PromotionCode], int]:
        """Return a page of a promotion's codes in creation order."""
        condition = and_(
            promotion_codes.c.store_id == store_id, promotion_codes.c.promotion_id == promotion_id
        )
        if code_key is not None:
            condition = and_(condition, promotion_codes.c.code_key == code_key)
        total = self.connection.execute(
            select(func.count()).select_from(promotion_codes).where(condition)
        ).scalar_one()
        rows = self.connection.execute(
            select(promotion_codes)
            .where(condition)
            .order_by(promotion_codes.c.seq)
            .limit(page.limit)
            .offset(page.offset)
        ).all()
        return [_code(row) for row in rows], int(total)

    def count(self, store_id: str, promotion_id: str) -> int:
        """Return how many codes a promotion has."""
        return int(
            self.connection.execute(
                select(func.count())
                .select_from(promotion_codes)
                .where(promotion_codes.c.store_id == store_id, promotion_codes.c.promotion_id == promotion_id)
            ).scalar_one()
        )

    def delete_by_keys(self, store_id: str, promotion_id: str, keys: Sequence[str]) -> int:
        """Delete the promotion's codes with these canonical keys; return how many went."""
        deleted = 0
        for start in range(0, len(keys), _IN_LIST_CHUNK):
            chunk = list(keys[start : start + _IN_LIST_CHUNK])
            deleted += self.connection.execute(
                delete(promotion_codes).where(
                    promotion_codes.c.store_id == store_id,
                    promotion_codes.c.promotion_id == promotion_id,
                    promotion_codes.c.code_key.in_(chunk),
                )
            ).rowcount
        return deleted

    def delete_by_ids(self, store_id: str, promotion_id: str, ids: Sequence[str]) -> int:
        """Delete the promotion's codes with these ids; return how many went."""
        deleted = 0
        for start in range(0, len(ids), _IN_LIST_CHUNK):
            chunk = list(ids[start : start + _IN_LIST_CHUNK])
            deleted += self.connection.execute(
                delete(promotion_codes).where(
                    promotion_codes.c.store_id == store_id,
                    promotion_codes.c.promotion_id == promotion_id,
                    promotion_codes.c.id.in_(chunk),
                )
            ).rowcount
        return deleted

    def delete_all(self, store_id: str, promotion_id: str) -> int:
        """Delete every code of a promotion; return how many went."""
        return int(
            self.connection.execute(
                delete(promotion_codes).where(
                    promotion_codes.c.store_id == store_id, promotion_codes.c.promotion_id == promotion_id
                )
            ).rowcount
        )

    def delete_job_batch(self, promotion_id: str, job_id: str, batch: int) -> int:
        """Delete up to `batch` codes a job generated; return how many went."""
        victims = (
            select(promotion_codes.c.seq)
            .where(promotion_codes.c.promotion_id == promotion_id, promotion_codes.c.job_id == job_id)
            .order_by(promotion_codes.c.seq)
            .limit(batch)
        )
        return int(
            self.connection.execute(
                delete(promotion_codes).where(promotion_codes.c.seq.in_(victims.scalar_subquery()))
            ).rowcount
        )

    def refresh_statistics(self) -> None:
        """Tell the query planner about a bulk change to the codes table."""
        self.ops.refresh_statistics(self.connection, promotion_codes.name)

    def export_csv_chunks(
        self, store_id: str, promotion_id: str, rows_per_chunk: int
    ) -> Iterator[tuple[bytes, int]]:
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
                {"store_id": store_id, "promotion_id": promotion_id, "after": after, "limit": rows_per_chunk},
            ).one()
            if not count:
                return
            yield bytes(data), int(count)
            after = int(last_seq)


class JobRepository:
    """Jobs (the queue) and export files."""

    def __init__(self, connection: Connection, ops: DialectOps) -> None:
        self.connection = connection
        self.ops = ops

    def add(self, job: Job) -> None:
        """Insert a job; the one-active-job index refuses a second active job on the promotion."""
        self.connection.execute(insert(promotion_jobs).values(**_job_values(job)))

    def get(self, store_id: str, promotion_id: str, job_id: str) -> Job | None:
        """Return one job of a store's promotion."""
        row = self.connection.execute(
            select(promotion_jobs).where(
                promotion_jobs.c.store_id == store_id,
                promotion_jobs.c.promotion_id == promotion_id,
                promotion_jobs.c.id == job_id,
            )
        ).first()
        return _job(row) if row else None

    def by_id(self, job_id: str) -> Job | None:
        """Return a job by id, for the worker that holds it."""
        row = self.connection.execute(select(promotion_jobs).where(promotion_jobs.c.id == job_id)).first()
        return _job(row) if row else None

    def list_page(
        self,
        store_id: str,
        promotion_id: str,
        page: Page,
        *,
        job_type: JobType | None = None,
        status: JobStatus | None = None,
    ) -> tuple[list[Job], int]:
        """Return a page of a promotion's jobs, newest first."""
        condition = and_(promotion_jobs.c.store_id == store_id, promotion_jobs.c.promotion_id == promotion_id)
        if job_type is not None:
            condition = and_(condition, promotion_jobs.c.job_type == job_type.value)
        if status is not None:
            condition = and_(condition, promotion_jobs.c.status == status.value)
        total = self.connection.execute(
            select(func.count()).select_from(promotion_jobs).where(condition)
        ).scalar_one()
        rows = self.connection.execute(
            select(promotion_jobs)
            .where(condition)
            .order_by(promotion_jobs.c.created_at.desc(), promotion_jobs.c.id)
            .limit(page.limit)
            .offset(page.offset)
        ).all()
        return [_job(row) for row in rows], int(total)

    def set_status_if(
        self, store_id: str, job_id: str, *, expected: JobStatus, target: JobStatus, now: datetime
    ) -> bool:
        """Move a job from `expected` to `target` unless it moved meanwhile; tell whether it did."""
        result = self.connection.execute(
            update(promotion_jobs)
            .where(
                promotion_jobs.c.store_id == store_id,
                promotion_jobs.c.id == job_id,
                promotion_jobs.c.status == expected.value,
            )
            .values(status=target.value, updated_at=now)
        )
        return result.rowcount == 1

    def claim(self, owner: str, now: datetime, lease_until: datetime) -> str | None:
        """Lease the oldest claimable job to `owner`; return its id."""
        row = self.connection.execute(
            self.ops.claim_next_job(), {"owner": owner, "now": now, "lease_until": lease_until}
        ).first()
        return str(row[0]) if row else None

    def renew_lease(self, job_id: str, owner: str, until: datetime) -> bool:
        """Extend the lease `owner` holds on an active job; tell whether it still holds it."""
        result = self.connection.execute(
            update(promotion_jobs)
            .where(
                promotion_jobs.c.id == job_id,
                promotion_jobs.c.lease_owner == owner,
                promotion_jobs.c.status.in_([s.value for s in (JobStatus.PROCESSING, JobStatus.CANCELLING)]),
            )
            .values(lease_expires_at=until)
        )
        return result.rowcount == 1

    def update_held(self, job_id: str, owner: str, expected: JobStatus, **values: Any) -> bool:
        """Change a job `owner` holds in status `expected`; tell whether it did (lease and status intact)."""
        result = self.connection.execute(
            update(promotion_jobs)
            .where(
                promotion_jobs.c.id == job_id,
                promotion_jobs.c.lease_owner == owner,
                promotion_jobs.c.status == expected.value,
            )
            .values(**values)
        )
        return result.rowcount == 1

    def add_generated(
        self, job_id: str, owner: str, count: int, now: datetime, lease_until: datetime
    ) -> bool:
        """Record `count` more generated codes if `owner` still holds the processing job."""
        return self.update_held(
            job_id,
            owner,
            JobStatus.PROCESSING,
            generated=promotion_jobs.c.generated + count,
            progress_done=promotion_jobs.c.progress_done + count,
            lease_expires_at=lease_until,
            updated_at=now,
        )

    def add_deleted(self, job_id: str, owner: str, expected: JobStatus, count: int) -> bool:
        """Record `count` more codes removed while undoing a job `owner` holds."""
        return self.update_held(
            job_id, owner, expected, deleted=func.coalesce(promotion_jobs.c.deleted, 0) + count
        )

    def release(self, job_id: str, owner: str) -> None:
        """Drop `owner`'s lease so any worker can claim the job now; the hand-back is not an attempt."""
        self.connection.execute(
            update(promotion_jobs)
            .where(
                promotion_jobs.c.id == job_id,
                promotion_jobs.c.lease_owner == owner,
                promotion_jobs.c.status.in_([s.value for s in (JobStatus.PROCESSING, JobStatus.CANCELLING)]),
            )
            .values(
                lease_owner=None,
                lease_expires_at=None,
                attempts=case((promotion_jobs.c.attempts > 0, promotion_jobs.c.attempts - 1), else_=0),
            )
        )

    def add_file_part(self, job_id: str, part: int, data: bytes) -> None:
        """Store one part of an export file."""
        self.connection.execute(insert(job_files).values(job_id=job_id, part=part, data=data))

    def delete_file_parts(self, job_id: str) -> None:
        """Drop any parts of an export file (a restarted export writes them afresh)."""
        self.connection.execute(delete(job_files).where(job_files.c.job_id == job_id))

    def file_part_numbers(self, job_id: str) -> list[int]:
        """Return the part numbers of an export file in order."""
        return [
            int(part)
            for part in self.connection.execute(
                select(job_files.c.part).where(job_files.c.job_id == job_id).order_by(job_files.c.part)
            ).scalars()
        ]

    def file_part(self, job_id: str, part: int) -> bytes:
        """Return one part of an export file."""
        data = self.ops.read_file_part(self.connection, job_id, part)
        if data is None:
            raise LookupError(f"part {part} of job {job_id} is missing")
        return data


def _store_values(store: Store) -> dict[str, Any]:
    return {
        "id": store.id,
        "name": store.name,
        "client_id": store.client_id,
        "client_secret_hash": store.client_secret_hash,
        "max_codes_per_promotion": store.max_codes_per_promotion,
        "created_at": store.created_at,
        "updated_at": store.updated_at,
    }


def _store(row: Row[Any]) -> Store:
    m = row._mapping
    return Store(
        id=str(m["id"]),
        name=m["name"],
        client_id=m["client_id"],
        client_secret_hash=m["client_secret_hash"],
        max_codes_per_promotion=int(m["max_codes_per_promotion"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _attribute_values(a: PromotionAttributes) -> dict[str, Any]:
    """The attributes stored the same way in a promotion row and in a version document."""
    return {
        "name": a.name,
        "description": a.description,
        "enabled": a.enabled,
        "automatic": a.automatic,
        "promotion_type": a.promotion_type,
        "schema": a.schema,
        "min_cart_value": a.min_cart_value,
        "max_discount_value": a.max_discount_value,
        "max_applications_per_cart": a.max_applications_per_cart,
    }


def _promotion_values(promotion: Promotion) -> dict[str, Any]:
    a = promotion.attributes
    return {
        "id": promotion.id,
        "store_id": promotion.store_id,
        **_attribute_values(a),
        "starts_at": a.start,
        "ends_at": a.end,
        "created_by": promotion.created_by,
        "updated_by": promotion.updated_by,
        "code_count": promotion.code_count,
        "version": promotion.version,
        "created_at": promotion.created_at,
        "updated_at": promotion.updated_at,
    }


def _attributes(m: Any) -> PromotionAttributes:
    return PromotionAttributes(
        name=m["name"],
        description=m["description"],
        enabled=bool(m["enabled"]),
        automatic=bool(m["automatic"]),
        promotion_type=m["promotion_type"],
        schema=m["schema"],
        start=m["starts_at"],
        end=m["ends_at"],
        min_cart_value=m["min_cart_value"],
        max_discount_value=m["max_discount_value"],
        max_applications_per_cart=m["max_applications_per_cart"],
    )


def _promotion(row: Row[Any]) -> Promotion:
    m = row._mapping
    return Promotion(
        id=str(m["id"]),
        store_id=str(m["store_id"]),
        attributes=_attributes(m),
        created_by=m["created_by"],
        updated_by=m["updated_by"],
        code_count=int(m["code_count"]),
        version=int(m["version"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _version_document(promotion: Promotion) -> dict[str, Any]:
    a = promotion.attributes
    return {
        **_attribute_values(a),
        "starts_at": a.start.isoformat(),
        "ends_at": a.end.isoformat(),
        "created_by": promotion.created_by,
        "updated_by": promotion.updated_by,
        "promotion_created_at": promotion.created_at.isoformat(),
    }


def _version(row: Row[Any]) -> PromotionVersion:
    m = row._mapping
    doc = dict(m["attributes"])
    doc["starts_at"] = datetime.fromisoformat(doc["starts_at"])
    doc["ends_at"] = datetime.fromisoformat(doc["ends_at"])
    return PromotionVersion(
        promotion_id=str(m["promotion_id"]),
        version=int(m["version"]),
        attributes=_attributes(doc),
        created_by=doc.get("created_by"),
        updated_by=doc.get("updated_by"),
        promotion_created_at=datetime.fromisoformat(doc["promotion_created_at"]),
        created_at=m["created_at"],
    )


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


def _job_values(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "store_id": job.store_id,
        "promotion_id": job.promotion_id,
        "job_type": job.job_type.value,
        "name": job.name,
        "parameters": job.parameters,
        "status": job.status.value,
        "error": job.error,
        "created_by": job.created_by,
        "capacity_reserved": job.capacity_reserved,
        "generated": job.generated,
        "deleted": job.deleted,
        "progress_done": job.progress_done,
        "progress_total": job.progress_total,
        "lease_owner": job.lease_owner,
        "lease_expires_at": job.lease_expires_at,
        "attempts": job.attempts,
        "file_name": job.file_name,
        "file_size": job.file_size,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    }


def _job(row: Row[Any]) -> Job:
    m = row._mapping
    return Job(
        id=str(m["id"]),
        store_id=str(m["store_id"]),
        promotion_id=str(m["promotion_id"]),
        job_type=JobType(m["job_type"]),
        name=m["name"],
        parameters=m["parameters"],
        status=JobStatus(m["status"]),
        error=m["error"],
        created_by=m["created_by"],
        capacity_reserved=bool(m["capacity_reserved"]),
        generated=int(m["generated"]),
        deleted=None if m["deleted"] is None else int(m["deleted"]),
        progress_done=int(m["progress_done"]),
        progress_total=int(m["progress_total"]),
        lease_owner=m["lease_owner"],
        lease_expires_at=m["lease_expires_at"],
        attempts=int(m["attempts"]),
        file_name=m["file_name"],
        file_size=None if m["file_size"] is None else int(m["file_size"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )
