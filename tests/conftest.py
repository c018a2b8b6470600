"""Fixtures: one `database_url` fixture for both backends, a container, an ASGI client, stores with tokens.

Which backends a test that takes `database_url` runs on follows the suite's layers. tests/storage/ (the
repositories' contract) runs on SQLite and PostgreSQL, as do tests/jobs/, tests/concurrency/, tests/cli/
and tests/contract/. tests/services/ (the use cases, without HTTP) and tests/api/ (wire shapes) run on
SQLite alone, unless the test (or its module) is marked `both_backends` because it exercises SQL that
differs between them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promoforge.bootstrap import Container, build, open_database
from promoforge.config import Settings
from promoforge.jobs.worker import Worker
from promoforge.storage import migrate
from receivers import receiver  # noqa: F401 (a fixture, shared by the delivery tests)
from support import (
    POSTGRES_ENV,
    PostgresDatabases,
    StoreClient,
    TestClient,
    app_over,
    make_store,
    postgres_server_url,
    settings_for,
    truncate_postgres,
)

BACKENDS = ["sqlite", "postgresql"]
# The layers above storage: their SQL is the repositories', which tests/storage/ checks on both backends.
SQLITE_ONLY_TESTS = (Path(__file__).parent / "api", Path(__file__).parent / "services")


def backends_for(test: pytest.Function | pytest.FunctionDefinition) -> list[str]:
    """Both backends, but SQLite alone for a test under tests/api/ or tests/services/ not marked
    `both_backends`."""
    above_storage = any(test.path.is_relative_to(folder) for folder in SQLITE_ONLY_TESTS)
    if above_storage and test.get_closest_marker("both_backends") is None:
        return ["sqlite"]
    return BACKENDS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize `database_url` with the backends the test runs on, unless the test names them itself."""
    if "database_url" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if "database_url" in ([n.strip() for n in names.split(",")] if isinstance(names, str) else names):
            return
    metafunc.parametrize("database_url", backends_for(metafunc.definition), indirect=True)


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    """Factory of empty PostgreSQL databases (skips without PROMOFORGE_TEST_POSTGRES_URL)."""
    server = postgres_server_url()
    if server is None:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    databases = PostgresDatabases(server)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def migrated_postgres(postgres_databases: PostgresDatabases) -> str:
    """One migrated PostgreSQL database for the session; tests are isolated by truncation."""
    url = postgres_databases.create()
    db = open_database(Settings(database_url=url))
    migrate.upgrade_to_head(db.engine)
    db.dispose()
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = open_database(Settings(database_url=f"sqlite:///{path}"))
    migrate.upgrade_to_head(db.engine)
    db.dispose()
    return path


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database: a SQLite file, or PostgreSQL (skipped when not configured); which ones a
    test gets is `backends_for` it."""
    if request.param == "sqlite":
        path = tmp_path / "promoforge.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("migrated_postgres")
    truncate_postgres(url)
    return url


@pytest.fixture
def container(database_url: str, tmp_path: Path) -> Iterator[Container]:
    """A container over the test database."""
    built = build(settings_for(database_url, tmp_path))
    yield built
    built.close()


@pytest.fixture
def app_client(container: Container) -> Iterator[TestClient]:
    """An ASGI client for the app, without a background worker (tests run jobs explicitly)."""
    with TestClient(app_over(container)) as client:
        yield client


@pytest.fixture
def shop(container: Container, app_client: TestClient) -> StoreClient:
    """An admin (client_credentials) client of a fresh store."""
    return make_store(container, app_client)


@pytest.fixture
def run_jobs(container: Container) -> Any:
    """Run queued jobs to the end in this thread; returns how many ran."""

    def run() -> int:
        return Worker(container.db, container.settings, clock=container.clock).run_until_empty()

    return run


@pytest.fixture
def database_url_factory(empty_database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Makes more empty databases on the same backend as `empty_database_url`."""
    counter = iter(range(1000))

    def make() -> str:
        if empty_database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / f'extra-{next(counter)}.db'}"
        databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
        return databases.create()

    return make


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no tables at all: a new SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    return databases.create()


@pytest.fixture(autouse=True)
def metrics_environment() -> Iterator[None]:
    """Restore PROMETHEUS_MULTIPROC_DIR after each test: a CLI command run in the test process sets it, and a
    later test's scrape in the same process would read the multi-process files instead of its counters."""
    before = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    yield
    if before is None:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = before
