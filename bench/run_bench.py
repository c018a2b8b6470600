"""Benchmark the code_generate and code_export jobs against plain DB-API baselines on SQLite and PostgreSQL.

Run with `make bench`, or `.venv/bin/python bench/run_bench.py --codes 100000` for a quick run.
See bench/README.md for what is measured and how to read the results.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]
import psycopg
from psycopg import sql
from sqlalchemy import MetaData, Table
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import conv

import promoforge
from promoforge.bootstrap import open_database
from promoforge.config import Settings
from promoforge.domain.codes import DEFAULT_CODE_LENGTH, generate_random_parts
from promoforge.jobs.export import CSV_HEADER
from promoforge.storage.engine import build_engine
from promoforge.storage.schema import NAMING_CONVENTION, promotion_codes

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "latest.json"
DEFAULT_CODES = 1_000_000
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_URL_ENV = "PROMOFORGE_BENCH_POSTGRES_URL"

POLL_SECONDS = 0.05
PROBE_INTERVAL_SECONDS = 0.25
SERVER_START_SECONDS = 60.0
SERVER_STOP_SECONDS = 30.0
HTTP_TIMEOUT_SECONDS = 120.0

GENERATE_RATIO_TARGET = 1.0
EXPORT_RATIO_TARGET = 1.25
RSS_TARGET_MIB = 250.0

CODE_LENGTH = DEFAULT_CODE_LENGTH
MAX_USES = 1
CONSUME_UNIT = "per_cart"
BASELINE_TABLE = "bench_baseline_codes"
BASELINE_EXPORT_SQL = (
    "SELECT code, uses, max_uses, consume_unit, user_restriction, created_by, created_at "
    "FROM promotion_codes WHERE promotion_id = {param}"
)
# The service's own defaults, so both sides draw and fetch in batches of the same size.
DRAW_BATCH = int(Settings.model_fields["generate_chunk_size"].default)
FETCH_BATCH = int(Settings.model_fields["export_chunk_rows"].default)

PROMOTION_BODY: dict[str, Any] = {
    "data": {
        "type": "promotion",
        "name": "bench",
        "description": "bench",
        "enabled": True,
        "promotion_type": "fixed_discount",
        "schema": {"currencies": [{"currency": "USD", "amount": 100}]},
        "start": "2024-01-01",
        "end": "2099-01-01",
    }
}


class BenchError(RuntimeError):
    """A step of the benchmark could not be carried out."""


def log(message: str) -> None:
    """Print a progress line on stderr."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def redacted(url: str) -> str:
    """Render a database URL without its password."""
    return make_url(url).render_as_string(hide_password=True)


def libpq_url(url: str) -> str:
    """Turn a SQLAlchemy-style PostgreSQL URL into one libpq accepts."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    """Return the URL pointing at another database on the same server."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def free_port() -> int:
    """Ask the OS for a free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def latency_summary(samples: list[float], errors: int = 0) -> dict[str, Any]:
    """Summarise request latencies (seconds) in milliseconds."""
    if not samples:
        return {"count": 0, "errors": errors}
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "count": len(ordered),
        "errors": errors,
        "min_ms": round(ordered[0] * 1000, 2),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


# ---------------------------------------------------------------------------------------------- machine


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo."""
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def filesystem_of(path: Path) -> str:
    """Return the type of the file system holding `path` (from /proc/mounts)."""
    best, fstype = "", "unknown"
    resolved = str(path.resolve())
    with suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) < 3:
                continue
            mount = parts[1]
            inside = resolved == mount or resolved.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) > len(best):
                best, fstype = mount, parts[2]
    return fstype


