"""The job state machine and the rules of code generation jobs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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
