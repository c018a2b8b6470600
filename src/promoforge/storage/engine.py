"""Engine construction: connection settings per backend and how transactions begin."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry


def normalise_url(url: str) -> str:
    """Point postgresql URLs at the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def build_engine(url: str, *, sqlite_busy_timeout_ms: int = 30_000, pool_size: int = 10) -> Engine:
    """Create the engine for a database URL (SQLite file or PostgreSQL)."""
    url = normalise_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, sqlite_busy_timeout_ms, pool_size)
    if backend == "postgresql":
        return create_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size * 2,
            pool_pre_ping=True,
            hide_parameters=True,
            future=True,
        )
    raise ValueError(f"unsupported database backend {backend!r}; use sqlite:/// or postgresql://")


def _sqlite_engine(url: str, busy_timeout_ms: int, pool_size: int) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        # Errors name their statement but not its values (addresses, e-mails), which would reach the logs.
        hide_parameters=True,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself, so writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    # SQLite lets one writer in at a time, and its busy handler retries after sleeps of up to 100 ms, so
    # under load the lock sits free while waiters sleep and some wait for seconds. Writers of this process
    # therefore queue here and start the moment the previous one has ended; busy_timeout still arbitrates
    # with other processes.
    writer_turn = threading.Lock()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A deferred transaction that later writes can fail with SQLITE_BUSY without waiting;
        # IMMEDIATE takes the write lock at BEGIN, where busy_timeout applies.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":
            if not writer_turn.acquire(timeout=busy_timeout_ms / 1000):
                busy = sqlite3.OperationalError("database is locked (waited for this process's writers)")
                raise exc.OperationalError(f"BEGIN {mode}", None, busy)
            connection.connection.info["writer_turn"] = True
        connection.exec_driver_sql(f"BEGIN {mode}")

    @event.listens_for(engine, "checkin")
    def _end_turn(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Back in the pool means committed or rolled back: only now may the next writer begin.
        if record.info.pop("writer_turn", False):
            writer_turn.release()

    return engine
