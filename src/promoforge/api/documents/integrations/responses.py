"""Integrations, their jobs and logs, and the store's integration settings as the API answers them."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypedDict

from fastapi import Request

from promoforge.api.documents.common import (
    ListDocument,
    PageMeta,
    Resource,
    ResultsMeta,
    list_document,
    timestamp,
    timestamp_in_seconds,
)
from promoforge.domain.integrations.configuration import event_configuration, public_configuration
from promoforge.domain.integrations.settings import IntegrationSettings
from promoforge.domain.queries import Page
from promoforge.services.integrations import IntegrationView, RotatedSecret
from promoforge.storage.repositories.integrations import IntegrationJobRecord, IntegrationLogRecord


class DeliveryMeta(TypedDict):
    """`meta.delivery` (D-I35)."""

    last_attempt_at: str | None
    last_success_at: str | None
    last_failure_at: str | None
    consecutive_failures: int
    pending_jobs: int


class CreatedUpdated(TypedDict):
    """`meta.timestamps`."""

    created_at: str
    updated_at: str


class IntegrationMeta(TypedDict):
    """An integration's `meta`."""

    timestamps: CreatedUpdated
    delivery: DeliveryMeta


class SelfLink(TypedDict):
    """`links.self`."""

    self: str


class IntegrationResource(TypedDict):
    """The integration object (§3.1)."""

    id: str
    type: Literal["integration"]
    name: str
    description: str
    enabled: bool
    integration_type: str
    observes: list[str]
    configuration: dict[str, Any]
    links: SelfLink
    meta: IntegrationMeta


class Relationship(TypedDict):
    """`{"data": {"type", "id"}}`."""

    data: dict[str, str]


class JobRelationships(TypedDict):
    """A job's relationships."""

    integration: Relationship


class CreatedOnly(TypedDict):
    """`meta.timestamps` of a log."""

    created_at: str


class JobMeta(TypedDict):
    """A job's `meta`."""

    timestamps: CreatedUpdated


class JobResource(TypedDict):
    """An `integration-job` (§4.7)."""

    id: str
    type: Literal["integration-job"]
    status: str
    triggered_by: str
    attempts: int
    next_attempt_at: str | None
    relationships: JobRelationships
    meta: JobMeta


class LogRelationships(TypedDict):
    """A log's relationships."""

    integration: Relationship
    job: Relationship


class LogMeta(TypedDict):
    """A log's `meta`."""

    timestamps: CreatedOnly


class LogResource(TypedDict):
    """An `integration-log` (§4.8)."""

    id: str
    type: Literal["integration-log"]
    succeeded: bool
    attempt: int
    processing_time: float
    body: str
    status_code: int
    error_detail: str
    relationships: LogRelationships
    meta: LogMeta


class FlatListMeta(TypedDict):
    """The log and job lists' `meta`: EP's flat fields beside the platform's `page` and `results` (D-I10)."""

    limit: int
    offset: int
    current: int
    total: int
    page: PageMeta
    results: ResultsMeta


class FlatListDocument(TypedDict, Generic[Resource]):
    """A log or job list (D-I10)."""

    data: list[Resource]
    links: dict[str, str | None]
    meta: FlatListMeta
    results: ResultsMeta


class SettingsMeta(TypedDict):
    """What the operator allows."""

    private_targets_enabled_on_server: bool


class SettingsResource(TypedDict):
    """X4's object."""

    type: Literal["integration_settings"]
    allowed_private_targets: list[str]
    max_observes_per_integration: int
    max_integrations: int
    log_retention_days: int
    meta: SettingsMeta


class RotatedSecretResource(TypedDict):
    """X1's object."""

    type: Literal["integration_signing_secret"]
    signing_secret: str
    previous_secret_valid_until: str | None


def _maybe(value: Any) -> str | None:
    return None if value is None else timestamp(value)


