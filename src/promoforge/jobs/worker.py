"""The worker: claims jobs from the job table, holds a renewed lease while running them, stops gracefully."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable

from promoforge.config import Settings
from promoforge.domain.jobs import JobStatus, JobType
from promoforge.domain.models import Job
from promoforge.jobs.context import JobContext, WorkerStopping
from promoforge.jobs.export import run_export
from promoforge.jobs.generate import run_generate
from promoforge.services import job_runs
from promoforge.services.clock import Clock, utc_now
from promoforge.storage.repositories import Database

log = logging.getLogger("promoforge.worker")

MAX_ATTEMPTS = 5
UNDO_BATCH = 20_000


def _owner_name(index: int) -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{index}:{uuid.uuid4().hex[:8]}"


class _Heartbeat:
    """Renews a job's lease in the background while the job keeps finishing steps."""

    def __init__(self, ctx: JobContext, job_id: str) -> None:
        self._ctx = ctx
        self._job_id = job_id
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job_id[:8]}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        interval = self._ctx.settings.job_lease_seconds / 3
        while not self._done.wait(interval):
            idle = self._ctx.steps.idle_seconds()
            if idle > self._ctx.settings.job_stall_seconds:
                # A step that hangs must not keep the job forever: let the lease run out so that
                # another worker takes over (this worker's next write will find the job gone).
                log.error("job %s made no progress for %.0f s; letting its lease expire", self._job_id, idle)
                return
            try:
                if not job_runs.renew_lease(
                    self._ctx.db, job_id=self._job_id, owner=self._ctx.owner, until=self._ctx.lease_until()
                ):
                    return
            except Exception:  # a missed renewal is retried; the job's own steps detect a lost lease
                log.warning("could not renew the lease of job %s", self._job_id, exc_info=True)


class Worker:
    """Runs jobs on `concurrency` threads, each claiming one job at a time."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Clock = utc_now,
        concurrency: int = 1,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.concurrency = max(1, concurrency)
        self.stop_event = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def context(self, index: int = 0) -> JobContext:
        """A job context for one worker thread."""
        return JobContext(
            db=self.db,
            settings=self.settings,
            clock=self.clock,
            owner=_owner_name(index),
            stop=self.stop_event,
        )

    def start(self) -> None:
        """Start the claim loops in background threads."""
        for index in range(self.concurrency):
            thread = threading.Thread(target=self._loop, args=(index,), name=f"worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """Look for work now instead of at the next poll (a job was just queued in this process)."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Ask every loop to stop after its current step and wait for them."""
        self.stop_event.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = [t for t in self._threads if t.is_alive()]

    def run_forever(self) -> None:
        """Run the claim loops until stop() is called."""
        self.start()
        for thread in list(self._threads):
            while thread.is_alive():
                thread.join(0.5)

    def run_until_empty(self) -> int:
        """Run jobs in this thread until none is claimable; return how many were run."""
        ctx = self.context()
        count = 0
        while self.run_one(ctx):
            count += 1
        return count

    def run_one(self, ctx: JobContext) -> bool:
        """Claim one job and run it; tell whether there was one."""
        job = job_runs.claim_next_job(
            self.db, owner=ctx.owner, now=ctx.clock(), lease_seconds=self.settings.job_lease_seconds
        )
        if job is None:
            return False
        run_claimed_job(ctx, job)
        return True

    def _loop(self, index: int) -> None:
        ctx = self.context(index)
        while not self.stop_event.is_set():
            try:
                found = self.run_one(ctx)
            except Exception:
                log.exception("worker loop error; retrying")
                found = False
            if not found:
                self._wake.wait(self.settings.job_poll_seconds)
                self._wake.clear()


def run_claimed_job(ctx: JobContext, job: Job) -> None:
    """Run a job this worker has just claimed, and settle it whatever happens."""
    ctx.steps.mark()
    with _Heartbeat(ctx, job.id):
        try:
            _dispatch(ctx, job)
        except job_runs.JobLost:
            _after_lost(ctx, job)
        except WorkerStopping:
            job_runs.release_lease(ctx.db, job_id=job.id, owner=ctx.owner)
        except Exception as error:
            log.exception("job %s failed", job.id)
            _fail(ctx, job, f"internal error: {type(error).__name__}")


def _dispatch(ctx: JobContext, job: Job) -> None:
    if job.status is JobStatus.CANCELLING:
        _undo(ctx, job, JobStatus.CANCELLING, JobStatus.CANCELLED, None)
    elif job.attempts > MAX_ATTEMPTS:
        _undo(ctx, job, JobStatus.PROCESSING, JobStatus.FAILED, f"gave up after {MAX_ATTEMPTS} attempts")
    elif job.job_type is JobType.CODE_GENERATE:
        log.info("generating codes for job %s (attempt %d)", job.id, job.attempts)
        run_generate(ctx, job)
    else:
        log.info("exporting codes for job %s (attempt %d)", job.id, job.attempts)
        run_export(ctx, job)


def _after_lost(ctx: JobContext, job: Job) -> None:
    """A step found the job changed under it: undo it if it was cancelled, else leave it to its new owner."""
    latest = job_runs.current_job(ctx.db, job_id=job.id)
    if latest is not None and latest.status is JobStatus.CANCELLING and latest.lease_owner == ctx.owner:
        _settle(ctx, job, lambda: _undo(ctx, latest, JobStatus.CANCELLING, JobStatus.CANCELLED, None))


def _fail(ctx: JobContext, job: Job, reason: str) -> None:
    _settle(ctx, job, lambda: _undo(ctx, job, JobStatus.PROCESSING, JobStatus.FAILED, reason))


def _settle(ctx: JobContext, job: Job, action: Callable[[], None]) -> None:
    try:
        action()
    except job_runs.JobLost:
        _after_lost(ctx, job)
    except WorkerStopping:
        job_runs.release_lease(ctx.db, job_id=job.id, owner=ctx.owner)
    except Exception:
        log.exception("could not settle job %s; handing it back", job.id)
        job_runs.release_lease(ctx.db, job_id=job.id, owner=ctx.owner)


def _undo(ctx: JobContext, job: Job, status: JobStatus, target: JobStatus, error: str | None) -> None:
    """Remove what a job made (its codes, its file parts), then give it its final status."""
    if job.job_type is JobType.CODE_GENERATE:
        while job_runs.delete_generated_batch(
            ctx.db, job=job, owner=ctx.owner, status=status, batch=UNDO_BATCH
        ):
            ctx.step_done()
    job_runs.end_undone_job(
        ctx.db, job_id=job.id, owner=ctx.owner, status=status, target=target, now=ctx.clock(), error=error
    )
