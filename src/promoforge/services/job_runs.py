"""Job use cases seen from a worker: claim, lease, and each step of generating, exporting and undoing.

Every step is one transaction that also checks the worker still holds the job (same lease owner, expected
status). A step that finds otherwise raises JobLost and changes nothing, so a job taken over by another
worker, or cancelled meanwhile, is never written to twice.

Lock order, on PostgreSQL: a step that changes a promotion's codes counter locks the promotion row before
the job row, as deleting a promotion does; the generation step touches only the job row, first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from promoforge.domain.identifiers import new_ids
from promoforge.domain.jobs import CODES_LIMIT_EXCEEDED, GenerateParameters, JobStatus, move
from promoforge.domain.models import Job
from promoforge.storage.repositories import Database, Repositories


class JobLost(Exception):
    """The worker no longer holds the job (lease taken over, or status changed by a cancel)."""


def claim_next_job(db: Database, *, owner: str, now: datetime, lease_seconds: float) -> Job | None:
    """Lease the oldest job that is pending, or whose worker stopped renewing its lease."""
    with db.write() as repos:
        job_id = repos.jobs.claim(owner, now, now + timedelta(seconds=lease_seconds))
        return repos.jobs.by_id(job_id) if job_id else None


def current_job(db: Database, *, job_id: str) -> Job | None:
    """Re-read a job."""
    with db.read() as repos:
        return repos.jobs.by_id(job_id)


def renew_lease(db: Database, *, job_id: str, owner: str, until: datetime) -> bool:
    """Extend the worker's lease; tell whether it still holds the job."""
    with db.write() as repos:
        return repos.jobs.renew_lease(job_id, owner, until)


def release_lease(db: Database, *, job_id: str, owner: str) -> None:
    """Give a job back so another worker can take it at once (on graceful stop)."""
    with db.write() as repos:
        repos.jobs.release(job_id, owner)


def _held(updated: bool) -> None:
    if not updated:
        raise JobLost


def _settle(
    repos: Repositories,
    job: Job,
    owner: str,
    current: JobStatus,
    target: JobStatus,
    now: datetime,
    **values: object,
) -> None:
    """Move a held job to its final status (checked against the state machine) and drop the lease."""
    _held(
        repos.jobs.update_held(
            job.id,
            owner,
            current,
            status=move(current, target).value,
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
            **values,
        )
    )


def reserve_generation(db: Database, *, job: Job, owner: str, total: int, now: datetime) -> bool:
    """Count the job's codes against the promotion's limit, once; fail the job if they do not fit."""
    with db.write() as repos:
        if repos.promotions.reserve_codes(job.store_id, job.promotion_id, total):
            _held(
                repos.jobs.update_held(
                    job.id,
                    owner,
                    JobStatus.PROCESSING,
                    capacity_reserved=True,
                    progress_total=total,
                    updated_at=now,
                )
            )
            return True
        _settle(repos, job, owner, JobStatus.PROCESSING, JobStatus.FAILED, now, error=CODES_LIMIT_EXCEEDED)
        return False


def insert_generated_batch(
    db: Database,
    *,
    job: Job,
    owner: str,
    parameters: GenerateParameters,
    prefix: str,
    key_prefix: str,
    bodies: Sequence[str],
    now: datetime,
    lease_until: datetime,
) -> int:
    """Insert one batch of random codes (clashes skipped) and count them on the job, atomically."""
    with db.write() as repos:
        # Lock the job row first: a lost lease or a cancel is found before any insert, and a promotion
        # being deleted (which takes this row after the promotion) waits for this batch to commit.
        _held(repos.jobs.update_held(job.id, owner, JobStatus.PROCESSING, lease_expires_at=lease_until))
        inserted = repos.codes.add_random(
            store_id=job.store_id,
            promotion_id=job.promotion_id,
            job_id=job.id,
            prefix=prefix,
            key_prefix=key_prefix,
            ids=new_ids(len(bodies)),
            bodies=bodies,
            max_uses=parameters.max_uses_per_code,
            consume_unit=parameters.consume_unit.value,
            created_by=job.created_by,
            now=now,
        )
        _held(repos.jobs.add_generated(job.id, owner, inserted, now, lease_until))
        return inserted


