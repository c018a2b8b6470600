"""Integrations (integrations spec W1-W9, X1-X4): create, read, change and delete a store's integrations,
its integration settings, and read what was delivered; each change records its own `integration.*` event
in its transaction (§4.2)."""

from __future__ import annotations

import importlib.util
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from promoforge.domain.errors import FieldProblem, IntegrationInvalid, NotFound, WriteConflict
from promoforge.domain.integrations import events
from promoforge.domain.integrations.configuration import (
    Configuration,
    IntegrationType,
    WebhookConfiguration,
    join_configuration,
    split_configuration,
)
from promoforge.domain.integrations.destinations import parse_private_targets
from promoforge.domain.integrations.integrations import (
    JOB_ALREADY_SCHEDULED,
    REDELIVERABLE_JOB_STATUSES,
    Integration,
    IntegrationJobStatus,
    check_integration_quota,
    integration_changes,
    new_integration,
)
from promoforge.domain.integrations.settings import DEFAULT_SETTINGS, IntegrationSettings, update_settings
from promoforge.domain.integrations.signing import ROTATION_OVERLAP, SigningSecret
from promoforge.domain.queries import Page
from promoforge.services.destinations import check_saved_destinations
from promoforge.services.secret_box import SecretBox
from promoforge.storage.repositories.integrations import (
    IntegrationJobRecord,
    IntegrationLogRecord,
    IntegrationRecord,
    SettingsRecord,
)
from promoforge.storage.repositories.transactions import StoreScope, Transaction, Transactor

INTEGRATION_NOT_FOUND = "The resource could not be found"
PREVIOUS_SIGNING_SECRET = "previous_signing_secret"  # noqa: S105 (a key name, not a secret)


@dataclass(frozen=True)
class DeliverySummary:
    """`meta.delivery` (D-I35)."""

    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    consecutive_failures: int
    pending_jobs: int


@dataclass(frozen=True)
class IntegrationView:
    """An integration as the API shows it; `new_signing_secret` is set only when it is shown in full."""

    integration: Integration
    created_at: datetime
    updated_at: datetime
    delivery: DeliverySummary
    new_signing_secret: str | None = None


@dataclass(frozen=True)
class RotatedSecret:
    """X1's answer."""

    signing_secret: str
    previous_secret_valid_until: datetime | None


def sqs_available() -> bool:
    """Whether this server can deliver to SQS: boto3, the `sqs` extra, is installed (D-I25)."""
    return importlib.util.find_spec("boto3") is not None


# Reading


def get_integration(
    uow: Transactor, box: SecretBox, *, store_id: str, integration_id: str
) -> IntegrationView:
    """W3."""
    with uow.read() as tx:
        repos = tx.store(store_id)
        record = _found(repos, integration_id)
        return _view(repos, box, record)


def list_integrations(
    uow: Transactor,
    box: SecretBox,
    *,
    store_id: str,
    page: Page,
    enabled: bool | None = None,
    integration_type: str | None = None,
) -> tuple[list[IntegrationView], int]:
    """W2: oldest first."""
    with uow.read() as tx:
        repos = tx.store(store_id)
        records, total = repos.integrations.page(page, enabled=enabled, integration_type=integration_type)
        pending = repos.integrations.pending_jobs([record.id for record in records])
        return [_view(repos, box, record, pending.get(record.id, 0)) for record in records], total


def integration_settings(uow: Transactor, *, store_id: str) -> IntegrationSettings:
    """X4 GET."""
    with uow.read() as tx:
        return _settings(tx.store(store_id))


def list_logs(
    uow: Transactor,
    *,
    store_id: str,
    page: Page,
    integration_id: str | None = None,
    job_id: str | None = None,
    succeeded: bool | None = None,
) -> tuple[list[IntegrationLogRecord], int]:
    """W6, W7, W9: newest first; 404 for an integration (or a job of it) the store does not have."""
    with uow.read() as tx:
        repos = tx.store(store_id)
        if integration_id is not None:
            _found(repos, integration_id)
            if job_id is not None and repos.integrations.job(integration_id, job_id) is None:
                raise NotFound(INTEGRATION_NOT_FOUND)
        return repos.integrations.logs_page(
            page, integration_id=integration_id, job_id=job_id, succeeded=succeeded
        )


def list_jobs(
    uow: Transactor, *, store_id: str, integration_id: str, page: Page, status: str | None = None
) -> tuple[list[IntegrationJobRecord], int]:
    """W8: newest first."""
    with uow.read() as tx:
        repos = tx.store(store_id)
        _found(repos, integration_id)
        return repos.integrations.jobs_page(integration_id, page, status=status)


# Changing


