"""The worker: claims jobs from the job table, holds a renewed lease while running them, stops gracefully."""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from promoforge.config import Settings
from promoforge.domain.errors import DomainError
from promoforge.domain.health import WorkerHeartbeat
from promoforge.domain.jobs import Job, JobStatus
from promoforge.jobs.context import JobContext, JobFailed, WorkerStopping
from promoforge.jobs.delivery.runner import DeliveryRunner
from promoforge.jobs.registry import JobTask, idle_hooks_for, task_for
from promoforge.observability import metrics
from promoforge.observability.logs import job_logging
from promoforge.services import health, job_runs
from promoforge.services.clock import Clock, utc_now
from promoforge.services.secret_box import SecretBox, open_secret_box
from promoforge.storage.repositories import Database

log = logging.getLogger("promoforge.worker")

# How a run ended when the job's status does not tell (metrics label).
OUTCOME_LOST, OUTCOME_HANDED_BACK, OUTCOME_RETRIED = "lost", "handed_back", "retried"
OUTCOME_GONE, OUTCOME_UNKNOWN = "gone", "unknown"
# Claims of one job (crashes, lease take-overs, retries after transient failures) before it is failed.
MAX_ATTEMPTS = 10
RETRY_BASE_SECONDS = 2.0
RETRY_MAX_SECONDS = 300.0


def is_transient(error: BaseException) -> bool:
    """Tell a failure worth retrying (a busy or unreachable database, a lost race) from a permanent one."""
    return isinstance(error, DomainError) and error.transient


def retry_delay(attempts: int) -> float:
    """Seconds to wait before the next attempt: exponential backoff with jitter, capped."""
    delay: float = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2.0 ** max(attempts - 1, 0))
    return delay * random.uniform(0.5, 1.0)


def _owner_name(index: int) -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{index}:{uuid.uuid4().hex[:8]}"


