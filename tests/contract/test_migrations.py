"""`promoforge migrate` on an empty database yields exactly the schema the code expects."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from contract.schema_fingerprint import schema_fingerprint
from promoforge.bootstrap import open_database
from promoforge.config import Settings
from promoforge.storage import migrate
from promoforge.storage.schema import metadata
from support import run_migrate


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


def _table_counts(db: Any, names: Any = None) -> dict[str, int]:
    """Rows per table: of the tables named, or of every table the database has now."""
    from sqlalchemy import func, select

    with db.engine.connect() as connection:
        present = set(inspect(connection).get_table_names()) if names is None else set(names)
        return {
            table.name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
            for table in metadata.sorted_tables
            if table.name in present
        }


def test_upgrade_from_0002_keeps_the_data_and_gives_old_exports_a_week(empty_database_url: str) -> None:
    """0003 adds its columns in place: no row of any table is lost, old export files get the default."""
    from datetime import UTC, datetime, timedelta

    from alembic import command
    from sqlalchemy import MetaData, insert, select

    from promoforge.storage.schema import promotion_jobs, stores

    db = open_database(Settings(database_url=empty_database_url))
    try:
        config = migrate._config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0002")
        # Rows are written as that revision's tables have them, read back from the database itself.
        legacy = MetaData()
        with db.engine.connect() as connection:
            legacy.reflect(connection)
        now = datetime.now(UTC)
        store_id, promotion_id = (
            "00000000-0000-4000-8000-000000000001",
            "00000000-0000-4000-8000-000000000002",
        )
        export_id, failed_id, generate_id = (f"00000000-0000-4000-8000-00000000000{n}" for n in (3, 4, 5))
        with db.engine.begin() as connection:
            connection.execute(
                insert(legacy.tables["service_keys"]).values(name="k", secret="s", created_at=now)
            )
            connection.execute(
                insert(legacy.tables["stores"]).values(
                    id=store_id,
                    name="s",
                    client_id="c",
                    client_secret_hash="h",
                    max_codes_per_promotion=10,
                    created_at=now,
                    updated_at=now,
                )
            )
            connection.execute(
                insert(legacy.tables["promotions"]).values(
                    id=promotion_id,
                    store_id=store_id,
                    name="p",
                    description="",
                    enabled=True,
                    automatic=False,
                    promotion_type="fixed_discount",
                    schema={},
                    starts_at=now,
                    ends_at=now,
                    code_count=2,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            connection.execute(
                insert(legacy.tables["promotion_versions"]).values(
                    promotion_id=promotion_id, version=1, store_id=store_id, attributes={}, created_at=now
                )
            )
            for number, code in enumerate(["ONE", "TWO"], start=10):
                connection.execute(
                    insert(legacy.tables["promotion_codes"]).values(
                        id=f"00000000-0000-4000-8000-0000000000{number}",
                        store_id=store_id,
                        promotion_id=promotion_id,
                        code=code,
                        code_key=code.lower(),
                        consume_unit="per_cart",
                        created_at=now,
                    )
                )
            for job_id, job_type, status, size in (
                (export_id, "code_export", "completed", 100),
                (failed_id, "code_export", "failed", None),
                (generate_id, "code_generate", "completed", None),
            ):
                connection.execute(
                    insert(legacy.tables["promotion_jobs"]).values(
                        id=job_id,
                        store_id=store_id,
                        promotion_id=promotion_id,
                        job_type=job_type,
                        status=status,
                        file_name="f.csv" if size else None,
                        file_size=size,
                        created_at=now,
                        updated_at=now,
                    )
                )
            for part in range(2):
                connection.execute(
                    insert(legacy.tables["job_files"]).values(job_id=export_id, part=part, data=b"x" * 50)
                )
        before = _table_counts(db)
        assert all(before.values())

        migrate.upgrade_to_head(db.engine)
        assert migrate.is_up_to_date(db.engine)
        assert _table_counts(db, before) == before
        with db.engine.connect() as connection:
            retention = connection.execute(select(stores.c.export_retention_days)).scalar_one()
            expiries = dict(
                connection.execute(select(promotion_jobs.c.id, promotion_jobs.c.file_expires_at)).all()
            )
        assert retention == 7
        assert expiries[failed_id] is None and expiries[generate_id] is None
        assert now + timedelta(days=7) <= expiries[export_id] <= datetime.now(UTC) + timedelta(days=7)

        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")
        assert _table_counts(db, before) == before
        with db.engine.connect() as connection:
            columns = {
                table: {column["name"] for column in inspect(connection).get_columns(table)}
                for table in ("stores", "promotion_jobs")
            }
        assert "export_retention_days" not in columns["stores"]
        assert "file_expires_at" not in columns["promotion_jobs"]
    finally:
        db.dispose()
