"""Job use cases seen from a worker: claim, lease, and each step of generating, exporting, purging, undoing.

Every step is one transaction that also checks the worker still holds the job (same lease owner, expected
status). A step that finds otherwise raises JobLost and changes nothing, so a job taken over by another
worker, or cancelled meanwhile, is never written to twice.

Locks are taken in the order of docs/adr/0007: promotion, then job, then codes, then files. A step that
changes a promotion's code counter locks the promotion before the job; a generation batch locks only its
job row (with a read lock, so that PostgreSQL does not re-check the job's foreign key on the promotion).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from promoforge.domain.integrations import events
from promoforge.domain.jobs import (
    CODES_LIMIT_EXCEEDED,
    DEFAULT_EXPORT_RETENTION_DAYS,
    GenerateParameters,
    Job,
    JobStatus,
    JobType,
    move,
)
from promoforge.storage.repositories import StoreScope, Transactor
from promoforge.storage.repositories.outbox import LazySubject


class JobLost(Exception):
    """The worker no longer holds the job (lease taken over, or status changed by a cancel or a delete)."""


def claim_next_job(uow: Transactor, *, owner: str, now: datetime, lease_seconds: float) -> Job | None:
    """Lease the oldest job that is pending, or whose worker stopped renewing its lease, and is due."""
    with uow.write() as tx:
        claimed = tx.queue.claim(owner, now, now + timedelta(seconds=lease_seconds))
        if claimed is None:
            return None
        job_id, store_id = claimed
        return tx.store(store_id).jobs.by_id(job_id)


def current_job(uow: Transactor, *, job: Job) -> Job | None:
    """Re-read a job."""
    with uow.read() as tx:
        return tx.store(job.store_id).jobs.by_id(job.id)


def renew_lease(uow: Transactor, *, job: Job, owner: str, until: datetime) -> bool:
    """Extend the worker's lease; tell whether it still holds the job."""
    with uow.write() as tx:
        return tx.store(job.store_id).jobs.renew_lease(job.id, owner, until)


def release_lease(uow: Transactor, *, job: Job, owner: str, run_after: datetime | None = None) -> None:
    """Give a job back: at once (on a graceful stop), or to be retried from `run_after` on."""
    with uow.write() as tx:
        tx.store(job.store_id).jobs.release(job.id, owner, run_after=run_after)


def _held(updated: bool) -> None:
    if not updated:
        raise JobLost


def _settle(
    repos: StoreScope,
    job: Job,
    owner: str,
    current: JobStatus,
    target: JobStatus,
    now: datetime,
    **values: object,
) -> None:
    """Move a held job to its final status (checked against the state machine) and drop the lease; a code
    job that ends records its event (integrations §7.2)."""
    _held(
        repos.jobs.update_held(
            job.id,
            owner,
            current,
            status=move(current, target).value,
            lease_owner=None,
            lease_expires_at=None,
            run_after=None,
            updated_at=now,
            **values,
        )
    )
    record_job_event(repos, job.id, job.job_type, target, now)


JOB_EVENTS = {
    JobStatus.COMPLETED: events.PROMOTION_JOB_COMPLETED,
    JobStatus.FAILED: events.PROMOTION_JOB_FAILED,
    JobStatus.CANCELLED: events.PROMOTION_JOB_CANCELLED,
}


def record_job_event(
    repos: StoreScope, job_id: str, job_type: JobType, status: JobStatus, now: datetime
) -> None:
    """`promotion-job.<status>` for a code generation or export that reached `status`."""
    key = JOB_EVENTS.get(status)
    if key is None or job_type not in (JobType.CODE_GENERATE, JobType.CODE_EXPORT):
        return
    repos.outbox.record_observed(repos.store_id, key, LazySubject(lambda: repos.jobs.by_id(job_id)), now)


def fail_job(uow: Transactor, *, job: Job, owner: str, status: JobStatus, error: str, now: datetime) -> None:
    """End a held job as failed with a readable reason (its work already undone)."""
    with uow.write() as tx:
        _settle(tx.store(job.store_id), job, owner, status, JobStatus.FAILED, now, error=error)


def reserve_generation(uow: Transactor, *, job: Job, owner: str, total: int, now: datetime) -> bool:
    """Count the job's codes against the promotion's limit, once; fail the job if they do not fit."""
    with uow.write() as tx:
        repos = tx.store(job.store_id)
        if repos.promotions.reserve_codes(job.promotion_id, total):
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
    uow: Transactor,
    *,
    job: Job,
    owner: str,
    parameters: GenerateParameters,
    prefix: str,
    key_prefix: str,
    bodies: Sequence[str],
    now: datetime,
    lease_until: datetime,
    on_send: Callable[[], object] = lambda: None,
) -> int:
    """Insert one batch of random codes (clashes skipped) and count them on the job, atomically;
    `on_send` is called as the codes start going to the database."""
    # The batch's code numbers are taken in a short transaction of their own, so the batch itself locks
    # only its job row and never holds up a manual add or a change of the promotion (docs/adr/0007,
    # 0012). A promotion that is gone ends the job's hold here; numbers of a batch undone later are skipped.
    # Neither commit waits for the disk: a crash loses a batch together with its count, and the job
    # resumes from the count; the commit that completes the job waits, making every batch durable.
    with uow.write() as tx:
        tx.defer_durability()
        numbers = tx.store(job.store_id).promotions.take_code_numbers(job.promotion_id, len(bodies))
    if numbers is None:
        raise JobLost
    promotion_ref, first_number = numbers
    with uow.write() as tx:
        tx.defer_durability()
        repos = tx.store(job.store_id)
        # The job row first: a lost lease, a cancel or a deleted promotion is found before any insert,
        # and a delete of the promotion (which cancels this row) waits for this batch to commit.
        _held(repos.jobs.lock_held(job.id, owner, JobStatus.PROCESSING))
        inserted = repos.codes.add_random(
            promotion_ref=promotion_ref,
            first_number=first_number,
            job_id=job.id,
            prefix=prefix,
            key_prefix=key_prefix,
            bodies=bodies,
            max_uses=parameters.max_uses_per_code,
            consume_unit=parameters.consume_unit.value,
            created_at=job.created_at,
            on_send=on_send,
        )
        _held(repos.jobs.add_generated(job.id, owner, inserted, now, lease_until))
        return inserted