def integration_resource(
    view: IntegrationView, base_url: str, *, for_event: bool = False
) -> IntegrationResource:
    """The integration; secrets masked as §3.3 says (in events: every one), a new signing secret in full."""
    integration = view.integration
    configuration = (
        event_configuration(integration.configuration)
        if for_event
        else public_configuration(
            integration.configuration, reveal_signing_secret=view.new_signing_secret is not None
        )
    )
    delivery = view.delivery
    return {
        "id": integration.id,
        "type": "integration",
        "name": integration.name,
        "description": integration.description,
        "enabled": integration.enabled,
        "integration_type": integration.integration_type.value,
        "observes": list(integration.observes),
        "configuration": configuration,
        "links": {"self": f"{base_url}/v2/integrations/{integration.id}"},
        "meta": {
            "timestamps": {
                "created_at": timestamp(view.created_at),
                "updated_at": timestamp(view.updated_at),
            },
            "delivery": {
                "last_attempt_at": _maybe(delivery.last_attempt_at),
                "last_success_at": _maybe(delivery.last_success_at),
                "last_failure_at": _maybe(delivery.last_failure_at),
                "consecutive_failures": delivery.consecutive_failures,
                "pending_jobs": delivery.pending_jobs,
            },
        },
    }


def integration_event_document(view: IntegrationView, base_url: str) -> dict[str, Any]:
    """What an `integration.created` / `integration.updated` event carries (§7.1)."""
    return {"data": integration_resource(view, base_url, for_event=True)}


def integrations_list(
    request: Request, base_url: str, views: list[IntegrationView], page: Page, total: int
) -> dict[str, Any]:
    """W2: the generic list envelope plus I2's top-level `results`."""
    document: ListDocument[IntegrationResource] = list_document(
        request, base_url, [integration_resource(view, base_url) for view in views], page, total
    )
    return {**document, "results": document["meta"]["results"]}


def job_resource(job: IntegrationJobRecord) -> JobResource:
    """A delivery job."""
    return {
        "id": job.id,
        "type": "integration-job",
        "status": job.status,
        "triggered_by": job.event_key,
        "attempts": job.attempts,
        "next_attempt_at": _maybe(job.next_attempt_at),
        "relationships": {"integration": {"data": {"type": "integration", "id": job.integration_id}}},
        "meta": {
            "timestamps": {"created_at": timestamp(job.created_at), "updated_at": timestamp(job.updated_at)}
        },
    }


def log_resource(log: IntegrationLogRecord) -> LogResource:
    """One attempt."""
    return {
        "id": log.id,
        "type": "integration-log",
        "succeeded": log.succeeded,
        "attempt": log.attempt,
        "processing_time": round(log.processing_time_tenths_ms / 10_000, 4),
        "body": log.body,
        "status_code": log.status_code,
        "error_detail": log.error_detail,
        "relationships": {
            "integration": {"data": {"type": "integration", "id": log.integration_id}},
            "job": {"data": {"type": "integration-job", "id": log.job_id}},
        },
        "meta": {"timestamps": {"created_at": timestamp(log.created_at)}},
    }


def flat_list(
    request: Request, base_url: str, data: list[Resource], page: Page, total: int
) -> dict[str, Any]:
    """D-I10's envelope for logs and jobs."""
    document: ListDocument[Resource] = list_document(request, base_url, data, page, total)
    meta = document["meta"]
    return {
        "data": data,
        "links": document["links"],
        "meta": {
            "limit": page.limit,
            "offset": page.offset,
            "current": meta["page"]["current"],
            "total": meta["page"]["total"],
            "page": meta["page"],
            "results": meta["results"],
        },
        "results": meta["results"],
    }


def settings_resource(settings: IntegrationSettings, *, private_targets_enabled: bool) -> SettingsResource:
    """X4's object."""
    return {
        "type": "integration_settings",
        "allowed_private_targets": list(settings.allowed_private_targets.entries),
        "max_observes_per_integration": settings.max_observes_per_integration,
        "max_integrations": settings.max_integrations,
        "log_retention_days": settings.log_retention_days,
        "meta": {"private_targets_enabled_on_server": private_targets_enabled},
    }


def rotated_secret_resource(rotated: RotatedSecret) -> RotatedSecretResource:
    """X1's answer."""
    return {
        "type": "integration_signing_secret",
        "signing_secret": rotated.signing_secret,
        "previous_secret_valid_until": None
        if rotated.previous_secret_valid_until is None
        else timestamp_in_seconds(rotated.previous_secret_valid_until),
    }
