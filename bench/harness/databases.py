"""Throwaway databases (a SQLite file, or a database made on a PostgreSQL server) and plain connections."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bench.harness.timing import BenchError
from promoforge.bootstrap import open_database
from promoforge.config import Settings

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_URL_ENV = "PROMOFORGE_BENCH_POSTGRES_URL"
SQLITE_PRAGMAS = ("synchronous", "cache_size", "temp_store", "mmap_size", "foreign_keys")


def redacted(url: str) -> str:
    """Render a database URL without its password."""
    return make_url(url).render_as_string(hide_password=True)


def libpq_url(url: str) -> str:
    """Turn a SQLAlchemy-style PostgreSQL URL into one libpq accepts."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    """Return the URL pointing at another database on the same server."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def choose_postgres(postgres_url: str | None, no_postgres: bool) -> tuple[str | None, str]:
    """Decide which PostgreSQL server to use; return (url or None, reason)."""
    if no_postgres:
        return None, "skipped (--no-postgres)"
    explicit = postgres_url or os.environ.get(POSTGRES_URL_ENV)
    url = explicit or DEFAULT_POSTGRES_URL
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=3):
            pass
    except psycopg.Error as error:
        if explicit:
            raise BenchError(f"PostgreSQL at {redacted(url)} is not reachable: {error}") from None
        return None, f"skipped ({redacted(url)} not reachable)"
    return url, "ok"


def postgres_info(admin_url: str) -> dict[str, Any]:
    """Connect to the server and return its version and a few settings that matter for the figures."""
    with psycopg.connect(libpq_url(admin_url), connect_timeout=5, autocommit=True) as conn:
        info: dict[str, Any] = {}
        names = (
            "server_version",
            "server_version_num",
            "shared_buffers",
            "synchronous_commit",
            "fsync",
            "autovacuum",
        )
        for name in names:
            row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
            info[name] = row[0] if row else None
        row = conn.execute("SELECT version()").fetchone()
        info["version"] = row[0] if row else None
    return info


def create_database(admin_url: str, name: str) -> None:
    """Create an empty database on the server."""
    with psycopg.connect(libpq_url(admin_url), connect_timeout=5, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_url: str, name: str) -> None:
    """Drop a database, closing any session still connected to it."""
    with psycopg.connect(libpq_url(admin_url), connect_timeout=5, autocommit=True) as conn:
        if conn.info.server_version >= 130000:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            return
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> "
            "pg_backend_pid()",
            (name,),
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def sqlite_path(database_url: str) -> str:
    """The file of a sqlite:/// URL."""
    database = make_url(database_url).database
    if not database:
        raise BenchError(f"no SQLite file in {database_url}")
    return database


def service_sqlite_pragmas(database_url: str) -> dict[str, int]:
    """The per-connection PRAGMAs the service's own engine sets, read from one of its connections."""
    db = open_database(Settings.model_construct(database_url=database_url))
    try:
        with db.engine.connect() as connection:
            return {
                name: int(connection.exec_driver_sql(f"PRAGMA {name}").scalar_one())
                for name in SQLITE_PRAGMAS
            }
    finally:
        db.dispose()


def connect_sqlite(database_url: str, pragmas: dict[str, int], timeout: float = 60) -> sqlite3.Connection:
    """A plain sqlite3 connection, with the given per-connection PRAGMAs applied."""
    conn = sqlite3.connect(
        sqlite_path(database_url), timeout=timeout, isolation_level=None, check_same_thread=False
    )
    for name, value in pragmas.items():
        conn.execute(f"PRAGMA {name}={int(value)}")
    return conn


def connect_postgres(database_url: str) -> psycopg.Connection[Any]:
    """A plain psycopg connection with server defaults."""
    return psycopg.connect(libpq_url(database_url))


@contextmanager
def baseline_connection(backend: str, database_url: str, pragmas: dict[str, int]) -> Iterator[Any]:
    """A plain DB-API connection in autocommit mode (the sender issues BEGIN and COMMIT itself)."""
    if backend == "sqlite":
        # The service's busy timeout, so waiting for the write lock works the same way on both sides.
        lite = connect_sqlite(database_url, pragmas, timeout=30)
        try:
            yield lite
        finally:
            lite.close()
    else:
        pg = connect_postgres(database_url)
        pg.autocommit = True
        try:
            yield pg
        finally:
            pg.close()
