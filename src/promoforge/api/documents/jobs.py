"""Promotion jobs as the API shows them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from promoforge.api.schemas import PublicJobType
from promoforge.domain.jobs import JobStatus


class JobResult(BaseModel):
    """What a generation did."""

    generated: int
    deleted: int | None


class JobTimestamps(BaseModel):
    """When the job was created and last changed."""

    created_at: str
    updated_at: str


class JobProgress(BaseModel):
    """Units of work done out of the total."""

    done: int
    total: int


class JobMeta(BaseModel):
    """Timestamps and progress of a job."""

    timestamps: JobTimestamps
    progress: JobProgress


class JobResource(BaseModel):
    """A job; `parameters` and `result` only for generation, `error` only when it failed."""

    type: Literal["promotion_job"]
    id: str
    promotion_id: str
    job_type: PublicJobType
    name: str | None = None
    parameters: dict[str, Any] | None = None
    status: JobStatus
    error: str | None = None
    result: JobResult | None = None
    meta: JobMeta


class FileLink(BaseModel):
    """A signed download link for an export, valid for a limited time."""

    href: str
