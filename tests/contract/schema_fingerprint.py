"""A comparable description of a database's schema: columns, indexes (with their predicates), constraints."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine, text

_IGNORED_TABLES = ("alembic_version",)


def schema_fingerprint(engine: Engine) -> dict[str, Any]:
    """Describe every table, column, index and constraint, in a form independent of creation order."""
    if engine.dialect.name == "sqlite":
        return _sqlite(engine)
    return _postgresql(engine)


def _normalise(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql).strip()
    return re.sub(r"\s*([(),])\s*", r"\1", sql)


def _sqlite(engine: Engine) -> dict[str, Any]:
    result: dict[str, Any] = {}
    with engine.connect() as connection:
        tables = connection.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        ).scalars()
        for table in sorted(set(tables) - set(_IGNORED_TABLES)):
            columns = {
                row.name: (row.type.upper(), row.notnull, row.dflt_value, row.pk)
                for row in connection.execute(text(f"PRAGMA table_info('{table}')"))
            }
            indexes = {}
            for index in connection.execute(text(f"PRAGMA index_list('{table}')")):
                names = [info.name for info in connection.execute(text(f"PRAGMA index_info('{index.name}')"))]
                sql = connection.execute(
                    text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"),
                    {"name": index.name},
                ).scalar()
                where = _normalise(sql.split(" WHERE ", 1)[1]) if sql and " WHERE " in sql else None
                key = index.name if not index.name.startswith("sqlite_autoindex") else f"auto:{names}"
                indexes[key] = (bool(index.unique), names, bool(index.partial), where)
            foreign_keys = sorted(
                (row["table"], row["from"], row["to"], row["on_delete"])
                for row in connection.execute(text(f"PRAGMA foreign_key_list('{table}')")).mappings()
            )
            result[table] = {"columns": columns, "indexes": indexes, "foreign_keys": foreign_keys}
    return result


def _postgresql(engine: Engine) -> dict[str, Any]:
    result: dict[str, Any] = {}
    with engine.connect() as connection:
        columns = connection.execute(
            text(
                "SELECT table_name, column_name, data_type, is_nullable, column_default, collation_name,"
                " character_maximum_length, is_identity FROM information_schema.columns"
                " WHERE table_schema = 'public'"
            )
        ).all()
        for row in columns:
            if row.table_name in _IGNORED_TABLES:
                continue
            table = result.setdefault(row.table_name, {"columns": {}, "indexes": {}, "constraints": {}})
            table["columns"][row.column_name] = tuple(row[2:])
        for row in connection.execute(
            text("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        ):
            if row.tablename not in _IGNORED_TABLES:
                result[row.tablename]["indexes"][row.indexname] = row.indexdef
        for row in connection.execute(
            text(
                "SELECT c.conrelid::regclass::text AS table_name, c.conname,"
                " pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c"
                " JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'"
            )
        ):
            if row.table_name not in _IGNORED_TABLES:
                result[row.table_name]["constraints"][row.conname] = row.definition
    return result
