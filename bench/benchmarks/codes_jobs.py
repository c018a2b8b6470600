"""code_generate and code_export jobs, end to end through the API, against plain DB-API baselines."""

from __future__ import annotations

import argparse
import csv
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import psycopg
from sqlalchemy import MetaData, Table
from sqlalchemy.sql.elements import conv

from bench.harness.api import HTTP_TIMEOUT_SECONDS, create_promotion, expect
from bench.harness.backend import prepared_backend
from bench.harness.benchmark import Benchmark
from bench.harness.codes import CODE_COLUMNS, consume_unit_number, ref_of, seq_range, stored_time
from bench.harness.databases import (
    baseline_connection,
    connect_sqlite,
    libpq_url,
    service_sqlite_pragmas,
    sqlite_path,
)
from bench.harness.report import fmt_seconds, header_lines, not_run_row, pass_fail, render_columns
from bench.harness.timing import BenchError, latency_summary, log, verdict
from promoforge.config import Settings
from promoforge.domain.codes import DEFAULT_CODE_LENGTH, generate_random_parts
from promoforge.jobs.export import CSV_HEADER
from promoforge.storage.engine import build_engine
from promoforge.storage.schema import NAMING_CONVENTION, promotion_codes

DEFAULT_CODES = 1_000_000
POLL_SECONDS = 0.05
PROBE_INTERVAL_SECONDS = 0.25

GENERATE_RATIO_TARGET = 1.0
FLOOR_RATIO_TARGET = 2.5
BYTES_PER_CODE_TARGET = 120.0  # on SQLite
FLOOR_TABLE = "bench_floor_codes"
EXPORT_RATIO_TARGET = 1.25
RSS_TARGET_MIB = 250.0

CODE_LENGTH = DEFAULT_CODE_LENGTH
MAX_USES = 1
CONSUME_UNIT = "per_cart"
BASELINE_TABLE = "bench_baseline_codes"
# What a row leaves to its job (max_uses, uses, created_at: docs/adr/0015) comes from the job, so the
# baseline writes the values it wrote when rows held them all.
BASELINE_EXPORT_SQL = (
    "SELECT coalesce(c.code, c.code_key), coalesce(c.uses, c.max_uses, j.code_max_uses),"
    " coalesce(c.max_uses, j.code_max_uses), c.consume_unit, c.user_restriction, c.created_by,"
    " coalesce(c.created_at, j.created_at)"
    " FROM promotion_codes AS c LEFT JOIN promotion_jobs AS j ON j.ref = c.job_ref"
    " WHERE c.seq >= {param} AND c.seq < {param}"
)
# The service's own defaults, so both sides draw and fetch in batches of the same size.
DRAW_BATCH = int(Settings.model_fields["generate_chunk_size"].default)
FETCH_BATCH = int(Settings.model_fields["export_chunk_rows"].default)


# ----------------------------------------------------------------------------------------------- service


