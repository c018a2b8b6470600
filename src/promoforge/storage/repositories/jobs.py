"""Jobs: a store's jobs and their export files, the queue workers claim jobs from, and expired files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    and_,
    case,
    delete,
    func,
    insert,
    select,
    tuple_,
    update,
)

from promoforge.domain.jobs import (
    ACTIVE_STATUSES,
    PUBLIC_JOB_TYPES,
    Job,
    JobStatus,
    JobType,
    generate_parameters_from,
)
from promoforge.domain.queries import Page
from promoforge.storage.dialects import DialectOps
from promoforge.storage.repositories.paging import count_and_page
from promoforge.storage.schema import job_files, promotion_jobs

_HELD_STATUSES = [JobStatus.PROCESSING.value, JobStatus.CANCELLING.value]


class JobQueue:
    """The job table seen as a queue, across stores: only workers claim from it."""

    def __init__(self, connection: Connection, ops: DialectOps) -> None:
        self.connection = connection
        self.ops = ops

    def claim(self, owner: str, now: datetime, lease_until: datetime) -> tuple[str, str] | None:
        """Lease the oldest claimable job to `owner`; return its id and its store's id."""
        row = self.connection.execute(
            self.ops.claim_next_job(), {"owner": owner, "now": now, "lease_until": lease_until}
        ).first()
        return (str(row[0]), str(row[1])) if row else None

    def active_by_type(self) -> list[tuple[str, str, int, datetime]]:
        """Each job type and active status with its count of jobs and the oldest one's creation time."""
        query = (
            select(
                promotion_jobs.c.job_type,
                promotion_jobs.c.status,
                func.count(),
                func.min(promotion_jobs.c.created_at),
            )
            .where(promotion_jobs.c.status.in_([status.value for status in ACTIVE_STATUSES]))
            .group_by(promotion_jobs.c.job_type, promotion_jobs.c.status)
        )
        return [(row[0], row[1], int(row[2]), row[3]) for row in self.connection.execute(query)]


