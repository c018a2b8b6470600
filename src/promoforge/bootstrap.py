"""The composition root: builds settings, engine, storage and signers for every entry point."""

from __future__ import annotations

from dataclasses import dataclass

from promoforge.config import Settings
from promoforge.services.auth import TOKEN_SIGNING_KEY, TokenSigner, load_signing_secret
from promoforge.services.clock import Clock, utc_now
from promoforge.services.jobs import LINK_SIGNING_KEY, LinkSigner
from promoforge.storage import migrate
from promoforge.storage.engine import build_engine
from promoforge.storage.repositories import Database


class DatabaseNotMigrated(RuntimeError):
    """The database schema is not the one this code expects."""


@dataclass
class Container:
    """What the API, the CLI and the worker share."""

    settings: Settings
    db: Database
    tokens: TokenSigner
    links: LinkSigner
    clock: Clock

    def close(self) -> None:
        """Release database connections."""
        self.db.dispose()


def open_database(settings: Settings) -> Database:
    """Build the storage port for the configured database, creating the data directory for SQLite."""
    return Database(
        build_engine(
            settings.resolved_database_url(),
            sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            # Each worker thread may hold a connection for its step and one for its lease heartbeat.
            pool_size=10 + 2 * settings.worker_concurrency,
        )
    )


def build(settings: Settings | None = None, *, clock: Clock = utc_now) -> Container:
    """Build the container for a migrated database."""
    settings = settings or Settings()
    db = open_database(settings)
    if not migrate.is_up_to_date(db.engine):
        db.dispose()
        raise DatabaseNotMigrated(
            "the database schema is missing or out of date; run `promoforge migrate` first"
        )
    now = clock()
    return Container(
        settings=settings,
        db=db,
        tokens=TokenSigner(load_signing_secret(db, name=TOKEN_SIGNING_KEY, now=now)),
        links=LinkSigner(load_signing_secret(db, name=LINK_SIGNING_KEY, now=now)),
        clock=clock,
    )