class LatencyProbe:
    """Times GET /v2/promotions from a background thread while a job runs."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        self.base_url = base_url
        self.headers = headers
        self.samples: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="latency-probe", daemon=True)

    def __enter__(self) -> LatencyProbe:
        self._thread.start()
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        """Send one request per interval until stopped."""
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=HTTP_TIMEOUT_SECONDS) as c:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    response = c.get("/v2/promotions")
                except httpx.HTTPError:
                    self.errors += 1
                else:
                    self.samples.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        self.errors += 1
                self._stop.wait(PROBE_INTERVAL_SECONDS)

    def summary(self) -> dict[str, Any]:
        """Latency figures of the probe requests."""
        return {"request": "GET /v2/promotions", **latency_summary(self.samples, self.errors)}


@dataclass
class JobWait:
    """The outcome of polling a job until it completed."""

    job: dict[str, Any]
    completed_at: float
    polls: int
    poll_latencies: list[float] = field(default_factory=list)


def wait_for_job(client: httpx.Client, promotion_id: str, job_id: str, timeout: float) -> JobWait:
    """Poll a job every POLL_SECONDS until GET shows it completed; fail if it ends any other way."""
    path = f"/v2/promotions/{promotion_id}/jobs/{job_id}"
    deadline = time.perf_counter() + timeout
    next_poll = time.perf_counter() + POLL_SECONDS
    latencies: list[float] = []
    while True:
        delay = next_poll - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        next_poll = max(next_poll + POLL_SECONDS, time.perf_counter())
        started = time.perf_counter()
        job: dict[str, Any] = expect(client.get(path), 200)["data"]
        answered = time.perf_counter()
        latencies.append(answered - started)
        status = job["status"]
        if status == "completed":
            return JobWait(job=job, completed_at=answered, polls=len(latencies), poll_latencies=latencies)
        if status not in ("pending", "processing"):
            raise BenchError(f"job {job_id} ended as {status}: {job.get('error')}")
        if answered > deadline:
            raise BenchError(f"job {job_id} still {status} after {timeout:.0f} s: {job.get('meta')}")


def service_generate(
    client: httpx.Client, promotion_id: str, n: int, timeout: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Time a code_generate job from its POST to the GET that shows it completed."""
    body = {
        "data": {
            "type": "promotion_job",
            "job_type": "code_generate",
            "name": "bench generate",
            "parameters": {
                "number_of_codes": n,
                "max_uses_per_code": MAX_USES,
                "consume_unit": CONSUME_UNIT,
                "code_length": CODE_LENGTH,
            },
        }
    }
    headers = {"Authorization": client.headers["Authorization"]}
    with LatencyProbe(str(client.base_url), headers) as probe:
        started = time.perf_counter()
        job_id = expect(client.post(f"/v2/promotions/{promotion_id}/jobs", json=body), 201)["data"]["id"]
        waited = wait_for_job(client, promotion_id, job_id, timeout)
    seconds = waited.completed_at - started
    generated = int(waited.job["result"]["generated"])
    if generated != n:
        raise BenchError(f"generate job {job_id} reports {generated} codes, expected {n}")
    result = {
        "seconds": round(seconds, 4),
        "codes_per_second": round(n / seconds),
        "job_id": job_id,
        "generated": generated,
        "polls": waited.polls,
        "poll_latency": latency_summary(waited.poll_latencies),
    }
    return result, probe.summary()


def later_campaigns(
    backend: str, database_url: str, client: httpx.Client, n: int, count: int, timeout: float
) -> list[dict[str, Any]]:
    """Time `count` more generations of n codes, each into a new promotion of the same store, whose
    codes the new ones must not clash with (the store's code index grows by n each time)."""
    campaigns = []
    for number in range(count):
        held = (number + 1) * n
        log(f"{backend}: later campaign {number + 1}: {n:,} codes into a store holding {held:,}")
        settle(backend, database_url)
        outcome, _ = service_generate(client, create_promotion(client), n, timeout)
        log(f"{backend}:   {outcome['seconds']:.3f} s")
        campaigns.append({"store_codes_before": held, "seconds": outcome["seconds"]})
    return campaigns


