"""Promotion jobs: E11-E14, plus reading one job."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from promoforge.api.body import JSONBodyRoute
from promoforge.api.deps import PROMOTION_ID, AdminDep, BaseUrlDep, ContainerDep, JobIdDep, PromotionIdDep
from promoforge.api.documents.common import (
    COMMON_ERRORS,
    DataDocument,
    DocumentResponse,
    ListDocument,
    list_document,
)
from promoforge.api.documents.jobs.requests import GenerateParametersData, JobRequest
from promoforge.api.documents.jobs.responses import FileLink, JobResource, job_resource
from promoforge.api.jsonapi import EQ_ONLY, AllowedFilters, FilterQuery, PageDep, parse_filter
from promoforge.domain.errors import FieldProblem, InvalidInput
from promoforge.domain.jobs import GenerateParameters, JobStatus, JobType, parse_status
from promoforge.services import jobs
from promoforge.services.validation import field_problems

JOB_FILTERS: AllowedFilters = {"job_type": EQ_ONLY, "status": EQ_ONLY}

router = APIRouter(
    prefix=f"/v2/promotions/{PROMOTION_ID}/jobs",
    tags=["Promotion jobs"],
    route_class=JSONBodyRoute,
    responses=COMMON_ERRORS,
)
_ONE_JOB: dict[int | str, dict[str, Any]] = {
    200: {"model": DataDocument[JobResource], "description": "The job"}
}


def _job_request(body: JobRequest) -> jobs.JobRequest:
    data = body.data
    job_type = JobType(data.job_type.value)
    if job_type is not JobType.CODE_GENERATE:
        return jobs.JobRequest(job_type=job_type, name=data.name, generate=None, parameters=None)
    if data.parameters is None:
        raise InvalidInput([FieldProblem("data.parameters", "data.parameters is required", "required")])
    try:
        parsed = GenerateParametersData.model_validate(data.parameters)
    except ValidationError as error:
        raise InvalidInput(field_problems(error.errors(), prefix="data.parameters")) from None
    generate = GenerateParameters(
        number_of_codes=parsed.number_of_codes,
        max_uses_per_code=parsed.max_uses_per_code,
        consume_unit=parsed.consume_unit,
        code_prefix=parsed.code_prefix or None,
        code_length=parsed.code_length,
    )
    echoed = parsed.model_dump(mode="json", exclude_unset=True)
    echoed.setdefault("consume_unit", generate.consume_unit.value)
    echoed.setdefault("code_length", generate.code_length)
    return jobs.JobRequest(job_type=job_type, name=data.name, generate=generate, parameters=echoed)


@router.post(
    "",
    status_code=201,
    summary="Create a code generation or export job",
    response_model=None,
    responses={201: {"model": DataDocument[JobResource], "description": "The job"}},
)
def create_job(
    request: Request,
    promotion_id: PromotionIdDep,
    body: JobRequest,
    principal: AdminDep,
    container: ContainerDep,
) -> Response:
    """E11; a worker running in this process starts on the job at once."""
    job = jobs.create_job(
        container.db,
        store_id=principal.store_id,
        promotion_id=promotion_id,
        request=_job_request(body),
        actor=principal.client_id,
        now=container.clock(),
    )
    worker = getattr(request.app.state, "job_worker", None)
    if worker is not None:
        worker.wake()
    return DocumentResponse({"data": job_resource(job)}, 201)


def _status_filter(value: str | None) -> JobStatus | None:
    if value is None:
        return None
    try:
        return parse_status(value)
    except ValueError:
        allowed = ", ".join(s.value for s in JobStatus)
        raise InvalidInput([FieldProblem("filter", f"status must be one of: {allowed}")]) from None


def _type_filter(value: str | None) -> JobType | None:
    if value is None:
        return None
    try:
        return JobType(value.strip())
    except ValueError:
        raise InvalidInput(
            [FieldProblem("filter", "job_type must be code_generate or code_export")]
        ) from None


@router.get(
    "",
    summary="List a promotion's jobs, newest first",
    response_model=None,
    responses={200: {"model": ListDocument[JobResource], "description": "A page of jobs"}},
)
def list_jobs(
    request: Request,
    promotion_id: PromotionIdDep,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
    page: PageDep,
    filter_: FilterQuery = None,
) -> Response:
    """E12; filters eq(job_type,...) and eq(status,...)."""
    filters = parse_filter(filter_, JOB_FILTERS)
    items, total = jobs.list_jobs(
        container.db,
        store_id=principal.store_id,
        promotion_id=promotion_id,
        page=page,
        job_type=_type_filter(filters.equal_to("job_type")),
        status=_status_filter(filters.equal_to("status")),
    )
    return DocumentResponse(list_document(request, base, [job_resource(j) for j in items], page, total))


@router.get("/{jobID}", summary="Get one job", response_model=None, responses=_ONE_JOB)
def get_job(
    promotion_id: PromotionIdDep, job_id: JobIdDep, principal: AdminDep, container: ContainerDep
) -> Response:
    """Read one job (not in EP's reference; handy for polling)."""
    job = jobs.get_job(container.db, store_id=principal.store_id, promotion_id=promotion_id, job_id=job_id)
    return DocumentResponse({"data": job_resource(job)})


@router.post(
    "/{jobID}/cancel",
    summary="Cancel a pending or processing job",
    response_model=None,
    responses=_ONE_JOB,
)
def cancel_job(
    promotion_id: PromotionIdDep, job_id: JobIdDep, principal: AdminDep, container: ContainerDep
) -> Response:
    """E13; answers `cancelling`, and the job becomes `cancelled` once its work is undone."""
    job = jobs.cancel_job(
        container.db,
        store_id=principal.store_id,
        promotion_id=promotion_id,
        job_id=job_id,
        now=container.clock(),
    )
    return DocumentResponse({"data": job_resource(job, status=JobStatus.CANCELLING)})


@router.get(
    "/{jobID}/file",
    summary="Get a download link for a completed export",
    response_model=None,
    responses={200: {"model": FileLink, "description": "A signed link"}},
)
def export_file(
    promotion_id: PromotionIdDep,
    job_id: JobIdDep,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
) -> Response:
    """E14: a bare {"href": ...}, signed and valid for an hour."""
    link = jobs.export_link(
        container.db,
        container.links,
        store_id=principal.store_id,
        promotion_id=promotion_id,
        job_id=job_id,
        now=container.clock(),
        ttl_seconds=container.settings.export_link_ttl_seconds,
    )
    file: FileLink = {"href": f"{base}{link.path}?Expires={link.expires}&Signature={link.signature}"}
    return DocumentResponse(file)