def complete_generation(db: Database, *, job: Job, owner: str, generated: int, now: datetime) -> None:
    """Mark a generation job completed."""
    with db.write() as repos:
        _settle(repos, job, owner, JobStatus.PROCESSING, JobStatus.COMPLETED, now, progress_done=generated)


def complete_export(
    db: Database, *, job: Job, owner: str, file_name: str, file_size: int, rows: int, now: datetime
) -> None:
    """Mark an export job completed, with its file."""
    with db.write() as repos:
        _settle(
            repos,
            job,
            owner,
            JobStatus.PROCESSING,
            JobStatus.COMPLETED,
            now,
            file_name=file_name,
            file_size=file_size,
            progress_done=rows,
        )


def refresh_code_statistics(db: Database) -> None:
    """Let the query planner see codes added in bulk, so listing and exporting them stay fast."""
    with db.write() as repos:
        repos.codes.refresh_statistics()


def delete_generated_batch(db: Database, *, job: Job, owner: str, status: JobStatus, batch: int) -> int:
    """Delete up to `batch` codes the job made, releasing them from the promotion's count."""
    with db.write() as repos:
        if not repos.promotions.lock(job.store_id, job.promotion_id):
            raise JobLost
        deleted = repos.codes.delete_job_batch(job.promotion_id, job.id, batch)
        repos.promotions.release_codes(job.store_id, job.promotion_id, deleted)
        _held(repos.jobs.add_deleted(job.id, owner, status, deleted))
        return deleted


def end_undone_job(
    db: Database,
    *,
    job_id: str,
    owner: str,
    status: JobStatus,
    target: JobStatus,
    now: datetime,
    error: str | None,
) -> None:
    """Close a job whose work has been undone: give back unused reserved capacity, set its final status."""
    with db.write() as repos:
        job = repos.jobs.by_id(job_id)
        if job is None or job.lease_owner != owner or job.status is not status:
            raise JobLost
        if not repos.promotions.lock(job.store_id, job.promotion_id):
            raise JobLost
        if job.capacity_reserved:
            total = int((job.parameters or {}).get("number_of_codes", 0))
            repos.promotions.release_codes(job.store_id, job.promotion_id, max(total - job.generated, 0))
        repos.jobs.delete_file_parts(job.id)
        _settle(
            repos,
            job,
            owner,
            status,
            target,
            now,
            error=error,
            deleted=job.deleted or 0,
            capacity_reserved=False,
        )


def begin_export(db: Database, *, job: Job, owner: str, now: datetime) -> int:
    """Start (or restart) an export: drop any earlier parts and note how many codes there are to write."""
    with db.write() as repos:
        promotion = repos.promotions.get(job.store_id, job.promotion_id)
        # The counter rather than a count(*) over every code: no generation job can run beside this
        # export, so it is exact unless codes are added or deleted by hand meanwhile (progress only).
        total = promotion.code_count if promotion else 0
        _held(
            repos.jobs.update_held(
                job.id, owner, JobStatus.PROCESSING, progress_done=0, progress_total=total, updated_at=now
            )
        )
        repos.jobs.delete_file_parts(job.id)
        return total


@contextmanager
def export_csv_chunks(
    db: Database, *, job: Job, rows_per_chunk: int
) -> Iterator[Iterator[tuple[bytes, int]]]:
    """Stream a promotion's codes as chunks of CSV lines from one consistent read."""
    with db.read() as repos:
        yield repos.codes.export_csv_chunks(job.store_id, job.promotion_id, rows_per_chunk)


def store_export_part(
    db: Database, *, job: Job, owner: str, part: int, data: bytes, rows_done: int, lease_until: datetime
) -> None:
    """Store one part of the export file and record progress."""
    with db.write() as repos:
        _held(
            repos.jobs.update_held(
                job.id, owner, JobStatus.PROCESSING, progress_done=rows_done, lease_expires_at=lease_until
            )
        )
        repos.jobs.add_file_part(job.id, part, data)