def service_export(
    client: httpx.Client, promotion_id: str, n: int, download_path: Path, timeout: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Time a code_export job from its POST to the last byte of the downloaded CSV."""
    body = {"data": {"type": "promotion_job", "job_type": "code_export", "name": "bench export"}}
    headers = {"Authorization": client.headers["Authorization"]}
    with LatencyProbe(str(client.base_url), headers) as probe:
        started = time.perf_counter()
        job_id = expect(client.post(f"/v2/promotions/{promotion_id}/jobs", json=body), 201)["data"]["id"]
        waited = wait_for_job(client, promotion_id, job_id, timeout)
    href = str(expect(client.get(f"/v2/promotions/{promotion_id}/jobs/{job_id}/file"), 200)["href"])
    linked = time.perf_counter()
    lines = 0
    size = 0
    with client.stream("GET", href) as response, download_path.open("wb") as out:
        if response.status_code != 200:
            response.read()
            raise BenchError(f"download answered {response.status_code}: {response.text[:500]}")
        declared = response.headers.get("content-length")
        for chunk in response.iter_bytes():
            out.write(chunk)
            lines += chunk.count(b"\n")
            size += len(chunk)
    finished = time.perf_counter()
    if lines != n + 1:
        raise BenchError(f"export file has {lines} lines, expected {n + 1} (header + {n} codes)")
    if declared is not None and int(declared) != size:
        raise BenchError(f"export download is {size} bytes but Content-Length said {declared}")
    seconds = finished - started
    result = {
        "seconds": round(seconds, 4),
        "rows_per_second": round(n / seconds),
        "job_id": job_id,
        "post_to_completed_seconds": round(waited.completed_at - started, 4),
        "file_link_seconds": round(linked - waited.completed_at, 4),
        "download_seconds": round(finished - linked, 4),
        "bytes": size,
        "lines": lines,
        "polls": waited.polls,
        "poll_latency": latency_summary(waited.poll_latencies),
    }
    return result, probe.summary()


# -------------------------------------------------------------------------------------------- baselines


def baseline_table() -> Table:
    """The promotion_codes table copied as BASELINE_TABLE: same columns and indexes, no foreign key."""
    table = promotion_codes.to_metadata(MetaData(naming_convention=NAMING_CONVENTION), name=BASELINE_TABLE)
    for foreign_key in list(table.foreign_key_constraints):
        table.constraints.discard(foreign_key)
    for column in table.columns:
        column.foreign_keys.clear()
    # Index and constraint names are global per database (PostgreSQL) or per file (SQLite): rename the
    # ones already fixed; unnamed ones get the naming convention applied to the new table name.
    for index in table.indexes:
        if isinstance(index.name, str):
            index.name = conv(index.name.replace(promotion_codes.name, BASELINE_TABLE))
    for constraint in table.constraints:
        if isinstance(constraint.name, str):
            constraint.name = conv(constraint.name.replace(promotion_codes.name, BASELINE_TABLE))
    return table


def create_baseline_table(database_url: str) -> None:
    """Create the baseline table in the benchmark database."""
    engine = build_engine(database_url)
    try:
        baseline_table().create(engine)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class CodeOwner:
    """The ids and values every inserted code row carries."""

    backend: str
    store_ref: int
    job_ref: int
    created_at: object
    numbers: Iterator[int] = field(default_factory=itertools.count)


def baseline_rows(count: int, owner: CodeOwner) -> Iterator[tuple[object, ...]]:
    """Draw `count` random codes, DRAW_BATCH at a time, and yield them as rows for the baseline INSERT,
    in the compact layout: the code stored once (as its key), the id and the job's author implied."""
    remaining = count
    while remaining > 0:
        batch = generate_random_parts(min(DRAW_BATCH, remaining), CODE_LENGTH)
        for code in batch.codes():
            yield (
                next(owner.numbers),
                None,
                owner.store_ref,
                owner.job_ref,
                None,
                code,
                MAX_USES,
                MAX_USES,
                consume_unit_number(CONSUME_UNIT),
                None,
                None,
                owner.created_at,
            )
        remaining -= batch.count


def baseline_insert_sql(param: str) -> str:
    """The baseline INSERT with the driver's parameter marker."""
    markers = ", ".join([param] * 12)
    return f"INSERT INTO {BASELINE_TABLE} ({CODE_COLUMNS}) VALUES ({markers}) ON CONFLICT DO NOTHING"


def fill_baseline(cursor: Any, insert_sql: str, n: int, owner: CodeOwner) -> tuple[int, int]:
    """Insert exactly n random codes with executemany, drawing again for any clash; return (rows, rounds)."""
    inserted = 0
    rounds = 0
    while inserted < n:
        cursor.executemany(insert_sql, baseline_rows(n - inserted, owner))
        inserted += int(cursor.rowcount)
        rounds += 1
        if rounds > 20:
            raise BenchError("baseline codes keep clashing")
    return inserted, rounds


def baseline_generate(
    backend: str, database_url: str, n: int, owner: CodeOwner, pragmas: dict[str, int]
) -> dict[str, Any]:
    """Time drawing n codes and inserting them with executemany in one transaction."""
    if backend == "sqlite":
        lite = connect_sqlite(database_url, pragmas)
        try:
            cursor = lite.cursor()
            started = time.perf_counter()
            cursor.execute("BEGIN IMMEDIATE")
            inserted, rounds = fill_baseline(cursor, baseline_insert_sql("?"), n, owner)
            cursor.execute("COMMIT")
            seconds = time.perf_counter() - started
            row = lite.execute(f"SELECT count(*) FROM {BASELINE_TABLE}").fetchone()
        finally:
            lite.close()
    else:
        with psycopg.connect(libpq_url(database_url)) as pg:
            cursor_pg = pg.cursor()
            started = time.perf_counter()
            inserted, rounds = fill_baseline(cursor_pg, baseline_insert_sql("%s"), n, owner)
            pg.commit()
            seconds = time.perf_counter() - started
            row = pg.execute(f"SELECT count(*) FROM {BASELINE_TABLE}").fetchone()
    stored = int(row[0]) if row else 0
    if stored != n:
        raise BenchError(f"baseline table holds {stored} rows, expected {n}")
    return {
        "seconds": round(seconds, 4),
        "codes_per_second": round(n / seconds),
        "inserted": inserted,
        "executemany_rounds": rounds,
    }


def floor_generate(backend: str, database_url: str, n: int, pragmas: dict[str, int]) -> dict[str, Any]:
    """The storage floor: n random codes, sorted, into a table of nothing but a unique case-folded code
    (executemany in one transaction on SQLite, COPY on PostgreSQL); seconds and bytes on disk per code."""
    codes: set[str] = set()
    while len(codes) < n:
        codes.update(generate_random_parts(min(DRAW_BATCH, n - len(codes)), CODE_LENGTH).codes())
    ordered = sorted(codes)
    if backend == "sqlite":
        lite = connect_sqlite(database_url, pragmas)
        try:
            lite.execute(f"CREATE TABLE {FLOOR_TABLE} (code_key TEXT PRIMARY KEY)")
            before = sqlite_file_size(lite, database_url)
            started = time.perf_counter()
            lite.execute("BEGIN IMMEDIATE")
            lite.executemany(
                f"INSERT INTO {FLOOR_TABLE} (code_key) VALUES (?)", ((code,) for code in ordered)
            )
            lite.execute("COMMIT")
            seconds = time.perf_counter() - started
            grown = sqlite_file_size(lite, database_url) - before
        finally:
            lite.close()
    else:
        with psycopg.connect(libpq_url(database_url)) as pg:
            pg.execute(f'CREATE TABLE {FLOOR_TABLE} (code_key text COLLATE "C" PRIMARY KEY)')
            pg.commit()
            started = time.perf_counter()
            with pg.cursor().copy(f"COPY {FLOOR_TABLE} (code_key) FROM STDIN") as copy:
                for code in ordered:
                    copy.write_row((code,))
            pg.commit()
            seconds = time.perf_counter() - started
            grown = postgres_relation_size(pg, FLOOR_TABLE)
    return {
        "seconds": round(seconds, 4),
        "codes_per_second": round(n / seconds),
        "method": "executemany" if backend == "sqlite" else "COPY",
        "bytes_per_code": round(grown / n, 1),
    }


def sqlite_file_size(conn: Any, database_url: str) -> int:
    """The database file's size after its WAL is checkpointed into it."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Path(sqlite_path(database_url)).stat().st_size


def postgres_relation_size(conn: Any, table: str) -> int:
    """A table's size with its indexes and TOAST (`pg_total_relation_size`)."""
    row = conn.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone()
    return int(row[0]) if row else 0


def settle(backend: str, database_url: str, timeout: float = 120.0) -> None:
    """Start a timed step from a quiet PostgreSQL: no statement of this database still running (the
    service's statistics refresh, autovacuum) and a fresh checkpoint, so no step pays for the WAL or the
    background work of the one before it. SQLite steps start after a WAL checkpoint already."""
    if backend != "postgresql":
        return
    deadline = time.monotonic() + timeout
    with psycopg.connect(libpq_url(database_url), autocommit=True) as pg:
        while pg.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state = 'active' AND pid <> pg_backend_pid()"
        ).fetchone() != (0,):
            if time.monotonic() > deadline:
                raise BenchError("the database did not go quiet before a timed step")
            time.sleep(0.1)
        pg.execute("CHECKPOINT")


