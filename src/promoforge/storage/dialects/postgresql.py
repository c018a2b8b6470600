"""PostgreSQL statements."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Insert, Table, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import BigInteger, Text

from promoforge.storage.schema import ACTIVE_JOB_CONDITION, UTCDateTime


class PostgreSQLOps:
    """PostgreSQL flavour of the backend-specific statements."""

    name = "postgresql"

    def insert_ignoring_conflicts(self, table: Table) -> Insert:
        """INSERT ... ON CONFLICT DO NOTHING."""
        return pg_insert(table).on_conflict_do_nothing()

    def insert_random_codes(self) -> TextClause:
        """Insert arrays of ids and random parts in one statement, skipping clashes."""
        return text(
            """
            INSERT INTO promotion_codes
                (id, store_id, promotion_id, job_id, code, code_key, max_uses, uses,
                 consume_unit, created_by, created_at)
            SELECT row.id, :store_id, :promotion_id, :job_id,
                   :prefix || row.body, :key_prefix || row.body, :max_uses, :max_uses,
                   :consume_unit, :created_by, :created_at
            FROM unnest(CAST(:ids AS uuid[]), CAST(:bodies AS text[])) AS row(id, body)
            ON CONFLICT DO NOTHING
            """
        ).bindparams(
            bindparam("created_at", type_=UTCDateTime),
            bindparam("ids", type_=ARRAY(Text)),
            bindparam("bodies", type_=ARRAY(Text)),
            bindparam("max_uses", type_=BigInteger()),
        )

    def random_code_params(self, ids: Sequence[str], bodies: Sequence[str]) -> dict[str, object]:
        """Two arrays, each sent as one value."""
        return {"ids": list(ids), "bodies": list(bodies)}

    def claim_next_job(self) -> TextClause:
        """Lock the oldest claimable job, skipping rows other workers hold, and lease it."""
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
                LIMIT 1
                FOR UPDATE SKIP LOCKED)
            RETURNING id
            """
        ).bindparams(bindparam("now", type_=UTCDateTime), bindparam("lease_until", type_=UTCDateTime))

    def export_rows(self) -> str:
        """Codes as text columns in CSV order (DB-API %s parameters: store id, promotion id)."""
        return """
            SELECT code, uses, max_uses, consume_unit,
                   CASE json_typeof(user_restriction) WHEN 'string'
                        THEN user_restriction #>> '{}' ELSE user_restriction::text END,
                   created_by,
                   to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
            FROM promotion_codes
            WHERE store_id = %s AND promotion_id = %s
            ORDER BY seq
        """

    def open_export_cursor(self, connection: Connection, sql: str, params: dict[str, object]) -> Any:
        """A named (server-side) cursor, so memory stays flat however many codes there are."""
        raw = connection.connection.dbapi_connection
        cursor: Any = raw.cursor(name=f"export_{uuid.uuid4().hex}")  # type: ignore[union-attr]
        cursor.itersize = 10_000
        cursor.execute(sql, (params["store_id"], params["promotion_id"]))
        return cursor
