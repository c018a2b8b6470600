"""`promoforge migrate` on an empty database yields exactly the schema the code expects."""

from __future__ import annotations

import subprocess
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from contract.schema_fingerprint import schema_fingerprint
from promoforge.bootstrap import open_database
from promoforge.config import Settings
from promoforge.storage import migrate
from promoforge.storage.schema import metadata
from support import clean_environment, promoforge_command


def run_migrate(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promoforge_command(), "migrate"],
        env=clean_environment(PROMOFORGE_DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_migrate_creates_the_expected_schema(empty_database_url: str) -> None:
    result = run_migrate(empty_database_url)
    assert result.returncode == 0, result.stderr
    assert migrate.head_revision() in result.stdout
    db = open_database(Settings(database_url=empty_database_url))
    try:
        assert migrate.is_up_to_date(db.engine)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
            tables = set(inspect(connection).get_table_names())
        assert {t.name for t in metadata.sorted_tables} <= tables
    finally:
        db.dispose()


def test_migrated_schema_is_the_schema_the_code_declares(
    empty_database_url: str, database_url_factory: Any
) -> None:
    """Every column, index (partial-index predicates included), key and constraint matches create_all's."""
    assert run_migrate(empty_database_url).returncode == 0
    declared_url = database_url_factory()
    declared = open_database(Settings(database_url=declared_url))
    migrated = open_database(Settings(database_url=empty_database_url))
    try:
        metadata.create_all(declared.engine)
        assert schema_fingerprint(migrated.engine) == schema_fingerprint(declared.engine)
    finally:
        declared.dispose()
        migrated.dispose()


def test_the_fingerprint_sees_a_changed_index_predicate(database_url_factory: Any) -> None:
    """The comparison above would catch a migration whose partial index differs only in its condition."""
    first, second = (open_database(Settings(database_url=database_url_factory())) for _ in range(2))
    try:
        for db, condition in (
            (first, "status IN ('pending')"),
            (second, "status IN ('pending', 'processing')"),
        ):
            with db.engine.begin() as connection:
                connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, status TEXT)"))
                connection.execute(text(f"CREATE UNIQUE INDEX uq_t ON t (id) WHERE {condition}"))
        assert schema_fingerprint(first.engine) != schema_fingerprint(second.engine)
    finally:
        first.dispose()
        second.dispose()


def test_migrate_twice_is_harmless(empty_database_url: str) -> None:
    assert run_migrate(empty_database_url).returncode == 0
    second = run_migrate(empty_database_url)
    assert second.returncode == 0, second.stderr


def test_downgrade_removes_everything_and_upgrade_restores_it(empty_database_url: str) -> None:
    from alembic import command

    db = open_database(Settings(database_url=empty_database_url))
    try:
        migrate.upgrade_to_head(db.engine)
        config = migrate._config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        migrate.upgrade_to_head(db.engine)
        assert migrate.is_up_to_date(db.engine)
    finally:
        db.dispose()