def code_table_size(backend: str, database_url: str) -> int:
    """Bytes the codes take: the SQLite file after a checkpoint, or promotion_codes on PostgreSQL."""
    if backend == "sqlite":
        lite = connect_sqlite(database_url, {})
        try:
            return sqlite_file_size(lite, database_url)
        finally:
            lite.close()
    with psycopg.connect(libpq_url(database_url)) as pg:
        return postgres_relation_size(pg, "promotion_codes")


def write_csv(cursor: Any, path: Path) -> int:
    """Write a cursor's rows to a CSV file with a header, FETCH_BATCH rows at a time; return data rows."""
    rows_written = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_HEADER)
        while rows := cursor.fetchmany(FETCH_BATCH):
            writer.writerows(rows)
            rows_written += len(rows)
    return rows_written


def baseline_export(
    backend: str, database_url: str, promotion_id: str, n: int, path: Path, pragmas: dict[str, int]
) -> dict[str, Any]:
    """Time a plain SELECT of the promotion's codes written to a CSV file with csv.writer."""
    if backend == "sqlite":
        lite = connect_sqlite(database_url, pragmas)
        try:
            started = time.perf_counter()
            cursor = lite.execute(BASELINE_EXPORT_SQL.format(param="?"), seq_range(lite, "?", promotion_id))
            rows = write_csv(cursor, path)
            seconds = time.perf_counter() - started
        finally:
            lite.close()
    else:
        with psycopg.connect(libpq_url(database_url)) as pg, pg.cursor() as cursor_pg:
            started = time.perf_counter()
            cursor_pg.execute(BASELINE_EXPORT_SQL.format(param="%s"), seq_range(pg, "%s", promotion_id))
            rows = write_csv(cursor_pg, path)
            seconds = time.perf_counter() - started
            pg.rollback()
    if rows != n:
        raise BenchError(f"baseline export wrote {rows} rows, expected {n}")
    return {
        "seconds": round(seconds, 4),
        "rows_per_second": round(n / seconds),
        "rows": rows,
        "bytes": path.stat().st_size,
    }


