"""Integrations (integrations spec W1-W9) and PromoForge's extensions (X1-X4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from promoforge.api.body import JSONBodyRoute
from promoforge.api.deps import AdminDep, BaseUrlDep, ContainerDep
from promoforge.api.documents.common import DocumentResponse, error_responses
from promoforge.api.documents.integrations.responses import (
    flat_list,
    integration_resource,
    integrations_list,
    job_resource,
    log_resource,
    rotated_secret_resource,
    settings_resource,
)
from promoforge.api.jsonapi import (
    EQ_ONLY,
    MAX_PAGE_LIMIT,
    MAX_PAGE_OFFSET,
    AllowedFilters,
    FilterQuery,
    PageDep,
    parse_filter,
)
from promoforge.bootstrap import Container
from promoforge.domain.errors import FieldProblem, InvalidInput, NotFound
from promoforge.domain.identifiers import parse_uuid
from promoforge.domain.integrations.configuration import IntegrationType
from promoforge.domain.integrations.integrations import IntegrationJobStatus
from promoforge.domain.queries import Page
from promoforge.services import integrations
from promoforge.services.integrations import INTEGRATION_NOT_FOUND, IntegrationView

router = APIRouter(
    tags=["integrations"],
    route_class=JSONBodyRoute,
    responses=error_responses(400, 401, 403, 404, 413, 422, 503),
)

LOG_PAGE_LIMIT = 100
INTEGRATION_FILTERS: AllowedFilters = {"enabled": EQ_ONLY, "integration_type": EQ_ONLY}
LOG_FILTERS: AllowedFilters = {"succeeded": EQ_ONLY}
JOB_FILTERS: AllowedFilters = {"status": EQ_ONLY}
DocumentBody = Annotated[dict[str, Any], Body(description='`{"data": {...}}`')]


async def integration_id(integration_id: Annotated[str, Path(alias="integrationID")]) -> str:
    """An integration id; anything but a UUID names none (D-I38)."""
    parsed = parse_uuid(integration_id)
    if parsed is None:
        raise NotFound(INTEGRATION_NOT_FOUND)
    return parsed


async def job_id(job_id: Annotated[str, Path(alias="jobID")]) -> str:
    """A job id, as integration ids."""
    parsed = parse_uuid(job_id)
    if parsed is None:
        raise NotFound(INTEGRATION_NOT_FOUND)
    return parsed


async def log_page(
    limit: Annotated[
        int | None,
        Query(alias="page[limit]", ge=1, le=MAX_PAGE_LIMIT, description="Records per page (1-100)"),
    ] = None,
    offset: Annotated[
        int | None, Query(alias="page[offset]", ge=0, le=MAX_PAGE_OFFSET, description="Records to skip")
    ] = None,
) -> Page:
    """Logs and jobs page by 100 unless asked (the SDK cannot ask, D-I10)."""
    return Page(limit=LOG_PAGE_LIMIT if limit is None else limit, offset=offset or 0)


IntegrationIdDep = Annotated[str, Depends(integration_id)]
JobIdDep = Annotated[str, Depends(job_id)]
LogPageDep = Annotated[Page, Depends(log_page)]


def _data(body: dict[str, Any]) -> dict[str, Any]:
    data = body.get("data")
    if not isinstance(data, dict):
        raise InvalidInput([FieldProblem("data", 'the body must be {"data": {...}}')])
    return data


def _private_targets(container: Container) -> bool:
    return container.settings.integrations_private_targets == "allow"


def _boolean(value: str | None, field: str) -> bool | None:
    if value is None:
        return None
    if value not in ("true", "false"):
        raise InvalidInput([FieldProblem("filter", f"{field} is true or false")])
    return value == "true"


@router.post("/v2/integrations", status_code=201, summary="Create an integration (W1)", response_model=None)
def create_integration(
    body: DocumentBody, principal: AdminDep, container: ContainerDep, base: BaseUrlDep
) -> Response:
    """W1: 201 with the integration; a generated signing secret shown this once."""
    view = integrations.create_integration(
        container.db,
        container.secrets,
        store_id=principal.store_id,
        document=_data(body),
        private_targets_enabled=_private_targets(container),
        now=container.clock(),
    )
    return DocumentResponse({"data": integration_resource(view, base)}, 201)


@router.get("/v2/integrations", summary="List integrations (W2)", response_model=None)
def list_integrations(
    request: Request,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
    page: PageDep,
    filter_: FilterQuery = None,
) -> Response:
    """W2: oldest first; eq(enabled,...) and eq(integration_type,...)."""
    filters = parse_filter(filter_, INTEGRATION_FILTERS)
    integration_type = filters.equal_to("integration_type")
    if integration_type is not None and integration_type not in {t.value for t in IntegrationType}:
        raise InvalidInput([FieldProblem("filter", "integration_type is webhook, aws_sqs or stomp")])
    views, total = integrations.list_integrations(
        container.db,
        container.secrets,
        store_id=principal.store_id,
        page=page,
        enabled=_boolean(filters.equal_to("enabled"), "enabled"),
        integration_type=integration_type,
    )
    return DocumentResponse(integrations_list(request, base, views, page, total))


@router.get("/v2/integrations/logs", summary="Every delivery attempt of the store (W6)", response_model=None)
def store_logs(
    request: Request,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
    page: LogPageDep,
    filter_: FilterQuery = None,
) -> Response:
    """W6: newest first."""
    succeeded = _boolean(parse_filter(filter_, LOG_FILTERS).equal_to("succeeded"), "succeeded")
    logs, total = integrations.list_logs(
        container.db, store_id=principal.store_id, page=page, succeeded=succeeded
    )
    return DocumentResponse(flat_list(request, base, [log_resource(log) for log in logs], page, total))


@router.get("/v2/integrations/{integrationID}", summary="Get an integration (W3)", response_model=None)
def get_integration(
    integration: IntegrationIdDep, principal: AdminDep, container: ContainerDep, base: BaseUrlDep
) -> Response:
    """W3."""
    view = integrations.get_integration(
        container.db, container.secrets, store_id=principal.store_id, integration_id=integration
    )
    return DocumentResponse({"data": integration_resource(view, base)})


@router.put("/v2/integrations/{integrationID}", summary="Update an integration (W4)", response_model=None)
def update_integration(
    integration: IntegrationIdDep,
    body: DocumentBody,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
) -> Response:
    """W4: fields not sent keep their values; configuration merged key by key."""
    view: IntegrationView = integrations.update_integration(
        container.db,
        container.secrets,
        store_id=principal.store_id,
        integration_id=integration,
        document=_data(body),
        private_targets_enabled=_private_targets(container),
        now=container.clock(),
    )
    return DocumentResponse({"data": integration_resource(view, base)})


@router.delete("/v2/integrations/{integrationID}", summary="Delete an integration (W5)", response_model=None)
def delete_integration(
    integration: IntegrationIdDep, principal: AdminDep, container: ContainerDep
) -> Response:
    """W5: 200 naming what was deleted (D-I2)."""
    integrations.delete_integration(
        container.db, store_id=principal.store_id, integration_id=integration, now=container.clock()
    )
    return DocumentResponse({"data": {"type": "integration", "id": integration}})


@router.get(
    "/v2/integrations/{integrationID}/logs", summary="Attempts of an integration (W7)", response_model=None
)
def integration_logs(
    request: Request,
    integration: IntegrationIdDep,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
    page: LogPageDep,
    filter_: FilterQuery = None,
) -> Response:
    """W7: newest first."""
    succeeded = _boolean(parse_filter(filter_, LOG_FILTERS).equal_to("succeeded"), "succeeded")
    logs, total = integrations.list_logs(
        container.db, store_id=principal.store_id, page=page, integration_id=integration, succeeded=succeeded
    )
    return DocumentResponse(flat_list(request, base, [log_resource(log) for log in logs], page, total))


@router.get(
    "/v2/integrations/{integrationID}/jobs", summary="Jobs of an integration (W8)", response_model=None
)
def integration_jobs(
    request: Request,
    integration: IntegrationIdDep,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
    page: LogPageDep,
    filter_: FilterQuery = None,
) -> Response:
    """W8: newest first; eq(status,...)."""
    status = parse_filter(filter_, JOB_FILTERS).equal_to("status")
    if status is not None and status not in {s.value for s in IntegrationJobStatus}:
        raise InvalidInput(
            [FieldProblem("filter", "status is pending, processing, succeeded, failed or cancelled")]
        )
    jobs, total = integrations.list_jobs(
        container.db, store_id=principal.store_id, integration_id=integration, page=page, status=status
    )
    return DocumentResponse(flat_list(request, base, [job_resource(job) for job in jobs], page, total))


@router.get(
    "/v2/integrations/{integrationID}/jobs/{jobID}/logs",
    summary="Attempts of one job (W9)",
    response_model=None,
)
def job_logs(
    request: Request,
    integration: IntegrationIdDep,
    job: JobIdDep,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
    page: LogPageDep,
) -> Response:
    """W9: newest first."""
    logs, total = integrations.list_logs(
        container.db, store_id=principal.store_id, page=page, integration_id=integration, job_id=job
    )
    return DocumentResponse(flat_list(request, base, [log_resource(log) for log in logs], page, total))


@router.post(
    "/v2/promoforge/integrations/{integrationID}/signing-secret",
    status_code=201,
    summary="Rotate the signing secret (X1)",
    response_model=None,
)
def rotate_signing_secret(
    integration: IntegrationIdDep,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> Response:
    """X1: a new secret (or the one supplied); the old one signs beside it for 24 hours."""
    supplied = None if body is None else _data(body).get("signing_secret")
    rotated = integrations.rotate_signing_secret(
        container.db,
        container.secrets,
        store_id=principal.store_id,
        integration_id=integration,
        supplied=supplied,
        now=container.clock(),
    )
    return DocumentResponse({"data": rotated_secret_resource(rotated)}, 201)


@router.post(
    "/v2/promoforge/integrations/{integrationID}/jobs/{jobID}/redeliver",
    status_code=202,
    summary="Deliver one job again (X2)",
    response_model=None,
    responses=error_responses(409),
)
def redeliver_job(
    integration: IntegrationIdDep, job: JobIdDep, principal: AdminDep, container: ContainerDep
) -> Response:
    """X2: the job back to pending, same id."""
    record = integrations.redeliver_job(
        container.db,
        store_id=principal.store_id,
        integration_id=integration,
        job_id=job,
        now=container.clock(),
    )
    return DocumentResponse({"data": job_resource(record)}, 202)


@router.post(
    "/v2/promoforge/integrations/{integrationID}/redeliver",
    status_code=202,
    summary="Redeliver failed jobs of a time range (X3)",
    response_model=None,
)
def redeliver_jobs(
    integration: IntegrationIdDep, body: DocumentBody, principal: AdminDep, container: ContainerDep
) -> Response:
    """X3: every failed (or cancelled) job last changed between `since` and `until`."""
    data = _data(body)
    now = container.clock()
    status_text = data.get("status", "failed")
    if status_text not in ("failed", "cancelled"):
        raise InvalidInput([FieldProblem("data.status", "status is failed or cancelled")])
    since = _moment(data.get("since"), "data.since", required=True) or now
    until = _moment(data.get("until"), "data.until", required=False) or now
    count = integrations.redeliver_jobs(
        container.db,
        store_id=principal.store_id,
        integration_id=integration,
        status=IntegrationJobStatus(status_text),
        since=since,
        until=until,
        now=now,
    )
    return DocumentResponse({"data": {"type": "integration_redelivery", "count": count}}, 202)


def _moment(value: object, source: str, *, required: bool) -> datetime | None:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidInput([FieldProblem(source, f"{source.rsplit('.', 1)[-1]} is an RFC 3339 time")])
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput([FieldProblem(source, f"{value!r} is not an RFC 3339 time")]) from None
    if moment.tzinfo is None:
        raise InvalidInput([FieldProblem(source, "a time needs its offset (Z for UTC)")])
    return moment.astimezone(UTC)


@router.get("/v2/promoforge/settings/integrations", summary="Integration settings (X4)", response_model=None)
def get_settings(principal: AdminDep, container: ContainerDep) -> Response:
    """X4 GET."""
    settings = integrations.integration_settings(container.db, store_id=principal.store_id)
    enabled = _private_targets(container)
    return DocumentResponse({"data": settings_resource(settings, private_targets_enabled=enabled)})


@router.put(
    "/v2/promoforge/settings/integrations", summary="Change integration settings (X4)", response_model=None
)
def put_settings(body: DocumentBody, principal: AdminDep, container: ContainerDep) -> Response:
    """X4 PUT: partial."""
    enabled = _private_targets(container)
    settings = integrations.change_integration_settings(
        container.db, store_id=principal.store_id, document=_data(body), private_targets_enabled=enabled
    )
    return DocumentResponse({"data": settings_resource(settings, private_targets_enabled=enabled)})
