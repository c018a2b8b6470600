"""What the metrics endpoint reads from the database at scrape time."""

from __future__ import annotations

from datetime import datetime

from promoforge.domain.health import QueuedJobs
from promoforge.domain.jobs import JobStatus
from promoforge.storage.repositories import Transactor


def job_queue(uow: Transactor, *, now: datetime) -> list[QueuedJobs]:
    """Per job type: jobs waiting, jobs held by a worker, and how long the oldest has waited."""
    with uow.read() as tx:
        rows = tx.queue.active_by_type()
    pending: dict[str, int] = {}
    running: dict[str, int] = {}
    oldest: dict[str, datetime] = {}
    for job_type, status, count, created_at in rows:
        if status == JobStatus.PENDING.value:
            pending[job_type] = pending.get(job_type, 0) + count
            oldest[job_type] = created_at
        else:
            running[job_type] = running.get(job_type, 0) + count
    waited = {job_type: max(0.0, (now - created).total_seconds()) for job_type, created in oldest.items()}
    return [
        QueuedJobs(job_type, pending.get(job_type, 0), running.get(job_type, 0), waited.get(job_type, 0.0))
        for job_type in sorted(pending.keys() | running.keys())
    ]