# ---------------------------------------------------------------------------------------------- backend


def run_backend(
    backend: str, options: argparse.Namespace, bin_dir: Path, admin_url: str | None
) -> dict[str, Any]:
    """Set up a fresh database and server for one backend, run every measurement, and clean up."""
    n: int = options.codes
    timeout: float = options.job_timeout
    with prepared_backend(backend, bin_dir, admin_url, 2 * n) as run:
        result, database_url, store = run.result, run.database_url, run.store
        pragmas: dict[str, int] = {}
        if backend == "sqlite":
            service_pragmas = service_sqlite_pragmas(database_url)
            pragmas = service_pragmas if options.baseline_settings == "service" else {}
            result["sqlite_pragmas"] = {"service": service_pragmas, "baseline": pragmas or "sqlite3 defaults"}
        server = run.start_server()

        with run.client() as client:
            promotion_id = create_promotion(client)
            memory_idle = server.memory()

            log(f"{backend}: service code_generate of {n:,} codes")
            size_before = code_table_size(backend, database_url)
            settle(backend, database_url)
            generate, latency_generate = service_generate(client, promotion_id, n, timeout)
            memory_after_generate = server.memory()
            generate["bytes_per_code"] = round((code_table_size(backend, database_url) - size_before) / n, 1)
            log(f"{backend}:   {generate['seconds']:.3f} s, {generate['bytes_per_code']} bytes a code")

            log(f"{backend}: floor: {n:,} sorted codes into a table of unique codes only")
            settle(backend, database_url)
            floor = floor_generate(backend, database_url, n, pragmas)
            log(f"{backend}:   {floor['seconds']:.3f} s, {floor['bytes_per_code']} bytes a code")

            log(f"{backend}: baseline executemany of {n:,} codes")
            create_baseline_table(database_url)
            with baseline_connection(backend, database_url, {}) as conn:
                store_ref = ref_of(conn, "stores", "?" if backend == "sqlite" else "%s", store["store_id"])
            owner = CodeOwner(
                backend=backend,
                store_ref=store_ref,
                job_ref=1,
                created_at=stored_time(backend, datetime.now(UTC)),
            )
            settle(backend, database_url)
            generate_base = baseline_generate(backend, database_url, n, owner, pragmas)
            log(f"{backend}:   {generate_base['seconds']:.3f} s")

            log(f"{backend}: service code_export of {n:,} codes")
            settle(backend, database_url)
            export, latency_export = service_export(
                client, promotion_id, n, run.temp_dir / "service_export.csv", timeout
            )
            log(f"{backend}:   {export['seconds']:.3f} s")

            log(f"{backend}: baseline SELECT + csv.writer of {n:,} codes")
            settle(backend, database_url)
            export_base = baseline_export(
                backend, database_url, promotion_id, n, run.temp_dir / "baseline_export.csv", pragmas
            )
            log(f"{backend}:   {export_base['seconds']:.3f} s")

            later = later_campaigns(backend, database_url, client, n, options.later_campaigns, timeout)

        memory_final = server.memory()
        result["server"]["children_at_end"] = server.describe()["children"]
        generate_ratio = generate["seconds"] / generate_base["seconds"]
        export_ratio = export["seconds"] / export_base["seconds"]
        result.update(
            {
                "status": "ok",
                "generate": {
                    "service": generate,
                    "baseline": generate_base,
                    "ratio": round(generate_ratio, 3),
                    "target": f"<= {GENERATE_RATIO_TARGET}",
                    "pass": verdict(generate_ratio, GENERATE_RATIO_TARGET, strict=False),
                },
                "floor": {
                    "floor": floor,
                    "ratio": round(generate["seconds"] / floor["seconds"], 3),
                    "target": f"<= {FLOOR_RATIO_TARGET}",
                    "pass": verdict(generate["seconds"] / floor["seconds"], FLOOR_RATIO_TARGET, strict=False),
                },
                "bytes_per_code": {
                    "service": generate["bytes_per_code"],
                    "floor": floor["bytes_per_code"],
                    "target": f"<= {BYTES_PER_CODE_TARGET} on SQLite",
                    "pass": verdict(generate["bytes_per_code"], BYTES_PER_CODE_TARGET, strict=False)
                    if backend == "sqlite"
                    else None,
                },
                "export": {
                    "service": export,
                    "baseline": export_base,
                    "ratio": round(export_ratio, 3),
                    "target": f"<= {EXPORT_RATIO_TARGET}",
                    "pass": verdict(export_ratio, EXPORT_RATIO_TARGET, strict=False),
                },
                "server_memory": {
                    "peak_rss_mib": memory_final["peak_mib"],
                    "peak_rss_bytes": int(memory_final["peak_kib"]) * 1024,
                    "peak_rss_after_startup_mib": memory_idle["peak_mib"],
                    "peak_rss_after_generate_mib": memory_after_generate["peak_mib"],
                    "rss_at_end_mib": memory_final["rss_mib"],
                    "source": f"/proc/{server.pid}/status VmHWM",
                    "target": f"< {RSS_TARGET_MIB} MiB",
                    "pass": verdict(memory_final["peak_mib"], RSS_TARGET_MIB, strict=True),
                },
                "later_campaigns": later,
                "api_latency_during_generate": latency_generate,
                "api_latency_during_export": latency_export,
            }
        )
        return result


