"""Jobs: the stored job, its state machine and the rules of code generation jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from promoforge.domain.codes import DEFAULT_CODE_LENGTH, ConsumeUnit
from promoforge.domain.errors import JobNotCancellable


class JobType(StrEnum):
    """What a job does."""

    CODE_GENERATE = "code_generate"
    CODE_EXPORT = "code_export"
    PROMOTION_PURGE = "promotion_purge"


class JobStatus(StrEnum):
    """Where a job is in its life."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"


# The job types a client can create and see; the others are the service's own background work.
PUBLIC_JOB_TYPES = frozenset({JobType.CODE_GENERATE, JobType.CODE_EXPORT})
ACTIVE_STATUSES = frozenset({JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.CANCELLING})
CANCELLABLE_STATUSES = frozenset({JobStatus.PENDING, JobStatus.PROCESSING})
STATUS_ALIASES = {"complete": JobStatus.COMPLETED}
MAX_JOB_NAME_CHARS = 50
CODES_LIMIT_EXCEEDED = "codes limit exceeded"
# How long a completed export's file is kept, unless its store says otherwise (store setting).
DEFAULT_EXPORT_RETENTION_DAYS = 7
MAX_EXPORT_RETENTION_DAYS = 3650

_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.PENDING: frozenset({JobStatus.PROCESSING, JobStatus.CANCELLED}),
    JobStatus.PROCESSING: frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLING}),
    JobStatus.CANCELLING: frozenset({JobStatus.CANCELLED}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


@dataclass(frozen=True)
class Job:
    """A stored job; the row is also the queue entry."""

    id: str
    store_id: str
    promotion_id: str
    job_type: JobType
    name: str | None
    parameters: dict[str, Any] | None
    status: JobStatus
    error: str | None
    created_by: str | None
    capacity_reserved: bool
    generated: int
    deleted: int | None
    progress_done: int
    progress_total: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    attempts: int
    file_name: str | None
    file_size: int | None
    created_at: datetime
    updated_at: datetime
    run_after: datetime | None = None
    # When the export file is deleted; file_size becomes None once its parts are gone.
    file_expires_at: datetime | None = None


def queued_job(
    *,
    job_id: str,
    store_id: str,
    promotion_id: str,
    job_type: JobType,
    now: datetime,
    name: str | None = None,
    parameters: dict[str, Any] | None = None,
    created_by: str | None = None,
    progress_total: int = 0,
) -> Job:
    """A new job, pending until a worker claims it."""
    return Job(
        id=job_id,
        store_id=store_id,
        promotion_id=promotion_id,
        job_type=job_type,
        name=name,
        parameters=parameters,
        status=JobStatus.PENDING,
        error=None,
        created_by=created_by,
        capacity_reserved=False,
        generated=0,
        deleted=None,
        progress_done=0,
        progress_total=progress_total,
        lease_owner=None,
        lease_expires_at=None,
        attempts=0,
        file_name=None,
        file_size=None,
        created_at=now,
        updated_at=now,
    )


class InvalidTransition(ValueError):
    """A job cannot move from one status to another."""


def can_move(current: JobStatus, target: JobStatus) -> bool:
    """Tell whether a job may move from `current` to `target`."""
    return target in _TRANSITIONS[current]


def move(current: JobStatus, target: JobStatus) -> JobStatus:
    """Return `target` if the move is allowed, else raise InvalidTransition."""
    if not can_move(current, target):
        raise InvalidTransition(f"a {current} job cannot become {target}")
    return target


def status_after_cancel(current: JobStatus) -> JobStatus:
    """Return the status a cancel request moves a job to: nothing to undo for a pending job."""
    if current not in CANCELLABLE_STATUSES:
        raise JobNotCancellable("Only pending or processing jobs can be cancelled.")
    return JobStatus.CANCELLED if current is JobStatus.PENDING else JobStatus.CANCELLING


def parse_status(text: str) -> JobStatus:
    """Parse a status filter value, accepting the old 'complete' spelling."""
    value = text.strip().lower()
    if value in STATUS_ALIASES:
        return STATUS_ALIASES[value]
    return JobStatus(value)


@dataclass(frozen=True)
class GenerateParameters:
    """What a code_generate job makes."""

    number_of_codes: int
    max_uses_per_code: int | None = None
    consume_unit: ConsumeUnit = ConsumeUnit.PER_CART
    code_prefix: str | None = None
    code_length: int = DEFAULT_CODE_LENGTH


def generate_parameters_from(parameters: dict[str, object] | None) -> GenerateParameters:
    """Rebuild generation parameters from a job's stored parameters."""
    values = dict(parameters or {})
    max_uses = values.get("max_uses_per_code")
    prefix = values.get("code_prefix")
    return GenerateParameters(
        number_of_codes=int(str(values["number_of_codes"])),
        max_uses_per_code=None if max_uses is None else int(str(max_uses)),
        consume_unit=ConsumeUnit(str(values.get("consume_unit", ConsumeUnit.PER_CART.value))),
        code_prefix=None if prefix is None else str(prefix),
        code_length=int(str(values.get("code_length", DEFAULT_CODE_LENGTH))),
    )
