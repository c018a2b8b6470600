"""SQLite statements."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Insert, Table, bindparam, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import TextClause

from promoforge.storage.schema import ACTIVE_JOB_CONDITION, UTCDateTime


class SQLiteOps:
    """SQLite flavour of the backend-specific statements."""

    name = "sqlite"

    def insert_ignoring_conflicts(self, table: Table) -> Insert:
        """INSERT ... ON CONFLICT DO NOTHING."""
        return sqlite_insert(table).on_conflict_do_nothing()

    def insert_random_codes(self) -> TextClause:
        """Insert a JSON array of id-and-body strings; `WHERE true` disambiguates ON CONFLICT after SELECT."""
        return text(
            """
            INSERT INTO promotion_codes
                (id, store_id, promotion_id, job_id, code, code_key, max_uses, uses,
                 consume_unit, created_by, created_at)
            SELECT substr(value, 1, 36), :store_id, :promotion_id, :job_id,
                   :prefix || substr(value, 37), :key_prefix || substr(value, 37), :max_uses, :max_uses,
                   :consume_unit, :created_by, :created_at
            FROM json_each(:rows) WHERE true
            ON CONFLICT DO NOTHING
            """
        ).bindparams(bindparam("created_at", type_=UTCDateTime))

    def random_code_params(self, ids: Sequence[str], bodies: Sequence[str]) -> dict[str, object]:
        """One JSON array of id+body strings: a single bound value that SQLite parses in C."""
        return {"rows": json.dumps([code_id + body for code_id, body in zip(ids, bodies, strict=True)])}

    def claim_next_job(self) -> TextClause:
        """Take the oldest claimable job; the caller runs this in an IMMEDIATE transaction."""
        return text(
            f"""
            UPDATE promotion_jobs
            SET status = CASE WHEN status = 'pending' THEN 'processing' ELSE status END,
                updated_at = CASE WHEN status = 'pending' THEN :now ELSE updated_at END,
                lease_owner = :owner, lease_expires_at = :lease_until, attempts = attempts + 1
            WHERE id = (
                SELECT id FROM promotion_jobs
                WHERE {ACTIVE_JOB_CONDITION}
                  AND (status = 'pending' OR lease_expires_at IS NULL OR lease_expires_at < :now)
                ORDER BY created_at
                LIMIT 1)
            RETURNING id
            """
        ).bindparams(bindparam("now", type_=UTCDateTime), bindparam("lease_until", type_=UTCDateTime))

    def export_rows(self) -> str:
        """Codes as text columns in CSV order (DB-API qmark parameters: store id, promotion id)."""
        return """
            SELECT code, uses, max_uses, consume_unit,
                   CASE WHEN user_restriction IS NULL THEN NULL
                        WHEN json_type(user_restriction) = 'text' THEN json_extract(user_restriction, '$')
                        ELSE user_restriction END,
                   created_by,
                   -- Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); slicing is cheaper than strftime.
                   substr(created_at, 1, 10) || 'T' || substr(created_at, 12, 12) || 'Z'
            FROM promotion_codes
            WHERE store_id = ? AND promotion_id = ?
            ORDER BY seq
        """

    def open_export_cursor(self, connection: Connection, sql: str, params: dict[str, object]) -> Any:
        """SQLite cursors already step through rows lazily."""
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(sql, (params["store_id"], params["promotion_id"]))
        return cursor
