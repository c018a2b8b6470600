"""Resources as the wire shows them."""

from __future__ import annotations

from typing import Any

from promoforge.api.documents.promotions import promotion_document
from promoforge.api.jsonapi import timestamp
from promoforge.domain.codes import PromotionCode
from promoforge.domain.jobs import Job, JobStatus, JobType
from promoforge.domain.promotions import Promotion, PromotionAttributes, PromotionVersion

_OPTIONAL_ATTRIBUTES = ("min_cart_value", "max_discount_value", "max_applications_per_cart")


def _attributes(attributes: PromotionAttributes) -> dict[str, Any]:
    document = promotion_document(attributes)
    return {k: v for k, v in document.items() if not (k in _OPTIONAL_ATTRIBUTES and v is None)}


def _people(created_by: str | None, updated_by: str | None) -> dict[str, str]:
    people = {"created_by": created_by, "updated_by": updated_by}
    return {key: value for key, value in people.items() if value is not None}


def promotion_resource(promotion: Promotion) -> dict[str, Any]:
    """A promotion."""
    return {
        "type": "promotion",
        "id": promotion.id,
        "parent_id": promotion.id,
        **_attributes(promotion.attributes),
        "current": True,
        **_people(promotion.created_by, promotion.updated_by),
        "meta": {
            "timestamps": {
                "created_at": timestamp(promotion.created_at),
                "updated_at": timestamp(promotion.updated_at),
            }
        },
    }


def version_resource(version: PromotionVersion, current_version: int) -> dict[str, Any]:
    """One history entry: the promotion as it was after one change."""
    return {
        "type": "promotion",
        "id": version.promotion_id,
        "parent_id": version.promotion_id,
        **_attributes(version.attributes),
        "current": version.version == current_version,
        **_people(version.created_by, version.updated_by),
        "meta": {
            "timestamps": {
                "created_at": timestamp(version.promotion_created_at),
                "updated_at": timestamp(version.created_at),
            },
            "version": version.version,
        },
    }


def code_resource(code: PromotionCode) -> dict[str, Any]:
    """A code; `uses` is what is left, `max_uses` the limit; both absent when unlimited."""
    body: dict[str, Any] = {"type": "promotion_codes", "id": code.id, "code": code.code}
    if code.max_uses is not None:
        body["uses"] = code.uses
        body["max_uses"] = code.max_uses
    if code.user is not None:
        body["user"] = code.user
    body["consume_unit"] = code.consume_unit
    if code.created_by is not None:
        body["created_by"] = code.created_by
    body["meta"] = {"timestamps": {"created_at": timestamp(code.created_at)}}
    return body


def job_resource(job: Job, *, status: JobStatus | None = None) -> dict[str, Any]:
    """A job; `parameters` and `result` only for generation, `error` only when it failed."""
    body: dict[str, Any] = {
        "type": "promotion_job",
        "id": job.id,
        "promotion_id": job.promotion_id,
        "job_type": job.job_type.value,
    }
    if job.name is not None:
        body["name"] = job.name
    if job.job_type is JobType.CODE_GENERATE:
        body["parameters"] = job.parameters or {}
    body["status"] = (status or job.status).value
    if job.error:
        body["error"] = job.error
    if job.job_type is JobType.CODE_GENERATE:
        body["result"] = {"generated": job.generated, "deleted": job.deleted}
    body["meta"] = {
        "timestamps": {"created_at": timestamp(job.created_at), "updated_at": timestamp(job.updated_at)},
        "progress": {"done": job.progress_done, "total": job.progress_total},
    }
    return body