class ExpiredExports:
    """Export files past their expiry, across stores: only idle workers delete them."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def purge_parts(self, now: datetime, batch: int) -> int:
        """Delete up to `batch` parts of files expired by `now`; mark files with no part left as gone.

        Jobs are locked before their parts (docs/adr/0007), and both with SKIP LOCKED: rows another
        transaction holds (another purge, a promotion purge's last step) are left for a later round, so
        this never waits on a lock and cannot take part in a deadlock.
        """
        jobs = (
            self.connection.execute(
                select(promotion_jobs.c.id)
                .where(promotion_jobs.c.file_expires_at <= now, promotion_jobs.c.file_size.is_not(None))
                .order_by(promotion_jobs.c.file_expires_at, promotion_jobs.c.id)
                .limit(batch)
                .with_for_update(key_share=True, skip_locked=True)
            )
            .scalars()
            .all()
        )
        if not jobs:
            return 0
        parts = [
            (row.job_id, row.part)
            for row in self.connection.execute(
                select(job_files.c.job_id, job_files.c.part)
                .where(job_files.c.job_id.in_(jobs))
                .order_by(job_files.c.job_id, job_files.c.part)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ]
        if parts:
            self.connection.execute(
                delete(job_files).where(tuple_(job_files.c.job_id, job_files.c.part).in_(parts))
            )
        left = select(job_files.c.job_id).where(job_files.c.job_id == promotion_jobs.c.id).exists()
        self.connection.execute(
            update(promotion_jobs).where(promotion_jobs.c.id.in_(jobs), ~left).values(file_size=None)
        )
        return len(parts)


class JobRepository:
    """Jobs of one store (the rows are also the queue entries) and their export files."""

    def __init__(self, connection: Connection, ops: DialectOps, store_id: str) -> None:
        self.connection = connection
        self.ops = ops
        self.store_id = store_id

    def _job(self, job_id: str) -> ColumnElement[bool]:
        return and_(promotion_jobs.c.store_id == self.store_id, promotion_jobs.c.id == job_id)

    def _held(self, job_id: str, owner: str) -> ColumnElement[bool]:
        return and_(self._job(job_id), promotion_jobs.c.lease_owner == owner)

    def _owned_file(self, job_id: str) -> ColumnElement[bool]:
        store_jobs = select(promotion_jobs.c.id).where(self._job(job_id))
        return and_(job_files.c.job_id == job_id, job_files.c.job_id.in_(store_jobs.scalar_subquery()))

    def add(self, job: Job) -> None:
        """Insert a job; the one-active-job index refuses a second active job on the promotion."""
        self.connection.execute(
            insert(promotion_jobs).values(**_job_values(job), **self.ops.new_ref(promotion_jobs))
        )

    def get(self, promotion_id: str, job_id: str, *, for_update: bool = False) -> Job | None:
        """Return one of a promotion's jobs, as the API shows them (internal jobs are not shown)."""
        query = select(promotion_jobs).where(
            self._job(job_id),
            promotion_jobs.c.promotion_id == promotion_id,
            promotion_jobs.c.job_type.in_([t.value for t in PUBLIC_JOB_TYPES]),
        )
        if for_update:
            query = query.with_for_update(key_share=True)
        row = self.connection.execute(query).first()
        return _job(row) if row else None

    def by_id(self, job_id: str, *, for_update: bool = False) -> Job | None:
        """Return a job by id; `for_update` locks its row until the transaction ends."""
        query = select(promotion_jobs).where(self._job(job_id))
        if for_update:
            query = query.with_for_update(key_share=True)
        row = self.connection.execute(query).first()
        return _job(row) if row else None

    def list_page(
        self,
        promotion_id: str,
        page: Page,
        *,
        job_type: JobType | None = None,
        status: JobStatus | None = None,
    ) -> tuple[list[Job], int]:
        """Return a page of a promotion's jobs, newest first."""
        condition = and_(
            promotion_jobs.c.store_id == self.store_id,
            promotion_jobs.c.promotion_id == promotion_id,
            promotion_jobs.c.job_type.in_([t.value for t in PUBLIC_JOB_TYPES]),
        )
        if job_type is not None:
            condition = and_(condition, promotion_jobs.c.job_type == job_type.value)
        if status is not None:
            condition = and_(condition, promotion_jobs.c.status == status.value)
        return count_and_page(
            self.connection,
            promotion_jobs,
            condition,
            (promotion_jobs.c.created_at.desc(), promotion_jobs.c.id),
            page,
            _job,
        )

    def set_status(self, job_id: str, target: JobStatus, now: datetime) -> None:
        """Give a job (locked by the caller) a new status."""
        self.connection.execute(
            update(promotion_jobs).where(self._job(job_id)).values(status=target.value, updated_at=now)
        )

    def cancel_active(self, promotion_id: str, now: datetime) -> int:
        """End a promotion's active jobs as cancelled, taking them from their workers; return how many."""
        result = self.connection.execute(
            update(promotion_jobs)
            .where(
                promotion_jobs.c.store_id == self.store_id,
                promotion_jobs.c.promotion_id == promotion_id,
                promotion_jobs.c.status.in_([s.value for s in ACTIVE_STATUSES]),
            )
            .values(status=JobStatus.CANCELLED.value, lease_owner=None, lease_expires_at=None, updated_at=now)
        )
        return int(result.rowcount)

    def delete_others_of_promotion(self, promotion_id: str, keep_job_id: str) -> None:
        """Delete a promotion's jobs and their files, except one (the purge that is running)."""
        doomed = select(promotion_jobs.c.id).where(
            promotion_jobs.c.store_id == self.store_id,
            promotion_jobs.c.promotion_id == promotion_id,
            promotion_jobs.c.id != keep_job_id,
        )
        self.connection.execute(delete(job_files).where(job_files.c.job_id.in_(doomed.scalar_subquery())))
        self.connection.execute(
            delete(promotion_jobs).where(promotion_jobs.c.id.in_(doomed.scalar_subquery()))
        )

    def renew_lease(self, job_id: str, owner: str, until: datetime) -> bool:
        """Extend the lease `owner` holds on an active job; tell whether it still holds it."""
        result = self.connection.execute(
            update(promotion_jobs)
            .where(self._held(job_id, owner), promotion_jobs.c.status.in_(_HELD_STATUSES))
            .values(lease_expires_at=until)
        )
        return result.rowcount == 1

    def update_held(self, job_id: str, owner: str, expected: JobStatus, **values: Any) -> bool:
        """Change a job `owner` holds in status `expected`; tell whether it did (lease and status intact)."""
        result = self.connection.execute(
            update(promotion_jobs)
            .where(self._held(job_id, owner), promotion_jobs.c.status == expected.value)
            .values(**values)
        )
        return result.rowcount == 1

    def lock_held(self, job_id: str, owner: str, expected: JobStatus) -> bool:
        """Lock a job `owner` holds in status `expected` without writing it; tell whether it still holds it.

        Locking with a read rather than an UPDATE keeps the transaction's later UPDATE of the row its first
        write, so PostgreSQL skips re-checking the job's foreign key (which would lock the promotion).
        """
        query = (
            select(promotion_jobs.c.id)
            .where(self._held(job_id, owner), promotion_jobs.c.status == expected.value)
            .with_for_update(key_share=True)
        )
        return self.connection.execute(query).first() is not None

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

    def add_progress(self, job_id: str, owner: str, count: int, lease_until: datetime) -> bool:
        """Count `count` more units of work done on a processing job `owner` holds, renewing its lease."""
        return self.update_held(
            job_id,
            owner,
            JobStatus.PROCESSING,
            progress_done=promotion_jobs.c.progress_done + count,
            lease_expires_at=lease_until,
        )

    def add_deleted(self, job_id: str, owner: str, expected: JobStatus, count: int) -> bool:
        """Record `count` more codes removed while undoing a job `owner` holds."""
        return self.update_held(
            job_id, owner, expected, deleted=func.coalesce(promotion_jobs.c.deleted, 0) + count
        )

    def release(self, job_id: str, owner: str, *, run_after: datetime | None = None) -> None:
        """Drop `owner`'s lease so a worker can claim the job again, at once or from `run_after` on.

        A hand-back without `run_after` (a graceful stop) is not counted as an attempt; a retry is.
        """
        attempts: Any = promotion_jobs.c.attempts
        if run_after is None:
            attempts = case((promotion_jobs.c.attempts > 0, promotion_jobs.c.attempts - 1), else_=0)
        self.connection.execute(
            update(promotion_jobs)
            .where(self._held(job_id, owner), promotion_jobs.c.status.in_(_HELD_STATUSES))
            .values(lease_owner=None, lease_expires_at=None, run_after=run_after, attempts=attempts)
        )

    def add_file_part(self, job_id: str, part: int, data: bytes) -> None:
        """Store one part of an export file."""
        self.connection.execute(insert(job_files).values(job_id=job_id, part=part, data=data))

    def delete_file_parts(self, job_id: str) -> None:
        """Drop any parts of an export file (a restarted export writes them afresh)."""
        self.connection.execute(delete(job_files).where(self._owned_file(job_id)))

    def file_part_numbers(self, job_id: str) -> list[int]:
        """Return the part numbers of an export file in order."""
        return [
            int(part)
            for part in self.connection.execute(
                select(job_files.c.part).where(self._owned_file(job_id)).order_by(job_files.c.part)
            ).scalars()
        ]

    def file_part(self, job_id: str, part: int) -> bytes:
        """Return one part of an export file."""
        data = self.ops.read_file_part(self.connection, self.store_id, job_id, part)
        if data is None:
            raise LookupError(f"part {part} of job {job_id} is missing")
        return data


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
        "run_after": job.run_after,
        "attempts": job.attempts,
        "file_name": job.file_name,
        "file_size": job.file_size,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "file_expires_at": job.file_expires_at,
        "code_max_uses": (
            generate_parameters_from(job.parameters).max_uses_per_code
            if job.job_type is JobType.CODE_GENERATE
            else None
        ),
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
        run_after=m["run_after"],
        attempts=int(m["attempts"]),
        file_name=m["file_name"],
        file_size=None if m["file_size"] is None else int(m["file_size"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        file_expires_at=m["file_expires_at"],
    )
