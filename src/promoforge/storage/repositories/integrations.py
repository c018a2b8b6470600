"""Integrations of one store, their settings, the events recorded for them, delivery jobs and logs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    RowMapping,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)

from promoforge.domain.queries import Page
from promoforge.storage.column_types import UTCDateTime
from promoforge.storage.dialects import DialectOps
from promoforge.storage.repositories.paging import count_and_page
from promoforge.storage.schema import (
    integration_events,
    integration_jobs,
    integration_logs,
    integration_settings,
    integrations,
    stores,
)

PENDING, PROCESSING, CANCELLED = "pending", "processing", "cancelled"
DEFAULT_LOG_RETENTION_DAYS = 30
# The channel on which workers hear that deliveries were queued (PostgreSQL LISTEN/NOTIFY).
DELIVERIES_CHANNEL = "promoforge_deliveries"


@dataclass(frozen=True)
class IntegrationRecord:
    """An integration as stored: its configuration without secrets, and the secrets sealed."""

    id: str
    store_id: str
    name: str
    description: str
    enabled: bool
    integration_type: str
    observes: tuple[str, ...]
    configuration: dict[str, Any]
    secrets: bytes
    previous_secret_valid_until: datetime | None
    created_at: datetime
    updated_at: datetime
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    consecutive_failures: int = 0


@dataclass(frozen=True)
class IntegrationJobRecord:
    """One event's delivery to one integration."""

    id: str
    integration_id: str
    event_id: str
    event_key: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class IntegrationLogRecord:
    """One delivery attempt."""

    id: str
    integration_id: str
    job_id: str
    succeeded: bool
    attempt: int
    processing_time_tenths_ms: int
    body: str
    status_code: int
    error_detail: str
    created_at: datetime


@dataclass(frozen=True)
class SettingsRecord:
    """The store's integration settings as stored (None: the defaults)."""

    allowed_private_targets: list[str]
    max_observes_per_integration: int
    max_integrations: int
    log_retention_days: int


