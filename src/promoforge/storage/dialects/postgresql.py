"""PostgreSQL statements."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from psycopg.errors import UniqueViolation
from sqlalchemy import ColumnElement, Connection, Insert, Table, any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import BigInteger, Text

from promoforge.storage.column_types import (
    CONSUME_UNIT_NAMES,
    CONSUME_UNIT_NUMBERS,
    CompactDateTime,
    ConsumeUnitNumber,
    UTCDateTime,
    to_epoch_microseconds,
)
from promoforge.storage.dialects import FORMULA_CODE_POINTS
from promoforge.storage.schema import ACTIVE_JOB_CONDITION, CODE_KEY_INDEX

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
           :prefix || body, :key_prefix || body, :row_max_uses, :row_max_uses, :consume_unit, :created_at
    FROM code_numbered_stage
    ON CONFLICT DO NOTHING
    """
).bindparams(
    bindparam("created_at", type_=CompactDateTime()),
    bindparam("consume_unit", type_=ConsumeUnitNumber()),
    bindparam("first_seq", type_=BigInteger()),
    bindparam("prefix", type_=Text()),
    bindparam("row_max_uses", type_=BigInteger()),
)
_OWNERS = text(
    "SELECT (SELECT ref FROM stores WHERE id = :store_id),"
    " (SELECT ref FROM promotion_jobs WHERE id = :job_id),"
    " (SELECT code_max_uses FROM promotion_jobs WHERE id = :job_id)"
)
# Generated codes leave max_uses, uses and created_at to their job (docs/adr/0015), and `code` too when
# it reads as the key: fields the server need not read and bytes it need not store and log.
_COPY_CODES = "COPY promotion_codes ({}) FROM STDIN (FORMAT BINARY)"


@dataclass(frozen=True)
class _Owners:
    """What a generated batch's rows refer to, and what they can leave to their job."""

    store_ref: int
    job_ref: int | None
    # The job's row holds the batch's max_uses (a job written by older code may not): rows leave it,
    # and their uses, NULL.
    limits_from_job: bool


def _owners(connection: Connection, values: Mapping[str, Any]) -> _Owners:
    """The batch's store and job refs, and whether its job's row holds its max_uses."""
    store_ref, job_ref, job_max_uses = connection.execute(_OWNERS, values).one()
    return _Owners(store_ref, job_ref, job_ref is not None and job_max_uses == values["max_uses"])


def _copy_columns(values: Mapping[str, Any], owners: _Owners) -> list[str]:
    """The columns a generated batch's COPY fills, in order: `code` only where it differs from the key,
    `max_uses`, `uses` and `created_at` only where the job cannot give them."""
    code = [] if values["prefix"] is None else ["code"]
    limits = [] if owners.limits_from_job else ["max_uses", "uses"]
    created_at = ["created_at"] if owners.job_ref is None else []
    return ["seq", "store_ref", "job_ref", *code, "code_key", *limits, "consume_unit", *created_at]


# COPY's binary format: signature, flags and header extension; a field count of -1 ends the data.
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_BINARY_TRAILER = struct.pack("!h", -1)
# Codes encoded at a time: the server stores each slice while the next is made (about 1 MB).
_COPY_SLICE_CODES = 10_000
_NULL_FIELD = struct.pack("!i", -1)
# timestamptz travels as microseconds since 2000-01-01 UTC.
_POSTGRES_EPOCH_MICROSECONDS = 946_684_800_000_000


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
        self,
        connection: Connection,
        values: Mapping[str, object],
        bodies: Sequence[str],
        on_send: Callable[[], object],
    ) -> int:
        """COPY the batch straight into the table; if any code clashes, the COPY is undone (to a savepoint)
        and the batch goes through a staging table instead, which skips the clashes.

        A batch meets one of the store's codes with probability about batch size x store's codes / code
        space (a batch has no repeats): rarely in a young store, in many batches once a store holds
        millions of eight-character codes. The straight COPY is about twice as fast as INSERT ... ON
        CONFLICT, which checks every row for a conflict before inserting it.
        """
        owners = _owners(connection, values)
        try:
            with connection.begin_nested():
                on_send()
                statement = _COPY_CODES.format(", ".join(_copy_columns(values, owners)))
                _copy(connection, statement, _binary_codes(values, owners, bodies))
            return len(bodies)
        except UniqueViolation as clash:
            # Only a code that is already the store's goes the slow way; any other clash is a fault.
            if clash.diag.constraint_name != CODE_KEY_INDEX:
                raise
        connection.execute(_CREATE_STAGE)
        connection.execute(_EMPTY_STAGE)
        _copy(
            connection,
            "COPY code_numbered_stage (number, body) FROM STDIN",
            ["".join([f"{number}\t{body}\n" for number, body in enumerate(bodies)])],
        )
        row_max_uses = None if owners.limits_from_job else values["max_uses"]
        return int(connection.execute(_INSERT_FROM_STAGE, {**values, "row_max_uses": row_max_uses}).rowcount)

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

    def defer_durability(self, connection: Connection) -> None:
        """`synchronous_commit = off` for this transaction only."""
        connection.exec_driver_sql("SET LOCAL synchronous_commit = off")

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