def git_state() -> dict[str, Any]:
    """Return the commit the project is at and whether the tree has changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    changed = [line[3:] for line in status.splitlines() if line[3:].startswith(("src/", "pyproject"))]
    return {"commit": commit, "dirty": bool(status.strip()), "modified_source_files": changed}


def machine_info() -> dict[str, Any]:
    """Describe the machine and software the run happens on."""
    memory = psutil.virtual_memory()
    temp_dir = Path(tempfile.gettempdir())
    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "usable_cores": len(os.sched_getaffinity(0)),
        "ram_bytes": memory.total,
        "ram_gib": round(memory.total / 1024**3, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "psycopg": psycopg.__version__,
        "libpq": psycopg.pq.version(),
        "httpx": httpx.__version__,
        "promoforge": promoforge.__version__,
        "temp_dir": str(temp_dir),
        "temp_dir_filesystem": filesystem_of(temp_dir),
    }


# ------------------------------------------------------------------------------------------- postgresql


def postgres_info(admin_url: str) -> dict[str, Any]:
    """Connect to the server and return its version and a few settings that matter for the figures."""
    with psycopg.connect(libpq_url(admin_url), connect_timeout=5, autocommit=True) as conn:
        info: dict[str, Any] = {}
        for name in ("server_version", "server_version_num", "shared_buffers", "synchronous_commit", "fsync"):
            row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
            info[name] = row[0] if row else None
        row = conn.execute("SELECT version()").fetchone()
        info["version"] = row[0] if row else None
    return info


def create_database(admin_url: str, name: str) -> None:
    """Create an empty database on the server."""
    with psycopg.connect(libpq_url(admin_url), connect_timeout=5, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_url: str, name: str) -> None:
    """Drop a database, closing any session still connected to it."""
    with psycopg.connect(libpq_url(admin_url), connect_timeout=5, autocommit=True) as conn:
        if conn.info.server_version >= 130000:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            return
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> "
            "pg_backend_pid()",
            (name,),
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


# ---------------------------------------------------------------------------------------------- server


def service_environment(database_url: str, data_dir: Path) -> dict[str, str]:
    """Environment for the CLI and server: default settings, only the database and data directory set."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROMOFORGE_")}
    env.update(
        {
            "PROMOFORGE_DATABASE_URL": database_url,
            "PROMOFORGE_DATA_DIR": str(data_dir),
        }
    )
    return env


def run_cli(bin_dir: Path, env: dict[str, str], *args: str) -> str:
    """Run a promoforge CLI command and return its standard output."""
    command = [str(bin_dir / "promoforge"), *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(f"`{shlex.join(command)}` failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def read_proc_status_kib(pid: int, field_name: str) -> int:
    """Read one kB figure (VmHWM, VmRSS) from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    raise BenchError(f"{field_name} not found for process {pid}")


class Server:
    """A `promoforge serve` subprocess with its in-process job worker."""

    def __init__(self, bin_dir: Path, env: dict[str, str], log_path: Path) -> None:
        self.bin_dir = bin_dir
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server's process id."""
        if self.process is None:
            raise BenchError("server not started")
        return self.process.pid

    def start(self) -> None:
        """Start the server and wait until it answers HTTP."""
        command = [str(self.bin_dir / "promoforge"), "serve", "--port", str(self.port)]
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + SERVER_START_SECONDS
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise BenchError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
                try:
                    client.get("/v2/promotions")
                except httpx.TransportError:
                    time.sleep(0.1)
                    continue
                return
        raise BenchError(f"server did not answer within {SERVER_START_SECONDS:.0f} s:\n{self.log_tail()}")

    def memory(self) -> dict[str, float]:
        """Peak and current resident memory of the server process (kB as /proc gives it, and MiB)."""
        peak_kib = read_proc_status_kib(self.pid, "VmHWM")
        rss_kib = read_proc_status_kib(self.pid, "VmRSS")
        return {
            "peak_kib": peak_kib,
            "peak_mib": round(peak_kib / 1024, 1),
            "rss_mib": round(rss_kib / 1024, 1),
        }

    def describe(self) -> dict[str, Any]:
        """The process's command line and children (there should be none: the jobs run in this process)."""
        process = psutil.Process(self.pid)
        children = process.children(recursive=True)
        return {
            "pid": self.pid,
            "cmdline": process.cmdline(),
            "threads": process.num_threads(),
            "children": [{"pid": c.pid, "cmdline": c.cmdline()} for c in children],
        }

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server log."""
        with suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        """Stop the server gracefully, or kill it if it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(SERVER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            log(f"server {self.process.pid} did not stop within {SERVER_STOP_SECONDS:.0f} s; killing it")
            self.process.kill()
            self.process.wait()


# ------------------------------------------------------------------------------------------------- API


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    """Return the JSON body of a response, or fail if it does not have the expected status."""
    if response.status_code != status:
        raise BenchError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code} "
            f"(expected {status}): {response.text[:500]}"
        )
    body: dict[str, Any] = response.json()
    return body


def access_token(client: httpx.Client, client_id: str, client_secret: str) -> str:
    """Get a bearer token for the bench store."""
    body = expect(
        client.post(
            "/oauth/access_token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
            },
        ),
        200,
    )
    return str(body["access_token"])


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

    store_id: str
    promotion_id: str
    job_id: str
    created_by: str
    created_at: object