# ----------------------------------------------------------------------------------------------- output


def latency_text(summary: dict[str, Any]) -> str:
    """One line about the API requests timed while a job ran."""
    if not summary.get("count"):
        return f"no answers ({summary.get('errors', 0)} errors)"
    errors = f", {summary['errors']} errors" if summary["errors"] else ""
    return (
        f"max {summary['max_ms']:.0f} ms, median {summary['median_ms']:.0f} ms, "
        f"p95 {summary['p95_ms']:.0f} ms over {summary['count']} requests{errors}"
    )


def table_rows(name: str, outcome: dict[str, Any]) -> list[list[str]]:
    """Rows of the human table for one backend; three-cell rows are free text."""
    if outcome.get("status") != "ok":
        return [not_run_row(name, outcome)]
    gen, exp, mem = outcome["generate"], outcome["export"], outcome["server_memory"]
    service_exp = exp["service"]
    return [
        [
            name,
            "code_generate: POST -> completed",
            fmt_seconds(gen["service"]["seconds"]),
            fmt_seconds(gen["baseline"]["seconds"]),
            f"{gen['ratio']:.2f}",
            gen["target"],
            pass_fail(gen["pass"]),
        ],
        [
            name,
            f"code_generate vs the floor ({outcome['floor']['floor']['method']} of unique codes)",
            fmt_seconds(gen["service"]["seconds"]),
            fmt_seconds(outcome["floor"]["floor"]["seconds"]),
            f"{outcome['floor']['ratio']:.2f}",
            outcome["floor"]["target"],
            pass_fail(outcome["floor"]["pass"]),
        ],
        [
            name,
            "bytes on disk per code (service / floor)",
            f"{outcome['bytes_per_code']['service']}",
            f"{outcome['bytes_per_code']['floor']}",
            "",
            outcome["bytes_per_code"]["target"],
            pass_fail(outcome["bytes_per_code"]["pass"])
            if outcome["bytes_per_code"]["pass"] is not None
            else "-",
        ],
        [
            name,
            "code_export: POST -> last CSV byte",
            fmt_seconds(service_exp["seconds"]),
            fmt_seconds(exp["baseline"]["seconds"]),
            f"{exp['ratio']:.2f}",
            exp["target"],
            pass_fail(exp["pass"]),
        ],
        [
            name,
            "  export breakdown",
            f"job {fmt_seconds(service_exp['post_to_completed_seconds'])}, "
            f"link {fmt_seconds(service_exp['file_link_seconds'])}, "
            f"download {fmt_seconds(service_exp['download_seconds'])} "
            f"({service_exp['bytes'] / 1024**2:.1f} MiB)",
        ],
        [
            name,
            "server peak RSS (VmHWM)",
            f"{mem['peak_rss_mib']:.1f} MiB",
            "",
            "",
            mem["target"],
            pass_fail(mem["pass"]),
        ],
        [
            name,
            "  peak RSS by phase",
            f"after startup {mem['peak_rss_after_startup_mib']:.1f} MiB, "
            f"after generate {mem['peak_rss_after_generate_mib']:.1f} MiB, "
            f"after export {mem['peak_rss_mib']:.1f} MiB",
        ],
        *(
            [
                name,
                f"code_generate into a store of {campaign['store_codes_before']:,} codes",
                fmt_seconds(campaign["seconds"]),
                "",
                f"{campaign['seconds'] / gen['service']['seconds']:.2f}",
                "(against the first)",
                "-",
            ]
            for campaign in outcome.get("later_campaigns", [])
        ),
        [name, "API while generate job runs", latency_text(outcome["api_latency_during_generate"])],
        [name, "API while export job runs", latency_text(outcome["api_latency_during_export"])],
    ]