class IntegrationRepository:
    """Integrations, settings, events, jobs and logs of one store."""

    def __init__(self, connection: Connection, ops: DialectOps, store_id: str) -> None:
        self.connection = connection
        self.ops = ops
        self.store_id = store_id

    # Integrations

    def count(self) -> int:
        """How many integrations the store has."""
        statement = (
            select(func.count()).select_from(integrations).where(integrations.c.store_id == self.store_id)
        )
        return int(self.connection.execute(statement).scalar_one())

    def add(self, record: IntegrationRecord) -> None:
        """Insert an integration."""
        self.connection.execute(insert(integrations).values(**_integration_values(record)))

    def get(self, integration_id: str, *, for_update: bool = False) -> IntegrationRecord | None:
        """One integration of the store."""
        statement = select(integrations).where(
            integrations.c.id == integration_id, integrations.c.store_id == self.store_id
        )
        if for_update:
            statement = statement.with_for_update()
        row = self.connection.execute(statement).first()
        return None if row is None else _integration(row)

    def page(
        self, page: Page, *, enabled: bool | None = None, integration_type: str | None = None
    ) -> tuple[list[IntegrationRecord], int]:
        """A page of the store's integrations, oldest first."""
        conditions: list[ColumnElement[bool]] = [integrations.c.store_id == self.store_id]
        if enabled is not None:
            conditions.append(integrations.c.enabled == enabled)
        if integration_type is not None:
            conditions.append(integrations.c.integration_type == integration_type)
        order = (integrations.c.created_at, integrations.c.id)
        return count_and_page(self.connection, integrations, and_(*conditions), order, page, _integration)

    def save(self, record: IntegrationRecord) -> None:
        """Write an integration's fields back."""
        values = _integration_values(record)
        del values["id"], values["store_id"], values["created_at"]
        self.connection.execute(
            update(integrations)
            .where(integrations.c.id == record.id, integrations.c.store_id == self.store_id)
            .values(**values)
        )

    def delete(self, integration_id: str) -> bool:
        """Remove an integration with its jobs and logs, and events no other job delivers; True if it was."""
        owned = and_(integrations.c.id == integration_id, integrations.c.store_id == self.store_id)
        if self.connection.execute(select(integrations.c.id).where(owned)).first() is None:
            return False
        events = select(integration_jobs.c.event_id).where(
            integration_jobs.c.integration_id == integration_id
        )
        event_ids = [row[0] for row in self.connection.execute(events)]
        self.connection.execute(
            delete(integration_logs).where(integration_logs.c.integration_id == integration_id)
        )
        self.connection.execute(
            delete(integration_jobs).where(integration_jobs.c.integration_id == integration_id)
        )
        self.connection.execute(delete(integrations).where(owned))
        for start in range(0, len(event_ids), 500):
            chunk = event_ids[start : start + 500]
            orphaned = (
                ~select(integration_jobs.c.id)
                .where(integration_jobs.c.event_id == integration_events.c.id)
                .exists()
            )
            self.connection.execute(
                delete(integration_events).where(integration_events.c.id.in_(chunk), orphaned)
            )
        return True

    def observing(self, event_key: str) -> list[str]:
        """The ids of the store's enabled integrations that observe `event_key`."""
        statement = select(integrations.c.id, integrations.c.observes).where(
            integrations.c.store_id == self.store_id, integrations.c.enabled.is_(True)
        )
        return [str(row[0]) for row in self.connection.execute(statement) if event_key in row[1]]

    def refresh_observed_events(self) -> frozenset[str]:
        """Write onto the store row the keys its enabled integrations observe; return them."""
        statement = select(integrations.c.observes).where(
            integrations.c.store_id == self.store_id, integrations.c.enabled.is_(True)
        )
        observed = frozenset(key for (keys,) in self.connection.execute(statement) for key in keys)
        self.connection.execute(
            update(stores).where(stores.c.id == self.store_id).values(observed_events=sorted(observed))
        )
        return observed

    def pending_jobs(self, integration_ids: Sequence[str]) -> dict[str, int]:
        """Jobs waiting for an attempt or in one, per integration."""
        if not integration_ids:
            return {}
        statement = (
            select(integration_jobs.c.integration_id, func.count())
            .where(
                integration_jobs.c.integration_id.in_(list(integration_ids)),
                integration_jobs.c.status.in_((PENDING, PROCESSING)),
            )
            .group_by(integration_jobs.c.integration_id)
        )
        return {str(row[0]): int(row[1]) for row in self.connection.execute(statement)}

    def cancel_pending(self, integration_id: str, now: datetime) -> int:
        """Cancel the integration's jobs waiting for an attempt; how many."""
        result = self.connection.execute(
            update(integration_jobs)
            .where(integration_jobs.c.integration_id == integration_id, integration_jobs.c.status == PENDING)
            .values(status=CANCELLED, next_attempt_at=None, updated_at=now)
        )
        return int(result.rowcount)

    # Settings

    def settings(self) -> SettingsRecord | None:
        """The store's integration settings, or None when it keeps the defaults."""
        row = self.connection.execute(
            select(integration_settings).where(integration_settings.c.store_id == self.store_id)
        ).first()
        if row is None:
            return None
        return SettingsRecord(
            allowed_private_targets=list(row.allowed_private_targets),
            max_observes_per_integration=int(row.max_observes_per_integration),
            max_integrations=int(row.max_integrations),
            log_retention_days=int(row.log_retention_days),
        )

    def put_settings(self, record: SettingsRecord) -> None:
        """Store the settings (insert or replace)."""
        values = {
            "allowed_private_targets": record.allowed_private_targets,
            "max_observes_per_integration": record.max_observes_per_integration,
            "max_integrations": record.max_integrations,
            "log_retention_days": record.log_retention_days,
        }
        updated = self.connection.execute(
            update(integration_settings)
            .where(integration_settings.c.store_id == self.store_id)
            .values(**values)
        )
        if updated.rowcount == 0:
            self.connection.execute(insert(integration_settings).values(store_id=self.store_id, **values))

    # Events and jobs

    def record_event(
        self,
        *,
        event_id: str,
        event_key: str,
        payload: str,
        job_ids: Sequence[tuple[str, str]],
        now: datetime,
    ) -> None:
        """One event and a pending job per (job id, integration id), due now."""
        self.connection.execute(
            insert(integration_events).values(
                id=event_id, store_id=self.store_id, event_key=event_key, payload=payload, created_at=now
            )
        )
        self.connection.execute(
            insert(integration_jobs),
            [
                {
                    "id": job_id,
                    "store_id": self.store_id,
                    "integration_id": integration_id,
                    "event_id": event_id,
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for job_id, integration_id in job_ids
            ],
        )
        self.notify_deliveries()

    def notify_deliveries(self) -> None:
        """Wake listening workers when this transaction commits (PostgreSQL; SQLite workers poll)."""
        if self.ops.name == "postgresql":
            self.connection.exec_driver_sql(f"NOTIFY {DELIVERIES_CHANNEL}")

    def event_payload(self, event_id: str) -> tuple[str, str, datetime] | None:
        """An event's key, payload and time."""
        row = self.connection.execute(
            select(
                integration_events.c.event_key, integration_events.c.payload, integration_events.c.created_at
            ).where(integration_events.c.id == event_id, integration_events.c.store_id == self.store_id)
        ).first()
        return None if row is None else (row[0], row[1], row[2])

    def jobs_page(
        self, integration_id: str, page: Page, *, status: str | None = None
    ) -> tuple[list[IntegrationJobRecord], int]:
        """A page of an integration's jobs, newest first."""
        conditions: list[ColumnElement[bool]] = [
            integration_jobs.c.integration_id == integration_id,
            integration_jobs.c.store_id == self.store_id,
        ]
        if status is not None:
            conditions.append(integration_jobs.c.status == status)
        joined = integration_jobs.join(
            integration_events, integration_events.c.id == integration_jobs.c.event_id
        )
        total = self.connection.execute(
            select(func.count()).select_from(integration_jobs).where(*conditions)
        ).scalar_one()
        rows = self.connection.execute(
            select(integration_jobs, integration_events.c.event_key)
            .select_from(joined)
            .where(*conditions)
            .order_by(integration_jobs.c.created_at.desc(), integration_jobs.c.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        ).all()
        return [_job(row) for row in rows], int(total)

    def job(self, integration_id: str, job_id: str) -> IntegrationJobRecord | None:
        """One job of an integration."""
        joined = integration_jobs.join(
            integration_events, integration_events.c.id == integration_jobs.c.event_id
        )
        row = self.connection.execute(
            select(integration_jobs, integration_events.c.event_key)
            .select_from(joined)
            .where(
                integration_jobs.c.id == job_id,
                integration_jobs.c.integration_id == integration_id,
                integration_jobs.c.store_id == self.store_id,
            )
        ).first()
        return None if row is None else _job(row)

    def requeue(
        self,
        integration_id: str,
        *,
        statuses: Sequence[str],
        job_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        now: datetime,
    ) -> int:
        """Move finished jobs back to pending, due now (one job, or those last changed in a time range)."""
        conditions: list[ColumnElement[bool]] = [
            integration_jobs.c.integration_id == integration_id,
            integration_jobs.c.store_id == self.store_id,
            integration_jobs.c.status.in_(list(statuses)),
        ]
        if job_id is not None:
            conditions.append(integration_jobs.c.id == job_id)
        if since is not None:
            conditions.append(integration_jobs.c.updated_at >= since)
        if until is not None:
            conditions.append(integration_jobs.c.updated_at <= until)
        result = self.connection.execute(
            update(integration_jobs)
            .where(*conditions)
            .values(status=PENDING, next_attempt_at=now, updated_at=now)
        )
        if result.rowcount:
            self.notify_deliveries()
        return int(result.rowcount)

    # Logs

    def logs_page(
        self,
        page: Page,
        *,
        integration_id: str | None = None,
        job_id: str | None = None,
        succeeded: bool | None = None,
    ) -> tuple[list[IntegrationLogRecord], int]:
        """A page of delivery attempts, newest first."""
        conditions: list[ColumnElement[bool]] = [integration_logs.c.store_id == self.store_id]
        if integration_id is not None:
            conditions.append(integration_logs.c.integration_id == integration_id)
        if job_id is not None:
            conditions.append(integration_logs.c.job_id == job_id)
        if succeeded is not None:
            conditions.append(integration_logs.c.succeeded == succeeded)
        order = (integration_logs.c.created_at.desc(), integration_logs.c.id.desc())
        return count_and_page(self.connection, integration_logs, and_(*conditions), order, page, _log)


def _integration_values(record: IntegrationRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "store_id": record.store_id,
        "name": record.name,
        "description": record.description,
        "enabled": record.enabled,
        "integration_type": record.integration_type,
        "observes": list(record.observes),
        "configuration": record.configuration,
        "secrets": record.secrets,
        "previous_secret_valid_until": record.previous_secret_valid_until,
        "last_attempt_at": record.last_attempt_at,
        "last_success_at": record.last_success_at,
        "last_failure_at": record.last_failure_at,
        "consecutive_failures": record.consecutive_failures,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def _integration(row: Row[Any]) -> IntegrationRecord:
    return _integration_from(row._mapping)


def _integration_from(m: Mapping[str, Any] | RowMapping) -> IntegrationRecord:
    return IntegrationRecord(
        id=str(m["id"]),
        store_id=str(m["store_id"]),
        name=m["name"],
        description=m["description"],
        enabled=bool(m["enabled"]),
        integration_type=m["integration_type"],
        observes=tuple(m["observes"]),
        configuration=dict(m["configuration"]),
        secrets=bytes(m["secrets"]),
        previous_secret_valid_until=m["previous_secret_valid_until"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        last_attempt_at=m["last_attempt_at"],
        last_success_at=m["last_success_at"],
        last_failure_at=m["last_failure_at"],
        consecutive_failures=int(m["consecutive_failures"]),
    )


def _job(row: Row[Any]) -> IntegrationJobRecord:
    m = row._mapping
    return IntegrationJobRecord(
        id=str(m["id"]),
        integration_id=str(m["integration_id"]),
        event_id=str(m["event_id"]),
        event_key=m["event_key"],
        status=m["status"],
        attempts=int(m["attempts"]),
        next_attempt_at=m["next_attempt_at"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _log(row: Row[Any]) -> IntegrationLogRecord:
    m = row._mapping
    return IntegrationLogRecord(
        id=str(m["id"]),
        integration_id=str(m["integration_id"]),
        job_id=str(m["job_id"]),
        succeeded=bool(m["succeeded"]),
        attempt=int(m["attempt"]),
        processing_time_tenths_ms=int(m["processing_time"]),
        body=m["body"],
        status_code=int(m["status_code"]),
        error_detail=m["error_detail"],
        created_at=m["created_at"],
    )


@dataclass(frozen=True)
class ClaimedDelivery:
    """A job leased for one attempt, with what the attempt needs."""

    job_id: str
    store_id: str
    integration: IntegrationRecord
    event_id: str
    event_key: str
    payload: str
    event_created_at: datetime
    attempt: int
    # The store's allow-list as stored (integrations §8.3); empty when it keeps the defaults.
    allowed_private_targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttemptRecord:
    """How an attempt ended, as its log records it."""

    succeeded: bool
    processing_time_tenths_ms: int
    body: str
    status_code: int
    error_detail: str


# The integrations at their cap are found once per claim, not once per due job: counted per candidate, a
# backlog of n due jobs made every claim read about n²/2 rows (0.5-0.8 s at 3,000), and one worker's
# deliveries fell to a few a second just when a receiver came back after an outage.
_CLAIM = """
    UPDATE integration_jobs
    SET status = 'processing', lease_owner = :owner, lease_expires_at = :lease_until,
        attempts = attempts + 1, updated_at = :now
    WHERE id IN (
        SELECT candidate.id FROM integration_jobs AS candidate
        WHERE candidate.status IN ('pending', 'processing')
          AND candidate.next_attempt_at <= :now
          AND (candidate.status = 'pending' OR candidate.lease_expires_at < :now)
          AND candidate.integration_id NOT IN (
              SELECT running.integration_id FROM integration_jobs AS running
              WHERE running.status IN ('pending', 'processing')
                AND running.status = 'processing' AND running.lease_expires_at >= :now
              GROUP BY running.integration_id
              HAVING count(*) >= :per_integration)
        ORDER BY candidate.next_attempt_at
        LIMIT :limit {lock})
    RETURNING id, attempts
"""


class IntegrationDeliveries:
    """Delivery jobs across stores, as workers see them: claimed under a lease, finished by their owner."""

    def __init__(self, connection: Connection, ops: DialectOps) -> None:
        self.connection = connection
        self.ops = ops

    def claim(
        self, owner: str, *, now: datetime, lease_until: datetime, limit: int, per_integration: int
    ) -> list[ClaimedDelivery]:
        """Lease up to `limit` due jobs (new, retrying, or whose lease ran out) to `owner`, at most
        `per_integration` in flight per integration counting those already running."""
        lock = "FOR UPDATE SKIP LOCKED" if self.ops.name == "postgresql" else ""
        statement = text(_CLAIM.format(lock=lock)).bindparams(
            bindparam("now", type_=UTCDateTime), bindparam("lease_until", type_=UTCDateTime)
        )
        claimed = {
            str(row[0]): int(row[1])
            for row in self.connection.execute(
                statement,
                {
                    "owner": owner,
                    "now": now,
                    "lease_until": lease_until,
                    "limit": limit,
                    "per_integration": per_integration,
                },
            )
        }
        if not claimed:
            return []
        rows = self.connection.execute(
            select(
                integration_jobs.c.id,
                integration_jobs.c.store_id,
                integration_events.c.id.label("event_id"),
                integration_events.c.event_key,
                integration_events.c.payload,
                integration_events.c.created_at.label("event_created_at"),
                integration_settings.c.allowed_private_targets,
                *[column.label(f"integration__{column.name}") for column in integrations.c],
            )
            .select_from(
                integration_jobs.join(
                    integration_events, integration_events.c.id == integration_jobs.c.event_id
                )
                .join(integrations, integrations.c.id == integration_jobs.c.integration_id)
                .outerjoin(
                    integration_settings, integration_settings.c.store_id == integration_jobs.c.store_id
                )
            )
            .where(integration_jobs.c.id.in_(list(claimed)))
        ).all()
        deliveries: list[ClaimedDelivery] = []
        per_integration_count: dict[str, int] = {}
        handed_back: list[str] = []
        disabled: list[str] = []
        for row in rows:
            m = row._mapping
            integration = _integration_from(
                {name[len("integration__") :]: m[name] for name in m if name.startswith("integration__")}
            )
            if not integration.enabled:
                # Recorded by a change that read the integration as enabled while it was being disabled.
                disabled.append(str(m["id"]))
                continue
            seen = per_integration_count.get(integration.id, 0)
            if seen >= per_integration:
                handed_back.append(str(m["id"]))
                continue
            per_integration_count[integration.id] = seen + 1
            deliveries.append(
                ClaimedDelivery(
                    job_id=str(m["id"]),
                    store_id=str(m["store_id"]),
                    integration=integration,
                    event_id=str(m["event_id"]),
                    event_key=m["event_key"],
                    payload=m["payload"],
                    event_created_at=m["event_created_at"],
                    attempt=claimed[str(m["id"])],
                    allowed_private_targets=tuple(m["allowed_private_targets"] or ()),
                )
            )
        if disabled:
            self.connection.execute(
                update(integration_jobs)
                .where(integration_jobs.c.id.in_(disabled), integration_jobs.c.lease_owner == owner)
                .values(
                    status=CANCELLED,
                    next_attempt_at=None,
                    lease_owner=None,
                    lease_expires_at=None,
                    attempts=integration_jobs.c.attempts - 1,
                    updated_at=now,
                )
            )
        if handed_back:
            # One claim may take more jobs of an integration than it may run at once: the rest go back
            # untouched, their attempt not counted.
            self.connection.execute(
                update(integration_jobs)
                .where(integration_jobs.c.id.in_(handed_back), integration_jobs.c.lease_owner == owner)
                .values(
                    status=PENDING,
                    lease_owner=None,
                    lease_expires_at=None,
                    attempts=integration_jobs.c.attempts - 1,
                )
            )
        return deliveries

    def finish(
        self,
        delivery: ClaimedDelivery,
        owner: str,
        outcome: AttemptRecord,
        *,
        status: str,
        next_attempt_at: datetime | None,
        log_id: str,
        now: datetime,
    ) -> bool:
        """Write the attempt's log and move its job, if `owner` still holds the lease and the integration
        still exists; False (nothing written) otherwise."""
        moved = self.connection.execute(
            update(integration_jobs)
            .where(
                integration_jobs.c.id == delivery.job_id,
                integration_jobs.c.status == PROCESSING,
                integration_jobs.c.lease_owner == owner,
            )
            .values(
                status=status,
                next_attempt_at=next_attempt_at,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
            )
        )
        if moved.rowcount != 1:
            return False
        integration_id = delivery.integration.id
        self.connection.execute(
            insert(integration_logs).values(
                id=log_id,
                store_id=delivery.store_id,
                integration_id=integration_id,
                job_id=delivery.job_id,
                succeeded=outcome.succeeded,
                attempt=delivery.attempt,
                processing_time=outcome.processing_time_tenths_ms,
                body=outcome.body,
                status_code=outcome.status_code,
                error_detail=outcome.error_detail,
                created_at=now,
            )
        )
        summary: dict[str, Any] = {"last_attempt_at": now}
        if outcome.succeeded:
            summary.update(last_success_at=now, consecutive_failures=0)
        else:
            summary.update(last_failure_at=now, consecutive_failures=integrations.c.consecutive_failures + 1)
        self.connection.execute(
            update(integrations).where(integrations.c.id == integration_id).values(**summary)
        )
        return True

    def purge_finished(self, store_id: str, before: datetime, limit: int) -> int:
        """Delete up to `limit` finished jobs of a store last changed before `before`, with their logs and
        events no job delivers any more; how many jobs."""
        finished = (
            select(integration_jobs.c.id)
            .where(
                integration_jobs.c.store_id == store_id,
                integration_jobs.c.status.in_(("succeeded", "failed", CANCELLED)),
                integration_jobs.c.updated_at < before,
            )
            .limit(limit)
        )
        ids = [str(row[0]) for row in self.connection.execute(finished)]
        if not ids:
            return 0
        events = [
            str(row[0])
            for row in self.connection.execute(
                select(integration_jobs.c.event_id).where(integration_jobs.c.id.in_(ids)).distinct()
            )
        ]
        self.connection.execute(delete(integration_logs).where(integration_logs.c.job_id.in_(ids)))
        self.connection.execute(delete(integration_jobs).where(integration_jobs.c.id.in_(ids)))
        still_delivered = select(integration_jobs.c.id).where(
            integration_jobs.c.event_id == integration_events.c.id
        )
        self.connection.execute(
            delete(integration_events).where(integration_events.c.id.in_(events), ~still_delivered.exists())
        )
        return len(ids)

    def retention_by_store(self) -> dict[str, int]:
        """Stores that keep integration jobs, with their retention in days (the default when unset)."""
        rows = self.connection.execute(
            select(integration_jobs.c.store_id, integration_settings.c.log_retention_days)
            .select_from(
                integration_jobs.outerjoin(
                    integration_settings, integration_settings.c.store_id == integration_jobs.c.store_id
                )
            )
            .distinct()
        )
        return {str(row[0]): int(row[1] or DEFAULT_LOG_RETENTION_DAYS) for row in rows}