def baseline_rows(count: int, owner: CodeOwner) -> Iterator[tuple[object, ...]]:
    """Draw `count` random codes, DRAW_BATCH at a time, and yield them as rows for the baseline INSERT."""
    remaining = count
    while remaining > 0:
        batch = generate_random_parts(min(DRAW_BATCH, remaining), CODE_LENGTH)
        for code in batch.codes():
            yield (
                str(uuid.uuid4()),
                owner.store_id,
                owner.promotion_id,
                owner.job_id,
                code,
                code,
                MAX_USES,
                MAX_USES,
                CONSUME_UNIT,
                None,
                owner.created_by,
                owner.created_at,
            )
        remaining -= batch.count


def baseline_insert_sql(param: str) -> str:
    """The baseline INSERT with the driver's parameter marker."""
    columns = (
        "id, store_id, promotion_id, job_id, code, code_key, max_uses, uses, consume_unit, "
        "user_restriction, created_by, created_at"
    )
    markers = ", ".join([param] * 12)
    return f"INSERT INTO {BASELINE_TABLE} ({columns}) VALUES ({markers}) ON CONFLICT DO NOTHING"


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


def sqlite_path(database_url: str) -> str:
    """The file of a sqlite:/// URL."""
    database = make_url(database_url).database
    if not database:
        raise BenchError(f"no SQLite file in {database_url}")
    return database


SQLITE_PRAGMAS = ("synchronous", "cache_size", "temp_store", "mmap_size", "foreign_keys")


def service_sqlite_pragmas(database_url: str) -> dict[str, int]:
    """The per-connection PRAGMAs the service's own engine sets, read from one of its connections."""
    db = open_database(Settings.model_construct(database_url=database_url))
    try:
        with db.engine.connect() as connection:
            return {
                name: int(connection.exec_driver_sql(f"PRAGMA {name}").scalar_one())
                for name in SQLITE_PRAGMAS
            }
    finally:
        db.dispose()


def connect_sqlite(database_url: str, pragmas: dict[str, int]) -> sqlite3.Connection:
    """A plain sqlite3 connection, with the given per-connection PRAGMAs applied."""
    conn = sqlite3.connect(sqlite_path(database_url), timeout=60, isolation_level=None)
    for name, value in pragmas.items():
        conn.execute(f"PRAGMA {name}={int(value)}")
    return conn


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
            cursor = lite.execute(BASELINE_EXPORT_SQL.format(param="?"), (promotion_id,))
            rows = write_csv(cursor, path)
            seconds = time.perf_counter() - started
        finally:
            lite.close()
    else:
        with psycopg.connect(libpq_url(database_url)) as pg, pg.cursor() as cursor_pg:
            started = time.perf_counter()
            cursor_pg.execute(BASELINE_EXPORT_SQL.format(param="%s"), (promotion_id,))
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


def verdict(value: float, limit: float, *, strict: bool) -> bool:
    """Whether a figure meets its target (`strict` for `<`, else `<=`)."""
    return value < limit if strict else value <= limit