def render(report: dict[str, Any]) -> str:
    """The human-readable summary printed on stdout."""
    lines = header_lines(
        report, f"PromoForge job benchmark: {report['codes']:,} codes (code_length {CODE_LENGTH})"
    )
    columns = ["backend", "measure", "service", "baseline", "ratio", "target", "result"]
    rows: list[list[str]] = []
    for name, outcome in report["backends"].items():
        rows.extend(table_rows(name, outcome))
    lines.extend(render_columns(columns, rows))
    verdicts = [
        outcome[key]["pass"]
        for outcome in report["backends"].values()
        if outcome.get("status") == "ok"
        for key in ("generate", "floor", "bytes_per_code", "export", "server_memory")
        if outcome.get(key, {}).get("pass") is not None
    ]
    lines.append("")
    lines.append(f"targets met: {sum(verdicts)} of {len(verdicts)}")
    lines.append(f"results: {report['output']}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    group = parser.add_argument_group("codes_jobs (code_generate and code_export jobs)")
    group.add_argument(
        "--codes",
        type=int,
        default=DEFAULT_CODES,
        help=f"codes to generate and export (default {DEFAULT_CODES:,})",
    )
    group.add_argument(
        "--job-timeout", type=float, default=3600.0, help="seconds to wait for one job before giving up"
    )
    group.add_argument(
        "--later-campaigns",
        type=int,
        default=0,
        help="then generate the same number of codes this many more times, each into a new promotion "
        "of the same store, and time each (default 0)",
    )


def check_arguments(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    """Refuse options this benchmark cannot run with."""
    if options.codes < 1:
        parser.error("--codes must be at least 1")
    if options.later_campaigns < 0:
        parser.error("--later-campaigns must not be negative")


def parameters(options: argparse.Namespace) -> dict[str, Any]:
    """What this run was asked to do, for the JSON file."""
    return {
        "codes": options.codes,
        "later_campaigns": options.later_campaigns,
        "code_length": CODE_LENGTH,
        "poll_seconds": POLL_SECONDS,
        "draw_batch": DRAW_BATCH,
        "fetch_batch": FETCH_BATCH,
        "baseline_settings": options.baseline_settings,
        "targets": {
            "generate_ratio_max": GENERATE_RATIO_TARGET,
            "export_ratio_max": EXPORT_RATIO_TARGET,
            "server_peak_rss_mib_below": RSS_TARGET_MIB,
        },
    }


BENCHMARK = Benchmark(
    name="codes_jobs",
    description="promoforge code_generate / code_export jobs vs plain DB-API baselines",
    add_arguments=add_arguments,
    check_arguments=check_arguments,
    parameters=parameters,
    run_backend=run_backend,
    render=render,
)
