"""Time the server's own work for generated codes: a binary COPY of prebuilt rows into `promotion_codes`
beside the same into a table of nothing but a unique code (docs/adr/0014, 0015).

    .venv/bin/python -m bench.copy_rows postgresql://postgres@127.0.0.1:5432/EMPTY_DATABASE 1000000

The database must be empty. Rows are made by the service's own encoder, in batches of 100,000, each
committed without waiting for the disk, and sent before the clock starts to run out: what is timed is
the server storing them. Variants, each `--rounds` times in turn (median shown):
- `service`: rows as a job writes them (max_uses, uses and created_at left to the job);
- `stored`: rows holding max_uses, uses and created_at themselves (as before ADR 0015, without a job ref);
- `floor`: the floor's table, by the same binary COPY.
"""

from __future__ import annotations

import argparse
import statistics
import struct
import time
from datetime import UTC, datetime

import psycopg
from sqlalchemy import create_engine

from bench.harness.databases import libpq_url
from promoforge.domain.codes import DEFAULT_CODE_LENGTH, generate_random_parts
from promoforge.storage.dialects.postgresql import (
    _BINARY_HEADER,
    _BINARY_TRAILER,
    _COPY_CODES,
    _binary_codes,
    _copy_columns,
    _Owners,
)
from promoforge.storage.schema import CODE_NUMBER_LIMIT, promotion_codes

BATCH = 100_000
FLOOR_TABLE = "bench_copy_floor"
VARIANTS = {"service": _Owners(7, 3, True), "stored": _Owners(7, None, False)}


def drawn_codes(count: int) -> list[str]:
    """`count` distinct random codes of the service's format, sorted."""
    codes: set[str] = set()
    while len(codes) < count:
        codes.update(generate_random_parts(count - len(codes), DEFAULT_CODE_LENGTH).codes())
    return sorted(codes)


def code_batches(codes: list[str], owners: _Owners) -> tuple[str, list[bytes]]:
    """The COPY statement and its data, a batch of codes each, as a generation job sends them."""
    values = {
        "first_seq": CODE_NUMBER_LIMIT,
        "prefix": None,
        "key_prefix": "",
        "max_uses": 1,
        "consume_unit": "per_cart",
        "created_at": datetime.now(UTC),
    }
    statement = _COPY_CODES.format(", ".join(_copy_columns(values, owners)))
    batches = []
    for start in range(0, len(codes), BATCH):
        values["first_seq"] = CODE_NUMBER_LIMIT + start
        batches.append(b"".join(_binary_codes(values, owners, codes[start : start + BATCH])))
    return statement, batches


def floor_batches(codes: list[str]) -> tuple[str, list[bytes]]:
    """The floor's COPY statement and its data in the same binary format."""
    batches = []
    for start in range(0, len(codes), BATCH):
        rows = b"".join(
            struct.pack("!hi", 1, len(raw)) + raw
            for raw in (c.encode() for c in codes[start : start + BATCH])
        )
        batches.append(_BINARY_HEADER + rows + _BINARY_TRAILER)
    return f"COPY {FLOOR_TABLE} (code_key) FROM STDIN (FORMAT BINARY)", batches


def fresh_tables(database_url: str) -> None:
    """An empty promotion_codes (with its indexes) and an empty floor table."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        promotion_codes.drop(engine, checkfirst=True)
        promotion_codes.create(engine)
    finally:
        engine.dispose()
    with psycopg.connect(libpq_url(database_url), autocommit=True) as pg:
        pg.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        pg.execute(f'CREATE TABLE {FLOOR_TABLE} (code_key text COLLATE "C" PRIMARY KEY)')


def timed_copy(database_url: str, table: str, statement: str, batches: list[bytes]) -> dict[str, float]:
    """Seconds to COPY `batches` (one transaction each), and WAL and bytes on disk per row."""
    rows = len(batches) * BATCH
    with psycopg.connect(libpq_url(database_url), autocommit=True) as pg:
        pg.execute("CHECKPOINT")
        wal_row = pg.execute("SELECT pg_current_wal_lsn()").fetchone()
        assert wal_row is not None
        pg.autocommit = False
        started = time.perf_counter()
        for batch in batches:
            pg.execute("SET LOCAL synchronous_commit = off")
            with pg.cursor().copy(statement) as copy:
                copy.write(batch)
            pg.commit()
        seconds = time.perf_counter() - started
        pg.autocommit = True
        wal = pg.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (wal_row[0],)).fetchone()
        size = pg.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone()
    assert wal is not None and size is not None
    return {"seconds": seconds, "wal": float(wal[0]) / rows, "bytes": float(size[0]) / rows}


def main() -> None:
    """Parse the arguments, run every variant `--rounds` times in turn and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url", help="an empty PostgreSQL database")
    parser.add_argument("count", type=int, nargs="?", default=1_000_000, help="codes, a multiple of 100,000")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    codes = drawn_codes(options.count - options.count % BATCH)
    work = {name: ("promotion_codes", *code_batches(codes, owners)) for name, owners in VARIANTS.items()}
    work["floor"] = (FLOOR_TABLE, *floor_batches(codes))
    results: dict[str, list[dict[str, float]]] = {name: [] for name in work}
    for _ in range(options.rounds):
        for name, (table, statement, batches) in work.items():
            fresh_tables(options.database_url)
            results[name].append(timed_copy(options.database_url, table, statement, batches))
    floor = statistics.median(r["seconds"] for r in results["floor"])
    print(f"{len(codes):,} codes, median of {options.rounds} rounds")
    print(f"{'variant':<8} {'seconds':>8} {'x floor':>8} {'WAL/row':>8} {'bytes/row':>9}")
    for name, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        print(
            f"{name:<8} {seconds:8.3f} {seconds / floor:8.2f} {runs[0]['wal']:8.1f} {runs[0]['bytes']:9.1f}"
        )


if __name__ == "__main__":
    main()