def run_backend(
    backend: str, n: int, bin_dir: Path, admin_url: str | None, timeout: float, baseline_settings: str
) -> dict[str, Any]:
    """Set up a fresh database and server for one backend, run every measurement, and clean up."""
    temp_dir = Path(tempfile.mkdtemp(prefix=f"promoforge-bench-{backend}-"))
    database_name: str | None = None
    server: Server | None = None
    result: dict[str, Any] = {"backend": backend}
    try:
        if backend == "sqlite":
            database_url = f"sqlite:///{temp_dir / 'bench.db'}"
            result["database"] = {"url": database_url, "version": sqlite3.sqlite_version}
        else:
            assert admin_url is not None
            database_name = f"promoforge_bench_{secrets.token_hex(6)}"
            create_database(admin_url, database_name)
            database_url = with_database(admin_url, database_name)
            result["database"] = {"url": redacted(database_url), **postgres_info(admin_url)}
        log(f"{backend}: database {result['database']['url']}")

        env = service_environment(database_url, temp_dir)
        run_cli(bin_dir, env, "migrate")
        store = json.loads(
            run_cli(
                bin_dir, env, "stores", "create", "--name", "bench", "--max-codes-per-promotion", str(2 * n)
            )
        )
        result["service_settings"] = {
            key: value for key, value in env.items() if key.startswith("PROMOFORGE_") and "URL" not in key
        }
        pragmas: dict[str, int] = {}
        if backend == "sqlite":
            service_pragmas = service_sqlite_pragmas(database_url)
            pragmas = service_pragmas if baseline_settings == "service" else {}
            result["sqlite_pragmas"] = {"service": service_pragmas, "baseline": pragmas or "sqlite3 defaults"}
        server = Server(bin_dir, env, temp_dir / "server.log")
        server.start()
        result["server"] = server.describe()
        log(f"{backend}: server pid {server.pid} on {server.base_url}")

        with httpx.Client(base_url=server.base_url, timeout=HTTP_TIMEOUT_SECONDS) as client:
            token = access_token(client, store["client_id"], store["client_secret"])
            client.headers["Authorization"] = f"Bearer {token}"
            promotion_id = str(expect(client.post("/v2/promotions", json=PROMOTION_BODY), 201)["data"]["id"])
            memory_idle = server.memory()

            log(f"{backend}: service code_generate of {n:,} codes")
            generate, latency_generate = service_generate(client, promotion_id, n, timeout)
            memory_after_generate = server.memory()
            log(f"{backend}:   {generate['seconds']:.3f} s")

            log(f"{backend}: baseline executemany of {n:,} codes")
            create_baseline_table(database_url)
            created_at: object = datetime.now(UTC)
            if backend == "sqlite":
                assert isinstance(created_at, datetime)
                created_at = created_at.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
            owner = CodeOwner(
                store_id=store["store_id"],
                promotion_id=promotion_id,
                job_id=str(uuid.uuid4()),
                created_by=store["client_id"],
                created_at=created_at,
            )
            generate_base = baseline_generate(backend, database_url, n, owner, pragmas)
            log(f"{backend}:   {generate_base['seconds']:.3f} s")

            log(f"{backend}: service code_export of {n:,} codes")
            export, latency_export = service_export(
                client, promotion_id, n, temp_dir / "service_export.csv", timeout
            )
            log(f"{backend}:   {export['seconds']:.3f} s")

            log(f"{backend}: baseline SELECT + csv.writer of {n:,} codes")
            export_base = baseline_export(
                backend, database_url, promotion_id, n, temp_dir / "baseline_export.csv", pragmas
            )
            log(f"{backend}:   {export_base['seconds']:.3f} s")

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
                "api_latency_during_generate": latency_generate,
                "api_latency_during_export": latency_export,
            }
        )
        return result
    except Exception:
        if server is not None:
            log(f"{backend}: server log tail:\n{server.log_tail()}")
        raise
    finally:
        if server is not None:
            server.stop()
        if database_name is not None and admin_url is not None:
            try:
                drop_database(admin_url, database_name)
            except Exception as error:  # cleanup must not hide the error that got us here
                log(f"{backend}: could not drop database {database_name}: {error}")
        shutil.rmtree(temp_dir, ignore_errors=True)


# ----------------------------------------------------------------------------------------------- output


def fmt_seconds(value: float) -> str:
    """Seconds with millisecond precision."""
    return f"{value:.3f} s"


def pass_fail(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


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
        return [[name, "not run", str(outcome.get("error", outcome.get("status", "?")))]]
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
        [name, "API while generate job runs", latency_text(outcome["api_latency_during_generate"])],
        [name, "API while export job runs", latency_text(outcome["api_latency_during_export"])],
    ]


def project_text(project: dict[str, Any]) -> str:
    """The commit measured, and any source files that differed from it."""
    commit = (project.get("commit") or "unknown")[:12]
    changed = project.get("modified_source_files") or []
    return f"{commit} + uncommitted changes in {', '.join(changed)}" if changed else commit


