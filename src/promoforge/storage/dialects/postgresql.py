"""PostgreSQL statements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from psycopg.errors import UniqueViolation
from sqlalchemy import ColumnElement, Connection, Insert, Table, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import BigInteger, Text

from promoforge.storage.dialects import FORMULA_CODE_POINTS
from promoforge.storage.schema import (
    ACTIVE_JOB_CONDITION,
    CONSUME_UNIT_NAMES,
    CONSUME_UNIT_NUMBERS,
    CompactDateTime,
    ConsumeUnitNumber,
    UTCDateTime,
)

_CREATE_STAGE = text(
    "CREATE TEMPORARY TABLE IF NOT EXISTS code_numbered_stage (number bigint NOT NULL, body text NOT NULL)"
)
_EMPTY_STAGE = text("TRUNCATE code_numbered_stage")
_INSERT_FROM_STAGE = text(
    """
    INSERT INTO promotion_codes
        (seq, store_ref, job_ref, code, code_key, max_uses, uses, consume_unit, created_at)
    SELECT :first_seq + number,
           (SELECT ref FROM stores WHERE id = :store_id),
           (SELECT ref FROM promotion_jobs WHERE id = :job_id),
           :prefix || body, :key_prefix || body, :max_uses, :max_uses, :consume_unit, :created_at
    FROM code_numbered_stage
    ON CONFLICT DO NOTHING
    """
).bindparams(
    bindparam("created_at", type_=CompactDateTime()),
    bindparam("consume_unit", type_=ConsumeUnitNumber()),
    bindparam("max_uses", type_=BigInteger()),
    bindparam("first_seq", type_=BigInteger()),
    bindparam("prefix", type_=Text()),
)
_REFS = text(
    "SELECT (SELECT ref FROM stores WHERE id = :store_id),"
    " (SELECT ref FROM promotion_jobs WHERE id = :job_id)"
)
_COPY_CODES = (
    "COPY promotion_codes (seq, store_ref, job_ref, code, code_key, max_uses, uses, consume_unit, created_at)"
    " FROM STDIN"
)
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class PostgreSQLOps:
    """PostgreSQL flavour of the backend-specific statements."""

    name = "postgresql"

    def insert_ignoring_conflicts(self, table: Table) -> Insert:
        """INSERT ... ON CONFLICT DO NOTHING."""
        return pg_insert(table).on_conflict_do_nothing()

    def upsert(self, table: Table, key: Sequence[str], keep: Sequence[str] = ()) -> Insert:
        """INSERT ... ON CONFLICT (key) DO UPDATE SET each other column to the value sent."""
        statement = pg_insert(table)
        fixed = {*key, *keep}
        return statement.on_conflict_do_update(
            index_elements=list(key),
            set_={
                column.name: statement.excluded[column.name] for column in table.c if column.name not in fixed
            },
        )

    def matches_any(self, column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
        """`column = ANY(:array)`: one array value, which the server hashes once.

        An IN list of separate parameters is searched value by value for every row the index hands over,
        which made looking up a 10,000-product import's SKUs take seconds.
        """
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))

    def insert_counting_up(self, table: Table, keys: Sequence[str], counter: str) -> Insert:
        """INSERT of a row with its `counter`, or that much added to the existing row with the same keys."""
        statement = pg_insert(table)
        return statement.on_conflict_do_update(
            index_elements=list(keys), set_={counter: table.c[counter] + statement.excluded[counter]}
        )

    def insert_random_codes(
        self, connection: Connection, values: Mapping[str, object], bodies: Sequence[str]
    ) -> int:
        """COPY the batch straight into the table; if any code clashes, the COPY is undone (to a savepoint)
        and the batch goes through a staging table instead, which skips the clashes.

        A clash is rare (codes are drawn from a space at least twice the store's codes, and a batch has
        no repeats), and the straight COPY is about twice as fast as INSERT ... ON CONFLICT, which checks
        every row for a conflict before inserting it.
        """
        try:
            with connection.begin_nested():
                _copy(connection, _COPY_CODES, _code_lines(connection, values, bodies))
            return len(bodies)
        except UniqueViolation:
            pass
        connection.execute(_CREATE_STAGE)
        connection.execute(_EMPTY_STAGE)
        _copy(
            connection,
            "COPY code_numbered_stage (number, body) FROM STDIN",
            "".join([f"{number}\t{body}\n" for number, body in enumerate(bodies)]),
        )
        return int(connection.execute(_INSERT_FROM_STAGE, values).rowcount)

    def new_ref(self, table: Table) -> dict[str, Any]:
        """Nothing: the column's sequence gives the ref."""
        return {}

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
                  AND (run_after IS NULL OR run_after <= :now)
                ORDER BY created_at
                LIMIT 1
                FOR UPDATE SKIP LOCKED)
            RETURNING id, store_id
            """
        ).bindparams(bindparam("now", type_=UTCDateTime), bindparam("lease_until", type_=UTCDateTime))

    def export_chunk(self, connection: Connection, after: int, end: int, limit: int) -> tuple[Any, Any, int]:
        """The next `limit` codes with seq in (`after`, `end`) as CSV lines (RFC 4180), joined here."""
        row = connection.execute(_EXPORT_CHUNK, {"after": after, "end": end, "limit": limit}).one()
        return row[0], row[1], int(row[2])

    def begin_snapshot(self, connection: Connection) -> None:
        """Make every statement of this transaction read the same snapshot."""
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def read_file_part(self, connection: Connection, store_id: str, job_id: str, part: int) -> bytes | None:
        """Fetch in binary: bytea in the text protocol doubles the bytes and costs a hex decode."""
        raw: Any = connection.connection.dbapi_connection
        with raw.cursor(binary=True) as cursor:
            cursor.execute(
                "SELECT data FROM job_files WHERE job_id = %s AND part = %s"
                " AND job_id IN (SELECT id FROM promotion_jobs WHERE id = %s AND store_id = %s)",
                (job_id, part, job_id, store_id),
            )
            row = cursor.fetchone()
        return None if row is None else bytes(row[0])

    def refresh_statistics(self, connection: Connection, table: str) -> None:
        """ANALYZE now: until autovacuum gets to it, a freshly filled table is planned as nearly empty."""
        connection.exec_driver_sql(f"ANALYZE {table}")


def _copy(connection: Connection, statement: str, data: str) -> None:
    """Send `data` (COPY text format) through the connection's driver."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            copy.write(data)
    finally:
        cursor.close()