def create_integration(
    uow: Transactor,
    box: SecretBox,
    *,
    store_id: str,
    document: object,
    private_targets_enabled: bool,
    now: datetime,
) -> IntegrationView:
    """W1: the integration, its secrets sealed; `integration.created` recorded with it."""
    with uow.write() as tx:
        repos = tx.store(store_id)
        settings = _settings(repos)
        created = new_integration(document, settings=settings, sqs_available=sqs_available())
        check_saved_destinations(
            created.configuration, settings, private_targets_enabled=private_targets_enabled
        )
        check_integration_quota(repos.integrations.count(), settings)
        integration_id = str(uuid.uuid4())
        integration = created.stored_as(integration_id)
        plain, secrets = split_configuration(integration.configuration)
        record = IntegrationRecord(
            id=integration_id,
            store_id=store_id,
            name=integration.name,
            description=integration.description,
            enabled=integration.enabled,
            integration_type=integration.integration_type.value,
            observes=integration.observes,
            configuration=plain,
            secrets=_seal(box, integration_id, secrets),
            previous_secret_valid_until=None,
            created_at=now,
            updated_at=now,
        )
        repos.integrations.add(record)
        _changed(tx, repos, events.INTEGRATION_CREATED, _view(repos, box, record, 0), now)
        view = _view(repos, box, record)  # its own event may be pending for it
        shown = integration.configuration
        if created.signing_secret_generated and isinstance(shown, WebhookConfiguration):
            view = replace(view, new_signing_secret=shown.signing_secret.text)
        return view


def update_integration(
    uow: Transactor,
    box: SecretBox,
    *,
    store_id: str,
    integration_id: str,
    document: object,
    private_targets_enabled: bool,
    now: datetime,
) -> IntegrationView:
    """W4: a partial update; a no-op changes and records nothing; disabling cancels pending jobs."""
    with uow.write() as tx:
        repos = tx.store(store_id)
        record = _found(repos, integration_id, for_update=True)
        settings = _settings(repos)
        stored = _integration(box, record)
        changed = integration_changes(stored, document, settings=settings, sqs_available=sqs_available())
        if changed is None:
            return _view(repos, box, record)
        if changed.configuration != stored.configuration:
            check_saved_destinations(
                changed.configuration, settings, private_targets_enabled=private_targets_enabled
            )
        plain, secrets = split_configuration(changed.configuration)
        kept = _secrets(box, record)
        if PREVIOUS_SIGNING_SECRET in kept and PREVIOUS_SIGNING_SECRET not in secrets:
            secrets = {**secrets, PREVIOUS_SIGNING_SECRET: kept[PREVIOUS_SIGNING_SECRET]}
        updated = replace(
            record,
            name=changed.name,
            description=changed.description,
            enabled=changed.enabled,
            integration_type=changed.integration_type.value,
            observes=changed.observes,
            configuration=plain,
            secrets=_seal(box, record.id, secrets),
            updated_at=now,
        )
        repos.integrations.save(updated)
        if record.enabled and not updated.enabled:
            repos.integrations.cancel_pending(record.id, now)
        _changed(tx, repos, events.INTEGRATION_UPDATED, _view(repos, box, updated), now)
        view = _view(repos, box, updated)  # its own event may be pending for it
        became_webhook = stored.integration_type is not IntegrationType.WEBHOOK
        if became_webhook and isinstance(changed.configuration, WebhookConfiguration):
            # A signing secret generated by a change of type is shown in full this once, as W1 shows it.
            view = replace(view, new_signing_secret=changed.configuration.signing_secret.text)
        return view


def delete_integration(uow: Transactor, *, store_id: str, integration_id: str, now: datetime) -> None:
    """W5: the integration with its jobs and logs; the store's other integrations hear of it."""
    with uow.write() as tx:
        repos = tx.store(store_id)
        if not repos.integrations.delete(integration_id):
            raise NotFound(INTEGRATION_NOT_FOUND)
        repos.integrations.refresh_observed_events()
        deleted = {"type": "integration", "id": integration_id}
        tx.outbox.record_observed(store_id, events.INTEGRATION_DELETED, deleted, now)


def rotate_signing_secret(
    uow: Transactor,
    box: SecretBox,
    *,
    store_id: str,
    integration_id: str,
    supplied: object,
    now: datetime,
) -> RotatedSecret:
    """X1: a new signing secret; the previous one signs beside it for 24 hours (at most two at a time)."""
    with uow.write() as tx:
        repos = tx.store(store_id)
        record = _found(repos, integration_id, for_update=True)
        integration = _integration(box, record)
        configuration = integration.configuration
        if not isinstance(configuration, WebhookConfiguration):
            raise IntegrationInvalid([_problem("data", "only webhook integrations have a signing secret")])
        secret = (
            SigningSecret.generate()
            if supplied is None
            else SigningSecret.parse(supplied, source="data.signing_secret")
        )
        plain, secrets = split_configuration(replace(configuration, signing_secret=secret))
        secrets[PREVIOUS_SIGNING_SECRET] = configuration.signing_secret.text
        valid_until = now + ROTATION_OVERLAP
        updated = replace(
            record,
            configuration=plain,
            secrets=_seal(box, record.id, secrets),
            previous_secret_valid_until=valid_until,
            updated_at=now,
        )
        repos.integrations.save(updated)
        _changed(tx, repos, events.INTEGRATION_UPDATED, _view(repos, box, updated), now)
        return RotatedSecret(secret.text, valid_until)


