"""The promotion_purge job: removes a deleted promotion's codes in bounded batches, then the rest of it."""

from __future__ import annotations

from promoforge.domain.jobs import Job
from promoforge.jobs.context import JobContext
from promoforge.services import job_runs


def run_promotion_purge(ctx: JobContext, job: Job) -> None:
    """Delete the codes batch by batch (each a short transaction), then history, jobs and files at once."""
    while job_runs.purge_promotion_batch(
        ctx.db, job=job, owner=ctx.owner, batch=ctx.settings.purge_batch_rows, lease_until=ctx.lease_until()
    ):
        ctx.step_done()
    job_runs.complete_promotion_purge(ctx.db, job=job, owner=ctx.owner, now=ctx.clock())
