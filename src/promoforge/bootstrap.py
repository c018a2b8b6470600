"""The composition root: builds settings, engine, storage and signers for every entry point."""

from __future__ import annotations

from dataclasses import dataclass

from promoforge.config import Settings
from promoforge.services.auth import TokenSigner
from promoforge.services.clock import Clock, utc_now
from promoforge.services.jobs import LinkSigner
from promoforge.services.secret_box import SecretBox, open_secret_box
from promoforge.services.signing_keys import KeyRing, open_key_ring
from promoforge.storage import migrate
from promoforge.storage.engine import build_engine
from promoforge.storage.repositories import Database
from promoforge.storage.repositories.outbox import EventRenderer


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
    keys: KeyRing
    secrets: SecretBox

    def close(self) -> None:
        """Release database connections."""
        self.db.dispose()


# Connections one worker thread may hold at once: an export's snapshot read, the step writing a part,
# and the lease heartbeat.
CONNECTIONS_PER_WORKER = 3
# Connections for the API's request threads (the rest wait in the pool's queue).
API_CONNECTIONS = 10


def pool_size_for(*, worker_threads: int) -> int:
    """The connections a process needs: its request handlers plus every worker thread it runs."""
    return API_CONNECTIONS + CONNECTIONS_PER_WORKER * worker_threads


def open_database(settings: Settings, *, worker_threads: int | None = None) -> Database:
    """Build the storage port for the configured database, creating the data directory for SQLite.

    `worker_threads` is how many job workers this process runs (the settings' count by default).
    """
    threads = settings.worker_concurrency if worker_threads is None else worker_threads
    return Database(
        build_engine(
            settings.resolved_database_url(),
            sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            pool_size=pool_size_for(worker_threads=threads),
        )
    )


def build(
    settings: Settings | None = None, *, clock: Clock = utc_now, worker_threads: int | None = None
) -> Container:
    """Build the container for a migrated database, with a pool that fits the workers it will run."""
    settings = settings or Settings()
    db = open_database(settings, worker_threads=worker_threads)
    if not migrate.is_up_to_date(db.engine):
        db.dispose()
        raise DatabaseNotMigrated(
            "the database schema is missing or out of date; run `promoforge migrate` first"
        )
    try:
        keys = open_key_ring(settings, db, now=clock())
        box = open_secret_box(settings)
    except Exception:
        db.dispose()
        raise
    db.render_events = _event_renderer(settings.public_url)
    return Container(
        settings=settings,
        db=db,
        tokens=TokenSigner(keys),
        links=LinkSigner(keys),
        clock=clock,
        keys=keys,
        secrets=box,
    )


def _event_renderer(public_url: str | None) -> EventRenderer:
    """Event payloads are the API's own documents (integrations §7), imported when an event is first
    rendered so that commands that never record one do not load the API."""

    def render(event_key: str, subject: object) -> str:
        from promoforge.api.documents.events import event_payload_text

        return event_payload_text(event_key, subject, public_url=public_url)

    return render