def complete_generation(uow: Transactor, *, job: Job, owner: str, generated: int, now: datetime) -> None:
    """Mark a generation job completed."""
    with uow.write() as tx:
        _settle(
            tx.store(job.store_id),
            job,
            owner,
            JobStatus.PROCESSING,
            JobStatus.COMPLETED,
            now,
            progress_done=generated,
        )


def complete_export(
    uow: Transactor, *, job: Job, owner: str, file_name: str, file_size: int, rows: int, now: datetime
) -> None:
    """Mark an export job completed, with its file, kept for the store's export retention."""
    with uow.write() as tx:
        store = tx.stores.get(job.store_id)
        retention = timedelta(days=store.export_retention_days if store else DEFAULT_EXPORT_RETENTION_DAYS)
        _settle(
            tx.store(job.store_id),
            job,
            owner,
            JobStatus.PROCESSING,
            JobStatus.COMPLETED,
            now,
            file_name=file_name,
            file_size=file_size,
            progress_done=rows,
            file_expires_at=now + retention,
        )


def refresh_code_statistics(uow: Transactor, *, job: Job) -> None:
    """Let the query planner see codes added in bulk, so listing and exporting them stay fast."""
    with uow.write() as tx:
        tx.store(job.store_id).codes.refresh_statistics()


def delete_generated_batch(uow: Transactor, *, job: Job, owner: str, status: JobStatus, batch: int) -> int:
    """Delete up to `batch` codes the job made, releasing them from the promotion's count."""
    with uow.write() as tx:
        repos = tx.store(job.store_id)
        if not repos.promotions.lock(job.promotion_id):
            raise JobLost
        deleted = repos.codes.delete_batch(job.promotion_id, batch, job_id=job.id)
        repos.promotions.release_codes(job.promotion_id, deleted)
        _held(repos.jobs.add_deleted(job.id, owner, status, deleted))
        return deleted


def end_undone_job(
    uow: Transactor,
    *,
    job: Job,
    owner: str,
    status: JobStatus,
    target: JobStatus,
    now: datetime,
    error: str | None,
) -> None:
    """Close a job whose work has been undone: give back unused reserved capacity, set its final status."""
    with uow.write() as tx:
        repos = tx.store(job.store_id)
        # A deleted promotion has no counter left to give capacity back to (and no lock to take).
        promotion_live = repos.promotions.lock(job.promotion_id)
        latest = repos.jobs.by_id(job.id)
        if latest is None or latest.lease_owner != owner or latest.status is not status:
            raise JobLost
        if latest.capacity_reserved and promotion_live:
            total = int((latest.parameters or {}).get("number_of_codes", 0))
            repos.promotions.release_codes(job.promotion_id, max(total - latest.generated, 0))
        repos.jobs.delete_file_parts(job.id)
        _settle(
            repos,
            latest,
            owner,
            status,
            target,
            now,
            error=error,
            deleted=latest.deleted or 0,
            capacity_reserved=False,
        )


def begin_export(uow: Transactor, *, job: Job, owner: str, now: datetime) -> int:
    """Start (or restart) an export: drop any earlier parts and note how many codes there are to write."""
    with uow.write() as tx:
        repos = tx.store(job.store_id)
        promotion = repos.promotions.get(job.promotion_id)
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
    uow: Transactor, *, job: Job, rows_per_chunk: int
) -> Iterator[Iterator[tuple[bytes, int]]]:
    """Stream a promotion's codes as chunks of CSV lines from one consistent read."""
    with uow.read() as tx:
        yield tx.store(job.store_id).codes.export_csv_chunks(job.promotion_id, rows_per_chunk)


def store_export_part(
    uow: Transactor, *, job: Job, owner: str, part: int, data: bytes, rows_done: int, lease_until: datetime
) -> None:
    """Store one part of the export file and record progress."""
    with uow.write() as tx:
        repos = tx.store(job.store_id)
        _held(
            repos.jobs.update_held(
                job.id, owner, JobStatus.PROCESSING, progress_done=rows_done, lease_expires_at=lease_until
            )
        )
        repos.jobs.add_file_part(job.id, part, data)


def purge_promotion_batch(uow: Transactor, *, job: Job, owner: str, batch: int, lease_until: datetime) -> int:
    """Delete up to `batch` codes of a deleted promotion, counting them on its purge job."""
    with uow.write() as tx:
        repos = tx.store(job.store_id)
        _held(repos.jobs.lock_held(job.id, owner, JobStatus.PROCESSING))
        deleted = repos.codes.delete_batch(job.promotion_id, batch)
        _held(repos.jobs.add_progress(job.id, owner, deleted, lease_until))
        return deleted


def complete_promotion_purge(uow: Transactor, *, job: Job, owner: str, now: datetime) -> None:
    """Remove what is left of a deleted promotion (history, other jobs, files), then end the purge."""
    with uow.write() as tx:
        repos = tx.store(job.store_id)
        repos.promotions.forget_history(job.promotion_id)
        repos.jobs.delete_others_of_promotion(job.promotion_id, keep_job_id=job.id)
        _settle(repos, job, owner, JobStatus.PROCESSING, JobStatus.COMPLETED, now)
