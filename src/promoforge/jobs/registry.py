"""What each job type does (one entry per type), and what idle workers do between jobs: a new kind of
background work plugs in here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from promoforge.domain.jobs import Job, JobStatus, JobType
from promoforge.jobs.cart_purge import CartPurge
from promoforge.jobs.context import JobContext
from promoforge.jobs.delivery.purge import DeliveryPurge
from promoforge.jobs.export import run_export
from promoforge.jobs.export_purge import ExportPurge
from promoforge.jobs.generate import run_generate, undo_generate
from promoforge.jobs.purge import run_promotion_purge
from promoforge.services.clock import Clock
from promoforge.storage.repositories import Transactor


@dataclass(frozen=True)
class JobTask:
    """How a job type runs, and how the work of a failed or cancelled job of that type is undone."""

    run: Callable[[JobContext, Job], None]
    undo: Callable[[JobContext, Job, JobStatus], None] | None = None


TASKS: dict[JobType, JobTask] = {
    JobType.CODE_GENERATE: JobTask(run=run_generate, undo=undo_generate),
    JobType.CODE_EXPORT: JobTask(run=run_export),
    JobType.PROMOTION_PURGE: JobTask(run=run_promotion_purge),
}


def task_for(job_type: JobType) -> JobTask:
    """The task of a job type."""
    return TASKS[job_type]


class IdleHook(Protocol):
    """Background work that is not a job: a worker thread offers it its time whenever it finds no job."""

    def run_if_due(self) -> None:
        """Do the work if it is due; return quickly if not (or if another thread is at it)."""
        ...


# Built once per worker (shared by its threads), from its storage and clock.
IDLE_HOOKS: tuple[Callable[[Transactor, Clock], IdleHook], ...] = (ExportPurge, CartPurge, DeliveryPurge)


def idle_hooks_for(db: Transactor, clock: Clock) -> list[IdleHook]:
    """The idle hooks of one worker."""
    return [make(db, clock) for make in IDLE_HOOKS]