def _code_lines(connection: Connection, values: Mapping[str, Any], bodies: Sequence[str]) -> str:
    """A generated batch as COPY text lines of promotion_codes, numbered from `first_seq`."""
    store_ref, job_ref = connection.execute(_REFS, values).one()
    prefix, key_prefix = values["prefix"], str(values["key_prefix"]).translate(_COPY_ESCAPES)
    limit = "\\N" if values["max_uses"] is None else str(int(values["max_uses"]))
    created_at: datetime = values["created_at"]
    job = "\\N" if job_ref is None else str(job_ref)
    middle = f"\t{store_ref}\t{job}\t"
    tail = f"\t{limit}\t{limit}\t{CONSUME_UNIT_NUMBERS[values['consume_unit']]}\t{created_at.isoformat()}\n"
    first = int(values["first_seq"])
    # Random parts are drawn from the code alphabet, which has nothing COPY would need escaped.
    if prefix is None:
        return "".join([f"{first + n}{middle}\\N\t{key_prefix}{body}{tail}" for n, body in enumerate(bodies)])
    shown = str(prefix).translate(_COPY_ESCAPES)
    return "".join(
        [f"{first + n}{middle}{shown}{body}\t{key_prefix}{body}{tail}" for n, body in enumerate(bodies)]
    )


def _csv_field(expression: str) -> str:
    """One CSV field (RFC 4180 quoting, NULL as empty) with formula-like text neutralised."""
    escaped = f"replace({expression}, '\"', '\"\"')"
    return (
        f"CASE WHEN {expression} IS NULL THEN '' "
        f"WHEN ascii({expression}) IN {FORMULA_CODE_POINTS} THEN '\"''' || {escaped} || '\"' "
        f"WHEN strpos({expression}, ',') > 0 OR strpos({expression}, '\"') > 0 "
        f"OR strpos({expression}, chr(10)) > 0 OR strpos({expression}, chr(13)) > 0 "
        f"THEN '\"' || {escaped} || '\"' ELSE {expression} END"
    )


def _export_chunk_statement() -> TextClause:
    """The chunk SELECT: each line formatted, the lines joined in seq order."""
    user_text = (
        "(CASE json_typeof(c.user_restriction) WHEN 'string' THEN c.user_restriction #>> '{}'"
        " ELSE c.user_restriction::text END)"
    )
    unit = "CASE c.consume_unit {} END".format(
        " ".join(f"WHEN {number} THEN '{name}'" for number, name in CONSUME_UNIT_NAMES.items())
    )
    line = " || ',' || ".join(
        [
            _csv_field("coalesce(c.code, c.code_key)"),
            "coalesce(c.uses::text, '')",
            "coalesce(c.max_uses::text, '')",
            unit,
            _csv_field(user_text),
            _csv_field("coalesce(c.created_by, j.created_by)"),
            "to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
        ]
    )
    return text(
        f"""
        SELECT convert_to(string_agg(line, E'\\r\\n' ORDER BY seq), 'UTF8'), max(seq), count(*)
        FROM (SELECT c.seq AS seq, {line} AS line
              FROM promotion_codes AS c LEFT JOIN promotion_jobs AS j ON j.ref = c.job_ref
              WHERE c.seq > :after AND c.seq < :end
              ORDER BY c.seq
              LIMIT :limit) AS chunk
        """
    )


_EXPORT_CHUNK = _export_chunk_statement()