def render_table(report: dict[str, Any]) -> str:
    """The human-readable summary printed on stdout."""
    machine = report["machine"]
    pg = report["backends"].get("postgresql", {}).get("database")
    lines = [
        f"PromoForge job benchmark: {report['codes']:,} codes (code_length {CODE_LENGTH})",
        f"machine: {machine['cpu_model']}, {machine['logical_cores']} logical cores, "
        f"{machine['ram_gib']} GiB RAM, Python {machine['python']}, SQLite {machine['sqlite']}"
        + (f", PostgreSQL {pg['server_version']}" if pg else ""),
        f"code: {project_text(report['project'])}",
        f"command: {report['command']}",
        "",
    ]
    columns = ["backend", "measure", "service", "baseline", "ratio", "target", "result"]
    rows: list[list[str]] = []
    for name, outcome in report["backends"].items():
        rows.extend(table_rows(name, outcome))
    widths = [len(c) for c in columns]
    for row in rows:
        limit = len(row) if len(row) == len(columns) else 2
        for index in range(limit):
            widths[index] = max(widths[index], len(row[index]))

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()

    lines.append(line(columns))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(line(row) for row in rows)
    verdicts = [
        outcome[key]["pass"]
        for outcome in report["backends"].values()
        if outcome.get("status") == "ok"
        for key in ("generate", "export", "server_memory")
    ]
    lines.append("")
    lines.append(f"targets met: {sum(verdicts)} of {len(verdicts)}")
    lines.append(f"results: {report['output']}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--codes",
        type=int,
        default=DEFAULT_CODES,
        help=f"codes to generate and export (default {DEFAULT_CODES:,})",
    )
    parser.add_argument(
        "--postgres-url",
        help=f"PostgreSQL server to use (default ${POSTGRES_URL_ENV}, else {DEFAULT_POSTGRES_URL} "
        "if reachable); a throwaway database is created on it and dropped afterwards",
    )
    parser.add_argument("--no-postgres", action="store_true", help="run on SQLite only")
    parser.add_argument(
        "--baseline-settings",
        choices=("service", "defaults"),
        default="service",
        help="SQLite baselines use the PRAGMAs the service sets on its connections (default), "
        "or plain sqlite3 defaults",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    parser.add_argument(
        "--job-timeout", type=float, default=3600.0, help="seconds to wait for one job before giving up"
    )
    args = parser.parse_args(argv)
    if args.codes < 1:
        parser.error("--codes must be at least 1")
    return args


def choose_postgres(args: argparse.Namespace) -> tuple[str | None, str]:
    """Decide which PostgreSQL server to use; return (url or None, reason)."""
    if args.no_postgres:
        return None, "skipped (--no-postgres)"
    explicit = args.postgres_url or os.environ.get(POSTGRES_URL_ENV)
    url = explicit or DEFAULT_POSTGRES_URL
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=3):
            pass
    except psycopg.Error as error:
        if explicit:
            raise BenchError(f"PostgreSQL at {redacted(url)} is not reachable: {error}") from None
        return None, f"skipped ({redacted(url)} not reachable)"
    return url, "ok"


def bin_directory() -> Path:
    """The directory holding the project's `promoforge` script (the venv running this file)."""
    for candidate in (Path(sys.prefix) / "bin", ROOT / ".venv" / "bin"):
        if (candidate / "promoforge").exists():
            return candidate
    raise BenchError("no promoforge script found; run `make install` first")


def stop_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit so servers and databases are still cleaned up."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit non-zero only if a measurement could not be made."""
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started_at = datetime.now(UTC)
    bin_dir = bin_directory()
    postgres_url, postgres_reason = choose_postgres(args)
    report: dict[str, Any] = {
        "benchmark": "promoforge code_generate / code_export jobs vs plain DB-API baselines",
        "started_at": started_at.isoformat(),
        "command": shlex.join(sys.orig_argv),
        "argv": sys.orig_argv,
        "cwd": str(Path.cwd()),
        "codes": args.codes,
        "code_length": CODE_LENGTH,
        "poll_seconds": POLL_SECONDS,
        "draw_batch": DRAW_BATCH,
        "fetch_batch": FETCH_BATCH,
        "baseline_settings": args.baseline_settings,
        "targets": {
            "generate_ratio_max": GENERATE_RATIO_TARGET,
            "export_ratio_max": EXPORT_RATIO_TARGET,
            "server_peak_rss_mib_below": RSS_TARGET_MIB,
        },
        "machine": machine_info(),
        "project": {"root": str(ROOT), **git_state()},
        "output": str(args.output),
        "backends": {},
    }
    backends: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        (
            "sqlite",
            lambda: run_backend(
                "sqlite", args.codes, bin_dir, None, args.job_timeout, args.baseline_settings
            ),
        )
    ]
    if postgres_url is not None:
        backends.append(
            (
                "postgresql",
                lambda: run_backend(
                    "postgresql", args.codes, bin_dir, postgres_url, args.job_timeout, args.baseline_settings
                ),
            )
        )
    else:
        report["backends"]["postgresql"] = {"backend": "postgresql", "status": postgres_reason}
        log(f"postgresql: {postgres_reason}")
    failed = False
    for name, run in backends:
        try:
            report["backends"][name] = run()
        except Exception as error:
            failed = True
            log(f"{name}: FAILED: {error}\n{traceback.format_exc()}")
            report["backends"][name] = {"backend": name, "status": "error", "error": str(error)}
    report["finished_at"] = datetime.now(UTC).isoformat()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(render_table(report))
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