def redeliver_job(
    uow: Transactor, *, store_id: str, integration_id: str, job_id: str, now: datetime
) -> IntegrationJobRecord:
    """X2: a finished job back to pending with the same id; its attempts keep counting."""
    with uow.write() as tx:
        repos = tx.store(store_id)
        record = _found(repos, integration_id)
        job = repos.integrations.job(integration_id, job_id)
        if job is None:
            raise NotFound(INTEGRATION_NOT_FOUND)
        if not record.enabled:
            raise IntegrationInvalid([_problem("data", "the integration is disabled")])
        statuses = [status.value for status in REDELIVERABLE_JOB_STATUSES]
        if job.status not in statuses:
            raise WriteConflict(JOB_ALREADY_SCHEDULED)
        if repos.integrations.requeue(integration_id, statuses=statuses, job_id=job_id, now=now) != 1:
            raise WriteConflict(JOB_ALREADY_SCHEDULED)
        requeued = repos.integrations.job(integration_id, job_id)
        assert requeued is not None
        return requeued


def redeliver_jobs(
    uow: Transactor,
    *,
    store_id: str,
    integration_id: str,
    status: IntegrationJobStatus,
    since: datetime,
    until: datetime,
    now: datetime,
) -> int:
    """X3: every `status` job of the integration last changed between `since` and `until`, requeued."""
    with uow.write() as tx:
        repos = tx.store(store_id)
        record = _found(repos, integration_id)
        if not record.enabled:
            raise IntegrationInvalid([_problem("data", "the integration is disabled")])
        return repos.integrations.requeue(
            integration_id, statuses=[status.value], since=since, until=until, now=now
        )


def change_integration_settings(
    uow: Transactor, *, store_id: str, document: object, private_targets_enabled: bool
) -> IntegrationSettings:
    """X4 PUT: a partial update."""
    with uow.write() as tx:
        repos = tx.store(store_id)
        settings = update_settings(
            _settings(repos), document, private_targets_enabled=private_targets_enabled
        )
        repos.integrations.put_settings(
            SettingsRecord(
                allowed_private_targets=list(settings.allowed_private_targets.entries),
                max_observes_per_integration=settings.max_observes_per_integration,
                max_integrations=settings.max_integrations,
                log_retention_days=settings.log_retention_days,
            )
        )
        return settings


def _changed(
    tx: Transaction, repos: StoreScope, event_key: str, view: IntegrationView, now: datetime
) -> None:
    """After an integration changed: refresh what the store observes, then record `event_key` (§4.2)."""
    if repos.integrations.refresh_observed_events():
        tx.outbox.record_observed(repos.store_id, event_key, view, now)


# Helpers


def _problem(source: str, detail: str) -> FieldProblem:
    return FieldProblem(source, detail, "Validation Error")


def _found(repos: StoreScope, integration_id: str, *, for_update: bool = False) -> IntegrationRecord:
    record = repos.integrations.get(integration_id, for_update=for_update)
    if record is None:
        raise NotFound(INTEGRATION_NOT_FOUND)
    return record


def _settings(repos: StoreScope) -> IntegrationSettings:
    record = repos.integrations.settings()
    if record is None:
        return DEFAULT_SETTINGS
    return IntegrationSettings(
        allowed_private_targets=parse_private_targets(
            record.allowed_private_targets, "allowed_private_targets"
        ),
        max_observes_per_integration=record.max_observes_per_integration,
        max_integrations=record.max_integrations,
        log_retention_days=record.log_retention_days,
    )


def _seal(box: SecretBox, integration_id: str, secrets: Mapping[str, str]) -> bytes:
    return box.seal(json.dumps(dict(secrets), sort_keys=True).encode(), belongs_to=integration_id)


def _secrets(box: SecretBox, record: IntegrationRecord) -> dict[str, str]:
    opened: dict[str, str] = json.loads(box.open(record.secrets, belongs_to=record.id))
    return opened


def _integration(box: SecretBox, record: IntegrationRecord) -> Integration:
    secrets = _secrets(box, record)
    secrets.pop(PREVIOUS_SIGNING_SECRET, None)
    configuration: Configuration = join_configuration(
        IntegrationType(record.integration_type), record.configuration, secrets
    )
    return Integration(
        id=record.id,
        name=record.name,
        description=record.description,
        enabled=record.enabled,
        integration_type=IntegrationType(record.integration_type),
        observes=record.observes,
        configuration=configuration,
    )


def _view(
    repos: StoreScope, box: SecretBox, record: IntegrationRecord, pending: int | None = None
) -> IntegrationView:
    if pending is None:
        pending = repos.integrations.pending_jobs([record.id]).get(record.id, 0)
    delivery = DeliverySummary(
        record.last_attempt_at,
        record.last_success_at,
        record.last_failure_at,
        record.consecutive_failures,
        pending,
    )
    return IntegrationView(_integration(box, record), record.created_at, record.updated_at, delivery)


__all__ = [
    "INTEGRATION_NOT_FOUND",
    "DeliverySummary",
    "IntegrationView",
    "RotatedSecret",
]