def _worker_id() -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Heartbeat:
    """Renews a job's lease in the background while the job keeps finishing steps."""

    def __init__(self, ctx: JobContext, job: Job) -> None:
        self._ctx = ctx
        self._job = job
        self._job_id = job.id
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job.id[:8]}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        with job_logging(self._job.id, self._job.job_type.value):
            self._renew_until_done()

    def _renew_until_done(self) -> None:
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
                    self._ctx.db, job=self._job, owner=self._ctx.owner, until=self._ctx.lease_until()
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
        secrets: SecretBox | None = None,
    ) -> None:
        self.db = db
        self.secrets = secrets
        self.settings = settings
        self.clock = clock
        self.concurrency = max(1, concurrency)
        self.stop_event = threading.Event()
        # The heartbeat row's key: readiness checks this process's own worker by it.
        self.worker_id = _worker_id()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self.deliveries: DeliveryRunner | None = None
        # Work done between jobs (deleting expired export files), at most one thread at a time each.
        self.idle_hooks = idle_hooks_for(db, clock)

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
        """Start the claim loops, the integration deliveries and the heartbeat in background threads."""
        self.deliveries = DeliveryRunner(
            self.db,
            self.settings,
            self.secrets or open_secret_box(self.settings),
            clock=self.clock,
            stop=self.stop_event,
        )
        self.deliveries.start()
        for index in range(self.concurrency):
            thread = threading.Thread(target=self._loop, args=(index,), name=f"worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        # The first heartbeat is on record before start() returns: the process is ready once it has started.
        started = self.clock()
        self._record_heartbeat(started)
        heartbeat = threading.Thread(target=self._beat, args=(started,), name="worker-heartbeat", daemon=True)
        heartbeat.start()
        self._threads.append(heartbeat)

    def wake(self) -> None:
        """Look for work now instead of at the next poll (a job was just queued in this process)."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Ask every loop to stop after its current step and wait for them."""
        self.stop_event.set()
        self._wake.set()
        if self.deliveries is not None:
            self.deliveries.stop(timeout)
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

    def _record_heartbeat(self, started: datetime) -> None:
        heartbeat = WorkerHeartbeat(
            self.worker_id, socket.gethostname(), os.getpid(), self.concurrency, started, self.clock()
        )
        try:
            health.record_heartbeat(self.db, heartbeat=heartbeat)
        except Exception:  # the next beat tries again; readiness fails only after a minute of misses
            log.warning("could not record the worker's heartbeat", exc_info=True)

    def _beat(self, started: datetime) -> None:
        """Record that this worker is alive every few seconds until it stops, then remove its record."""
        while not self.stop_event.wait(self.settings.worker_heartbeat_seconds):
            self._record_heartbeat(started)
        try:
            health.remove_heartbeat(self.db, worker_id=self.worker_id)
        except Exception:  # purged by the others once it is old
            log.warning("could not remove the worker's heartbeat", exc_info=True)

    def _loop(self, index: int) -> None:
        ctx = self.context(index)
        while not self.stop_event.is_set():
            try:
                found = self.run_one(ctx)
            except Exception:
                log.exception("worker loop error; retrying")
                found = False
            if not found:
                for hook in self.idle_hooks:
                    hook.run_if_due()
                self._wake.wait(self.settings.job_poll_seconds)
                self._wake.clear()


def run_claimed_job(ctx: JobContext, job: Job) -> None:
    """Run a job this worker has just claimed, and settle it whatever happens."""
    ctx.steps.mark()
    task = task_for(job.job_type)
    started = time.monotonic()
    outcome: str | None = None
    with job_logging(job.id, job.job_type.value), _Heartbeat(ctx, job):
        try:
            _dispatch(ctx, job, task)
        except job_runs.JobLost:
            outcome = OUTCOME_LOST
            _after_lost(ctx, job, task)
        except WorkerStopping:
            outcome = OUTCOME_HANDED_BACK
            job_runs.release_lease(ctx.db, job=job, owner=ctx.owner)
        except JobFailed as failure:
            log.warning("job %s failed: %s", job.id, failure.reason)
            _fail(ctx, job, task, failure.reason)
        except Exception as error:
            _after_error(ctx, job, task, error)
        finally:
            metrics.record_job_run(
                job.job_type.value, outcome or _outcome(ctx, job), time.monotonic() - started
            )


def _outcome(ctx: JobContext, job: Job) -> str:
    """How a run ended, from the job's status after it: its final one, or `retried` when handed back."""
    try:
        latest = job_runs.current_job(ctx.db, job=job)
    except Exception:  # only a metric label is at stake
        return OUTCOME_UNKNOWN
    if latest is None:
        return OUTCOME_GONE
    if latest.status is JobStatus.PENDING:
        return OUTCOME_RETRIED
    return latest.status.value


def _after_error(ctx: JobContext, job: Job, task: JobTask, error: Exception) -> None:
    """Retry a transient failure later (the job keeps its work); fail the job on a permanent one."""
    if is_transient(error) and job.attempts < MAX_ATTEMPTS:
        delay = retry_delay(job.attempts)
        log.warning("job %s hit a transient failure (%s); retrying in %.1f s", job.id, error, delay)
        _settle(
            ctx,
            job,
            task,
            lambda: job_runs.release_lease(
                ctx.db, job=job, owner=ctx.owner, run_after=ctx.clock() + timedelta(seconds=delay)
            ),
        )
        return
    if is_transient(error):
        reason = f"gave up after {job.attempts} attempts; the last one failed with: {error}"
    else:
        log.exception("job %s failed", job.id, exc_info=error)
        reason = f"internal error ({type(error).__name__}); the service log has the details of job {job.id}"
    _fail(ctx, job, task, reason)


def _dispatch(ctx: JobContext, job: Job, task: JobTask) -> None:
    if job.status is JobStatus.CANCELLING:
        _undo(ctx, job, task, JobStatus.CANCELLING, JobStatus.CANCELLED, None)
    elif job.attempts > MAX_ATTEMPTS:
        _undo(
            ctx, job, task, JobStatus.PROCESSING, JobStatus.FAILED, f"gave up after {MAX_ATTEMPTS} attempts"
        )
    else:
        log.info("running %s job %s (attempt %d)", job.job_type.value, job.id, job.attempts)
        task.run(ctx, job)


def _after_lost(ctx: JobContext, job: Job, task: JobTask) -> None:
    """A step found the job changed under it: undo it if it was cancelled, else leave it to its new owner."""
    latest = job_runs.current_job(ctx.db, job=job)
    if latest is not None and latest.status is JobStatus.CANCELLING and latest.lease_owner == ctx.owner:
        _settle(
            ctx, job, task, lambda: _undo(ctx, latest, task, JobStatus.CANCELLING, JobStatus.CANCELLED, None)
        )


def _fail(ctx: JobContext, job: Job, task: JobTask, reason: str) -> None:
    _settle(ctx, job, task, lambda: _undo(ctx, job, task, JobStatus.PROCESSING, JobStatus.FAILED, reason))


def _settle(ctx: JobContext, job: Job, task: JobTask, action: Callable[[], None]) -> None:
    try:
        action()
    except job_runs.JobLost:
        _after_lost(ctx, job, task)
    except WorkerStopping:
        job_runs.release_lease(ctx.db, job=job, owner=ctx.owner)
    except Exception:
        # The lease runs out and another worker (or this one) takes the job up again.
        log.exception("could not settle job %s; its lease will run out", job.id)


def _undo(
    ctx: JobContext, job: Job, task: JobTask, status: JobStatus, target: JobStatus, error: str | None
) -> None:
    """Remove what a job made (through its task), then give it its final status."""
    if task.undo is not None:
        task.undo(ctx, job, status)
    job_runs.end_undone_job(
        ctx.db, job=job, owner=ctx.owner, status=status, target=target, now=ctx.clock(), error=error
    )
