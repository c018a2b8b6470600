"""Promotion jobs as the API shows them, and an export's download link."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from typing_extensions import TypedDict

from promoforge.api.documents.common import Described, timestamp
from promoforge.api.documents.jobs.requests import PublicJobType
from promoforge.domain.jobs import Job, JobStatus, JobType


class JobResult(TypedDict):
    """What a generation did."""

    generated: int
    deleted: int | None


class JobTimestamps(TypedDict):
    """When the job was created and last changed."""

    created_at: str
    updated_at: str


class JobProgress(TypedDict):
    """Units of work done out of the total."""

    done: int
    total: int


class JobMeta(TypedDict):
    """Timestamps and progress of a job."""

    timestamps: JobTimestamps
    progress: JobProgress


class JobResource(TypedDict):
    """A job; `parameters` and `result` only for generation, `error` only when it failed."""

    type: Literal["promotion_job"]
    id: str
    promotion_id: str
    job_type: Annotated[str, Described(PublicJobType)]
    name: NotRequired[str]
    parameters: NotRequired[dict[str, Any]]
    status: Annotated[str, Described(JobStatus)]
    error: NotRequired[str]
    result: NotRequired[JobResult]
    meta: JobMeta


class FileLink(TypedDict):
    """A signed download link for an export, valid for a limited time."""

    href: str


def job_resource(job: Job, *, status: JobStatus | None = None) -> JobResource:
    """A job; `parameters` and `result` only for generation, `error` only when it failed."""
    resource: JobResource = {
        "type": "promotion_job",
        "id": job.id,
        "promotion_id": job.promotion_id,
        "job_type": job.job_type.value,
        "status": (status or job.status).value,
        "meta": {
            "timestamps": {"created_at": timestamp(job.created_at), "updated_at": timestamp(job.updated_at)},
            "progress": {"done": job.progress_done, "total": job.progress_total},
        },
    }
    if job.name is not None:
        resource["name"] = job.name
    if job.error:
        resource["error"] = job.error
    if job.job_type is JobType.CODE_GENERATE:
        resource["parameters"] = job.parameters or {}
        resource["result"] = {"generated": job.generated, "deleted": job.deleted}
    return resource