def _copy(connection: Connection, statement: str, chunks: Iterable[str | bytes | bytearray]) -> None:
    """Send the `chunks` of a COPY's data (in the statement's format) through the connection's driver,
    each as soon as it is made."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            for chunk in chunks:
                copy.write(chunk)
    finally:
        cursor.close()


@dataclass(frozen=True)
class _BinaryCodeRow:
    """A generated code's row in COPY binary form, zero where its seq and its body go."""

    template: bytes
    seq_at: int
    body_at: tuple[int, ...]


def _binary_code_row(values: Mapping[str, Any], owners: _Owners, width: int) -> _BinaryCodeRow:
    """The row of a batch's code whose body is `width` bytes (the columns of _copy_columns, in order)."""
    row = bytearray(struct.pack("!hi", len(_copy_columns(values, owners)), 8))
    seq_at = len(row)
    row += bytes(8) + _int8_field(owners.store_ref) + _int8_field(owners.job_ref)
    body_at: list[int] = []
    for head in (values["prefix"], values["key_prefix"]):
        if head is None:
            continue
        raw = str(head).encode()
        row += struct.pack("!i", len(raw) + width) + raw
        body_at.append(len(row))
        row += bytes(width)
    if not owners.limits_from_job:
        row += _int8_field(values["max_uses"]) * 2
    row += struct.pack("!ih", 2, CONSUME_UNIT_NUMBERS[values["consume_unit"]])
    if owners.job_ref is None:
        row += _int8_field(to_epoch_microseconds(values["created_at"]) - _POSTGRES_EPOCH_MICROSECONDS)
    return _BinaryCodeRow(bytes(row), seq_at, tuple(body_at))


def _binary_code_rows(row: _BinaryCodeRow, first_seq: int, bodies: bytes, count: int) -> bytearray:
    """Rows of `count` bodies (`bodies` joined, all as long) numbered from `first_seq`: the template
    repeated, then each byte of the seqs and of the bodies written along a strided slice (one C loop per
    byte, none per row)."""
    size = len(row.template)
    data = bytearray(row.template) * count
    for place, lane in enumerate(_counting_lanes(first_seq, count, 8)):
        data[row.seq_at + place :: size] = lane
    width = len(bodies) // count
    for at in row.body_at:
        for place in range(width):
            data[at + place :: size] = bodies[place::width]
    return data


def _binary_codes(
    values: Mapping[str, Any], owners: _Owners, bodies: Sequence[str]
) -> Iterator[bytes | bytearray]:
    """A generated batch as COPY binary data for _copy_columns, numbered from `first_seq`, made a slice at
    a time while the server stores the slice before.

    Binary spares the server parsing every number and the timestamp of every row from text.
    """
    first = int(values["first_seq"])
    templates: dict[int, _BinaryCodeRow] = {}
    yield _BINARY_HEADER
    for start in range(0, len(bodies), _COPY_SLICE_CODES):
        part = bodies[start : start + _COPY_SLICE_CODES]
        joined = "".join(part)
        if joined.isascii():
            raw, lengths = joined.encode("ascii"), list(map(len, part))
        else:
            encoded = list(map(str.encode, part))
            raw, lengths = b"".join(encoded), list(map(len, encoded))
        done = offset = 0
        # Each run of bodies of one length shares a template; a job draws them all as long.
        for width, count in _runs(lengths):
            template = templates.get(width)
            if template is None:
                template = templates[width] = _binary_code_row(values, owners, width)
            rows = raw[offset : offset + count * width]
            yield _binary_code_rows(template, first + start + done, rows, count)
            done, offset = done + count, offset + count * width
    yield _BINARY_TRAILER


def _runs(lengths: Sequence[int]) -> list[tuple[int, int]]:
    """(length, how many in a row) for each run of equal lengths."""
    if len(set(lengths)) == 1:
        return [(lengths[0], len(lengths))]
    return [(width, len(list(run))) for width, run in groupby(lengths)]


def _counting_lanes(first: int, count: int, size: int) -> list[bytes]:
    """Byte k (of `size`, big-endian) of each of first, first + 1, ... first + count - 1, one bytes per k.

    Low bytes cycle through a short pattern, high bytes change in a few long runs: both are built by
    repeating bytes, not number by number.
    """
    lanes = []
    for place in range(size):
        shift = 8 * (size - 1 - place)
        period = 1 << shift
        if shift <= 8:
            cycle = b"".join(bytes((value,)) * period for value in range(256))
            start = first % len(cycle)
            lanes.append((cycle * ((start + count) // len(cycle) + 1))[start : start + count])
            continue
        runs, value, left = [], first, count
        while left:
            run = min(left, period - value % period)
            runs.append(bytes(((value >> shift) & 0xFF,)) * run)
            value, left = value + run, left - run
        lanes.append(b"".join(runs))
    return lanes


def _int8_field(value: int | None) -> bytes:
    """A bigint field of COPY binary data (NULL for None)."""
    return _NULL_FIELD if value is None else struct.pack("!iq", 8, value)


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
            "coalesce(coalesce(c.uses, c.max_uses, j.code_max_uses)::text, '')",
            "coalesce(coalesce(c.max_uses, j.code_max_uses)::text, '')",
            unit,
            _csv_field(user_text),
            _csv_field("coalesce(c.created_by, j.created_by)"),
            "to_char(coalesce(c.created_at, j.created_at) AT TIME ZONE 'UTC',"
            ' \'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\')',
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
