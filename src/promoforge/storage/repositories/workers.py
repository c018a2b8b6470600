"""Worker heartbeats and the schema revision: what readiness reads, across stores."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, column, delete, func, insert, select, table, update

from promoforge.domain.health import WorkerHeartbeat
from promoforge.storage.schema import worker_heartbeats

_alembic_version = table("alembic_version", column("version_num"))


class WorkerHeartbeatRepository:
    """One row per live worker process; each process writes only its own."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def beat(self, heartbeat: WorkerHeartbeat) -> None:
        """Record the heartbeat, creating the worker's row on its first."""
        # Only the worker itself writes its row, so an update that finds none can insert without a race.
        updated = self.connection.execute(
            update(worker_heartbeats)
            .where(worker_heartbeats.c.id == heartbeat.id)
            .values(beat_at=heartbeat.beat_at, threads=heartbeat.threads)
        )
        if updated.rowcount == 0:
            self.connection.execute(
                insert(worker_heartbeats).values(
                    id=heartbeat.id,
                    host=heartbeat.host,
                    pid=heartbeat.pid,
                    threads=heartbeat.threads,
                    started_at=heartbeat.started_at,
                    beat_at=heartbeat.beat_at,
                )
            )

    def remove(self, worker_id: str) -> None:
        """Delete a worker's row (it is stopping)."""
        self.connection.execute(delete(worker_heartbeats).where(worker_heartbeats.c.id == worker_id))

    def purge_silent_since(self, cutoff: datetime) -> int:
        """Delete the rows of workers whose last heartbeat is older than `cutoff`; return how many."""
        silent = worker_heartbeats.c.beat_at < cutoff
        return int(self.connection.execute(delete(worker_heartbeats).where(silent)).rowcount)

    def latest_beat(self, *, worker_id: str | None = None, host: str | None = None) -> datetime | None:
        """The newest heartbeat of one worker, of the workers on one host, or of any worker."""
        query = select(func.max(worker_heartbeats.c.beat_at))
        if worker_id is not None:
            query = query.where(worker_heartbeats.c.id == worker_id)
        if host is not None:
            query = query.where(worker_heartbeats.c.host == host)
        latest: datetime | None = self.connection.execute(query).scalar()
        return latest

    def all(self) -> list[WorkerHeartbeat]:
        """Every row, oldest heartbeat first."""
        rows = self.connection.execute(select(worker_heartbeats).order_by(worker_heartbeats.c.beat_at))
        return [
            WorkerHeartbeat(
                id=row.id,
                host=row.host,
                pid=row.pid,
                threads=row.threads,
                started_at=row.started_at,
                beat_at=row.beat_at,
            )
            for row in rows
        ]


def schema_revision(connection: Connection) -> str | None:
    """The revision the database's schema is at, as Alembic recorded it."""
    revision: str | None = connection.execute(select(_alembic_version.c.version_num)).scalar()
    return revision
