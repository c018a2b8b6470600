"""SQLite statements."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Insert, Table, bindparam, func, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import TextClause

from promoforge.storage.column_types import (
    CONSUME_UNIT_NAMES,
    CompactDateTime,
    ConsumeUnitNumber,
    UTCDateTime,
    from_epoch_microseconds,
)
from promoforge.storage.dialects import FORMULA_CODE_POINTS
from promoforge.storage.schema import ACTIVE_JOB_CONDITION, promotion_jobs

# `WHERE true` disambiguates ON CONFLICT after SELECT. The scalar subqueries are constant: SQLite runs each
# once per statement.
_INSERT_RANDOM_CODES = text(
    """
    INSERT INTO promotion_codes
        (seq, store_ref, job_ref, code, code_key, max_uses, uses, consume_unit, created_at)
    SELECT :first_seq + key,
           (SELECT ref FROM stores WHERE id = :store_id),
           (SELECT ref FROM promotion_jobs WHERE id = :job_id),
           :prefix || value, :key_prefix || value, :max_uses, :max_uses, :consume_unit, :created_at
    FROM json_each(:rows) WHERE true
    ON CONFLICT DO NOTHING
    """
).bindparams(
    bindparam("created_at", type_=CompactDateTime()),
    bindparam("consume_unit", type_=ConsumeUnitNumber()),
)


class SQLiteOps:
    """SQLite flavour of the backend-specific statements."""

    name = "sqlite"

    def insert_ignoring_conflicts(self, table: Table) -> Insert:
        """INSERT ... ON CONFLICT DO NOTHING."""
        return sqlite_insert(table).on_conflict_do_nothing()

    def upsert(self, table: Table, key: Sequence[str], keep: Sequence[str] = ()) -> Insert:
        """INSERT ... ON CONFLICT (key) DO UPDATE SET each other column to the value sent."""
        statement = sqlite_insert(table)
        fixed = {*key, *keep}
        return statement.on_conflict_do_update(
            index_elements=list(key),
            set_={
                column.name: statement.excluded[column.name] for column in table.c if column.name not in fixed
            },
        )

    def matches_any(self, column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
        """`column IN (...)`: SQLite builds a temporary index over the list."""
        return column.in_(values)

    def insert_counting_up(self, table: Table, keys: Sequence[str], counter: str) -> Insert:
        """INSERT of a row with its `counter`, or that much added to the existing row with the same keys."""
        statement = sqlite_insert(table)
        return statement.on_conflict_do_update(
            index_elements=list(keys), set_={counter: table.c[counter] + statement.excluded[counter]}
        )

    def insert_random_codes(
        self,
        connection: Connection,
        values: Mapping[str, object],
        bodies: Sequence[str],
        on_send: Callable[[], object],
    ) -> int:
        """One INSERT of a JSON array of bodies, a bound value that SQLite reads in C, the code's number
        being its place in the array."""
        parameters = {**dict(values), "rows": json.dumps(list(bodies))}
        on_send()
        return int(connection.execute(_INSERT_RANDOM_CODES, parameters).rowcount)

    def new_ref(self, table: Table) -> dict[str, Any]:
        """The largest ref plus one: SQLite runs one writer at a time, so no two inserts draw the same."""
        return {"ref": select(func.coalesce(func.max(table.c.ref), 0) + 1).scalar_subquery()}

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
                  AND (run_after IS NULL OR run_after <= :now)
                ORDER BY created_at
                LIMIT 1)
            RETURNING id, store_id
            """
        ).bindparams(bindparam("now", type_=UTCDateTime), bindparam("lease_until", type_=UTCDateTime))

    def export_chunk(self, connection: Connection, after: int, end: int, limit: int) -> tuple[Any, Any, int]:
        """The next `limit` codes with seq in (`after`, `end`) as CSV lines (RFC 4180), joined here.

        A chunk's codes share few creation times and jobs (a generation batch has one of each, and its
        codes are consecutive). The times and jobs of a few rows spread over the chunk are read first
        and handed to the statement as finished CSV text, so most lines need neither a date formatted
        by SQLite nor their job's author looked up and quoted; any other line computes both. A
        generated code is its job's prefix and a random part of letters, digits and dashes, so if one
        needs no quoting none of its job's do.
        """
        window = {"after": after, "end": end, "limit": limit}
        offsets = {f"offset_{n}": (limit - 1) * n // (_SAMPLES - 1) for n in range(_SAMPLES)}
        samples = connection.execute(_CHUNK_SAMPLES, {**window, **offsets}).all()
        times = list(dict.fromkeys(int(row.created_at) for row in samples))
        job_refs = list(dict.fromkeys(int(row.job_ref) for row in samples if row.job_ref is not None))
        authors = (
            connection.execute(
                select(promotion_jobs.c.ref, promotion_jobs.c.created_by).where(
                    promotion_jobs.c.ref.in_(job_refs)
                )
            ).all()
            if job_refs
            else []
        )
        plain_jobs = sorted(
            {
                int(row.job_ref)
                for row in samples
                if row.job_ref is not None
                and row.code is None
                and connection.execute(_QUOTED, {"value": row.code_key}).scalar_one() == row.code_key
            }
        )
        parameters: dict[str, Any] = dict(window)
        for place, ref in enumerate(plain_jobs):
            parameters[f"plain_{place}"] = ref
        for place, value in enumerate(times):
            parameters[f"time_{place}"] = value
            parameters[f"time_text_{place}"] = _iso_millis(value)
        for place, (ref, author) in enumerate(authors):
            parameters[f"job_{place}"] = ref
            # Quoted by the same SQL as every other cell.
            parameters[f"author_{place}"] = connection.execute(_QUOTED, {"value": author}).scalar_one()
        statement = _export_statement(len(times), len(authors), len(plain_jobs))
        row = connection.execute(statement, parameters).one()
        return row[0], row[1], int(row[2])

    def begin_snapshot(self, connection: Connection) -> None:
        """A SQLite read transaction already reads one snapshot."""

    def defer_durability(self, connection: Connection) -> None:
        """Nothing: in WAL mode with synchronous=NORMAL a commit does not wait for the disk already."""

    def read_file_part(self, connection: Connection, store_id: str, job_id: str, part: int) -> bytes | None:
        """Fetch through the plain driver cursor (no per-row processing)."""
        raw: Any = connection.connection.dbapi_connection
        row = raw.execute(
            "SELECT data FROM job_files WHERE job_id = ? AND part = ?"
            " AND job_id IN (SELECT id FROM promotion_jobs WHERE id = ? AND store_id = ?)",
            (job_id, part, job_id, store_id),
        ).fetchone()
        return None if row is None else bytes(row[0])

    def refresh_statistics(self, connection: Connection, table: str) -> None:
        """SQLite plans the service's queries well without statistics; ANALYZE would scan every index."""


# Rows of a chunk whose creation time and job are handed over as text: its first, its last and some
# evenly between (a generation batch has at least a quarter of a chunk's codes).
_SAMPLES = 5
_CHUNK_SAMPLES = text(
    " UNION ALL ".join(
        "SELECT * FROM (SELECT created_at, job_ref, code, code_key FROM promotion_codes"
        f" WHERE seq > :after AND seq < :end ORDER BY seq LIMIT 1 OFFSET :offset_{n})"
        for n in range(_SAMPLES)
    )
)


def _iso_millis(microseconds: int) -> str:
    """'YYYY-MM-DDTHH:MM:SS.mmmZ' of microseconds since 1970 in UTC, as the export writes times."""
    moment = from_epoch_microseconds(microseconds)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


@functools.lru_cache(maxsize=(_SAMPLES + 1) ** 3)
def _export_statement(known_times: int, known_jobs: int, plain_jobs: int) -> TextClause:
    """The chunk SELECT with `known_times` creation times and `known_jobs` job authors given as text,
    and `plain_jobs` jobs whose generated codes need no quoting."""
    code_cell = _csv_field("coalesce(c.code, c.code_key)")
    if plain_jobs:
        listed = ", ".join(f":plain_{n}" for n in range(plain_jobs))
        code_cell = (
            f"CASE WHEN c.code IS NULL AND c.job_ref IN ({listed}) THEN c.code_key ELSE {code_cell} END"
        )
    computed_time = (
        "printf('%s.%03dZ', strftime('%Y-%m-%dT%H:%M:%S', c.created_at / 1000000, 'unixepoch'),"
        " (c.created_at / 1000) % 1000)"
    )
    time_text = (
        "CASE c.created_at "
        + "".join(f"WHEN :time_{n} THEN :time_text_{n} " for n in range(known_times))
        + f"ELSE {computed_time} END"
        if known_times
        else computed_time
    )
    looked_up = "(SELECT j.created_by FROM promotion_jobs AS j WHERE j.ref = c.job_ref)"
    author_cell = (
        f"CASE WHEN c.created_by IS NOT NULL THEN {_csv_field('c.created_by')} "
        + "".join(f"WHEN c.job_ref = :job_{n} THEN :author_{n} " for n in range(known_jobs))
        + f"ELSE {_csv_field(looked_up)} END"
    )
    user_text = (
        "(CASE WHEN c.user_restriction IS NULL THEN NULL"
        " WHEN json_type(c.user_restriction) = 'text' THEN json_extract(c.user_restriction, '$')"
        " ELSE c.user_restriction END)"
    )
    unit = "CASE c.consume_unit {} END".format(
        " ".join(f"WHEN {number} THEN '{name}'" for number, name in CONSUME_UNIT_NAMES.items())
    )
    # One printf per line allocates once, where chained || allocates per piece.
    line = (
        "printf('%s,%s,%s,%s,%s,%s,%s', "
        f"{code_cell}, ifnull(c.uses, ''), ifnull(c.max_uses, ''), {unit}, "
        f"{_csv_field(user_text)}, {author_cell}, {time_text})"
    )
    # The lines are joined in subquery order; only which codes a chunk holds matters for correctness,
    # and ORDER BY + LIMIT fixes that.
    return text(
        f"""
        SELECT CAST(group_concat(line, char(13, 10)) AS BLOB), max(seq), count(*)
        FROM (SELECT c.seq AS seq, {line} AS line
              FROM promotion_codes AS c
              WHERE c.seq > :after AND c.seq < :end
              ORDER BY c.seq
              LIMIT :limit)
        """
    )


def _csv_field(expression: str) -> str:
    """One CSV field (RFC 4180 quoting, NULL as empty) with formula-like text neutralised."""
    escaped = f"replace({expression}, '\"', '\"\"')"
    return (
        f"CASE WHEN {expression} IS NULL THEN '' "
        f"WHEN unicode({expression}) IN {FORMULA_CODE_POINTS} THEN '\"''' || {escaped} || '\"' "
        f"WHEN instr({expression}, ',') OR instr({expression}, '\"') OR instr({expression}, char(10)) "
        f"OR instr({expression}, char(13)) THEN '\"' || {escaped} || '\"' ELSE {expression} END"
    )


_QUOTED = text(f"SELECT {_csv_field(':value')}")
