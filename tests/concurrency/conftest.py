"""A real `promoforge serve` over the test database, for the races that need separate server processes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from itertools import count
from pathlib import Path

import pytest

from promoforge.bootstrap import Container, build, open_database
from promoforge.config import Settings
from promoforge.storage import migrate
from support import PostgresDatabases, ServeApi, running_server, settings_for


@pytest.fixture
def serve_api(container: Container, database_url: str, tmp_path: Path) -> Iterator[ServeApi]:
    """Start `promoforge serve` over the test database: `serve_api(workers=2, JOB_POLL_SECONDS="0.05")`
    (settings without their PROMOFORGE_ prefix); each server stops at the end of the test."""
    numbers = count()
    with ExitStack() as servers:

        def serve(*, workers: int | None = None, options: Sequence[str] = (), **settings: str) -> str:
            log = tmp_path / f"server-{next(numbers)}.log"
            env = {f"PROMOFORGE_{name}": value for name, value in settings.items()}
            return servers.enter_context(
                running_server(database_url, log, workers=workers, options=options, **env)
            )

        yield serve


@pytest.fixture
def server(serve_api: ServeApi) -> str:
    """`promoforge serve --workers 2` over the test database; its base URL."""
    return serve_api(workers=2)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> str:
    """A migrated database of its own for one test module: a SQLite file, then a new PostgreSQL database
    (skipped when not configured). The module's tests share it, each in a store of its own."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("module") / "promoforge.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    url = databases.create()
    db = open_database(Settings(database_url=url))
    migrate.upgrade_to_head(db.engine)
    db.dispose()
    return url


@pytest.fixture(scope="module")
def module_container(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Container]:
    """A container over the module's database."""
    built = build(settings_for(module_database_url, tmp_path_factory.mktemp("module-data")))
    yield built
    built.close()


@pytest.fixture(scope="module")
def module_server(
    module_container: Container, module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One `promoforge serve --workers 2` over the module's database for all its tests: starting a server
    takes seconds, so tests that can share one (each in its own store) do."""
    log = tmp_path_factory.mktemp("module-server") / "server.log"
    with running_server(module_database_url, log, workers=2) as base:
        yield base
