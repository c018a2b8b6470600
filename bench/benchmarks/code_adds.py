"""Manual code adds (`POST /v2/promotions/{id}/codes`) to one promotion by 1, 16 and 64 clients at once.

Each request adds codes that exist nowhere else, so every request should succeed. A plain DB-API baseline
does the same database work in the same run, at the same concurrency, so the ratio can be read.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.harness.api import create_promotion, expect
from bench.harness.backend import BackendRun, prepared_backend
from bench.harness.benchmark import Benchmark
from bench.harness.codes import CODE_COLUMNS, consume_unit_number, ref_of, seq_range, stored_time
from bench.harness.databases import baseline_connection, service_sqlite_pragmas
from bench.harness.load import concurrency_list, warmed_level
from bench.harness.report import header_lines, not_run_row, pass_fail, render_columns
from bench.harness.timing import BenchError, log, verdict
from promoforge.domain.codes import canonical_code
from promoforge.storage.schema import CODE_NUMBER_LIMIT

DEFAULT_CONCURRENCY = (1, 16, 64)
DEFAULT_REQUESTS = 1000
DEFAULT_SECONDS = 60.0
DEFAULT_CODES_PER_REQUEST = 100
# Throughput at a concurrency must stay within this share of the throughput of one client.
KEEP_THROUGHPUT_TARGET = 0.9
CONSUME_UNIT = "per_cart"
MAX_USES = 1


def code_texts(side: str, level: int, request: int, per_request: int) -> list[str]:
    """Codes no other request of the run uses."""
    return [f"{side}{level:02d}R{request:06d}C{index:03d}" for index in range(per_request)]


# ----------------------------------------------------------------------------------------------- service


def service_sender(
    promotion_id: str, level: int, per_request: int
) -> Callable[[httpx.Client, int], tuple[float | None, str]]:
    """POST one request of new codes; return its latency and status."""
    path = f"/v2/promotions/{promotion_id}/codes"

    def send(client: httpx.Client, number: int) -> tuple[float | None, str]:
        codes = [{"code": c, "uses": MAX_USES} for c in code_texts("S", level, number, per_request)]
        body = {"data": {"type": "promotion_codes", "consume_unit": CONSUME_UNIT, "codes": codes}}
        started = time.perf_counter()
        try:
            response = client.post(path, json=body)
        except httpx.HTTPError as error:
            return None, type(error).__name__
        return time.perf_counter() - started, str(response.status_code)

    return send


def service_codes_total(client: httpx.Client, promotion_id: str) -> int:
    """The promotion's code count as the API lists it."""
    body = expect(client.get(f"/v2/promotions/{promotion_id}/codes", params={"page[limit]": "1"}), 200)
    return int(body["meta"]["results"]["total"])


# --------------------------------------------------------------------------------------------- baseline


@dataclass(frozen=True)
class BaselineOwner:
    """The ids and values the baseline's rows carry."""

    store_id: str
    promotion_id: str
    created_by: str
    store_ref: int = 0


def baseline_statements(param: str) -> dict[str, str]:
    """The statements of one add, with the driver's parameter marker."""
    columns = CODE_COLUMNS
    return {
        # As in the service: the codes' numbers in a statement of their own, committed at once.
        "numbers": (
            f"UPDATE promotions SET code_numbers = code_numbers + {param} "
            f"WHERE store_id = {param} AND id = {param} AND deleted_at IS NULL "
            "RETURNING ref, code_numbers"
        ),
        "exists": (
            f"SELECT id FROM promotions WHERE store_id = {param} AND id = {param} AND deleted_at IS NULL"
        ),
        # The unique index on (store_id, code_key) is the check against the store's codes.
        "insert": (
            f"INSERT INTO promotion_codes ({columns}) VALUES ({', '.join([param] * 12)}) "
            "ON CONFLICT DO NOTHING"
        ),
        # Last, as in the service: the counter update is what locks the promotion, and reads it back.
        "reserve": (
            f"UPDATE promotions SET code_count = code_count + {param} "
            f"WHERE store_id = {param} AND id = {param} AND deleted_at IS NULL AND code_count + {param} <= "
            f"(SELECT max_codes_per_promotion FROM stores WHERE id = {param}) RETURNING *"
        ),
    }


def baseline_sender(
    backend: str, owner: BaselineOwner, level: int, per_request: int
) -> Callable[[Any, int], tuple[float | None, str]]:
    """One add as plain SQL in one transaction: check, insert checked by the index, count and read back."""
    sqlite = backend == "sqlite"
    statements = baseline_statements("?" if sqlite else "%s")
    begin = "BEGIN IMMEDIATE" if sqlite else "BEGIN"

    def send(conn: Any, number: int) -> tuple[float | None, str]:
        codes = code_texts("B", level, number, per_request)
        now = stored_time(backend, datetime.now(UTC))
        started = time.perf_counter()
        cursor = conn.cursor()
        try:
            cursor.execute(begin)
            numbered = cursor.execute(
                statements["numbers"], (per_request, owner.store_id, owner.promotion_id)
            ).fetchone()
            cursor.execute("COMMIT")
            if numbered is None:
                raise BenchError("baseline promotion is gone")
            first_seq = int(numbered[0]) * CODE_NUMBER_LIMIT + int(numbered[1]) - per_request
            rows = [
                (
                    first_seq + place,
                    None,
                    owner.store_ref,
                    None,
                    None if code == canonical_code(code) else code,
                    canonical_code(code),
                    MAX_USES,
                    MAX_USES,
                    consume_unit_number(CONSUME_UNIT),
                    None,
                    owner.created_by,
                    now,
                )
                for place, code in enumerate(codes)
            ]
            cursor.execute(begin)
            if cursor.execute(statements["exists"], (owner.store_id, owner.promotion_id)).fetchone() is None:
                raise BenchError("baseline promotion is gone")
            cursor.executemany(statements["insert"], rows)
            if cursor.rowcount != per_request:  # both drivers sum rowcount over executemany
                raise BenchError("baseline codes clash")
            cursor.execute(
                statements["reserve"],
                (per_request, owner.store_id, owner.promotion_id, per_request, owner.store_id),
            )
            if cursor.fetchone() is None:
                raise BenchError("baseline promotion is over its codes limit")
            cursor.execute("COMMIT")

        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        finally:
            cursor.close()
        return time.perf_counter() - started, "committed"

    return send


def stored_code_count(backend: str, database_url: str, promotion_id: str) -> tuple[int, int]:
    """(rows in promotion_codes, promotions.code_count) of a promotion, read directly."""
    with baseline_connection(backend, database_url, {}) as conn:
        marker = "?" if backend == "sqlite" else "%s"
        first, end = seq_range(conn, marker, promotion_id)
        rows = conn.execute(
            f"SELECT count(*) FROM promotion_codes WHERE seq >= {marker} AND seq < {marker}", (first, end)
        ).fetchone()
        counter = conn.execute(
            f"SELECT code_count FROM promotions WHERE id = {marker}", (promotion_id,)
        ).fetchone()
    return int(rows[0]), int(counter[0])


# ---------------------------------------------------------------------------------------------- backend


def measure_level(
    run: BackendRun,
    options: argparse.Namespace,
    level: int,
    service_promotion: str,
    baseline_owner: BaselineOwner,
    pragmas: dict[str, int],
    expected: dict[str, int],
) -> dict[str, Any]:
    """Service then baseline at one concurrency, each checked against the codes it should have stored."""
    assert run.server is not None
    per_request: int = options.adds_codes_per_request

    def open_http() -> httpx.Client:
        return run.client()

    def open_db() -> Any:
        return baseline_connection(run.backend, run.database_url, pragmas)

    result: dict[str, Any] = {"concurrency": level}
    for side, promotion_id, opener, sender, ok_status in (
        (
            "service",
            service_promotion,
            open_http,
            service_sender(service_promotion, level, per_request),
            "201",
        ),
        (
            "baseline",
            baseline_owner.promotion_id,
            open_db,
            baseline_sender(run.backend, baseline_owner, level, per_request),
            "committed",
        ),
    ):
        # A first round of one request per client opens connections and fills caches; it is not timed.
        warm, outcome = warmed_level(level, options.adds_requests, options.adds_seconds, opener, sender, 0)
        expected[side] += per_request * (warm.statuses[ok_status] + outcome.statuses[ok_status])
        summary = outcome.summary(per_request, ok_status)
        if not summary["succeeded"]:
            raise BenchError(f"{side} at concurrency {level}: no request succeeded: {summary['statuses']}")
        summary["warm_up_requests"] = sum(warm.statuses.values())
        rows, counter = stored_code_count(run.backend, run.database_url, promotion_id)
        with run.client() as client:
            listed = service_codes_total(client, promotion_id)
        summary["codes"] = {"expected": expected[side], "listed": listed, "rows": rows, "counter": counter}
        if not listed == rows == counter == expected[side]:
            raise BenchError(f"{side} at concurrency {level}: codes {summary['codes']} do not agree")
        result[side] = summary
        latency = summary["latency"]
        log(
            f"{run.backend}: {side} c={level}: {summary['requests_per_second']} req/s, "
            f"p50 {latency.get('p50_ms')} ms, p99 {latency.get('p99_ms')} ms, {summary['errors']} errors"
        )
    result["ratio"] = round(
        result["service"]["requests_per_second"] / result["baseline"]["requests_per_second"], 3
    )
    return result


def run_backend(
    backend: str, options: argparse.Namespace, bin_dir: Path, admin_url: str | None
) -> dict[str, Any]:
    """Set up a fresh database and server, measure every concurrency, and clean up."""
    levels: list[int] = options.adds_concurrency
    per_request: int = options.adds_codes_per_request
    # Room for every request of both sides at every level, warm-ups included.
    limit = 2 * per_request * sum(options.adds_requests + level for level in levels)
    with prepared_backend(backend, bin_dir, admin_url, limit) as run:
        pragmas: dict[str, int] = {}
        if backend == "sqlite":
            service_pragmas = service_sqlite_pragmas(run.database_url)
            pragmas = service_pragmas if options.baseline_settings == "service" else {}
            run.result["sqlite_pragmas"] = {
                "service": service_pragmas,
                "baseline": pragmas or "sqlite3 defaults",
            }
        run.start_server()
        with run.client() as client:
            service_promotion = create_promotion(client)
            marker = "?" if backend == "sqlite" else "%s"
            with baseline_connection(backend, run.database_url, {}) as conn:
                store_ref = ref_of(conn, "stores", marker, run.store["store_id"])
            baseline_owner = BaselineOwner(
                store_id=run.store["store_id"],
                promotion_id=create_promotion(client),
                created_by=run.store["client_id"],
                store_ref=store_ref,
            )
        expected = {"service": 0, "baseline": 0}
        measured = [
            measure_level(run, options, level, service_promotion, baseline_owner, pragmas, expected)
            for level in levels
        ]
        first = measured[0]["service"]["requests_per_second"]
        for level in measured:
            kept = level["service"]["requests_per_second"] / first
            level["service_throughput_vs_first_level"] = round(kept, 3)
            level["pass"] = (
                verdict(-kept, -KEEP_THROUGHPUT_TARGET, strict=False) and not (level["service"]["errors"])
            )
        run.result.update({"status": "ok", "levels": measured})
        return run.result


# ----------------------------------------------------------------------------------------------- output


def level_rows(name: str, level: dict[str, Any]) -> list[list[str]]:
    """Rows of one concurrency level."""
    service, baseline = level["service"], level["baseline"]
    latency = service["latency"]
    return [
        [
            name,
            f"c={level['concurrency']}",
            f"{service['requests_per_second']:.1f}",
            f"{baseline['requests_per_second']:.1f}",
            f"{level['ratio']:.2f}",
            f"{level['service_throughput_vs_first_level']:.2f}",
            f"{latency.get('p50_ms', 0):.0f}/{latency.get('p95_ms', 0):.0f}/{latency.get('p99_ms', 0):.0f}",
            str(service["errors"]),
            pass_fail(level["pass"]),
        ]
    ]


def render(report: dict[str, Any]) -> str:
    """The human-readable summary printed on stdout."""
    lines = header_lines(
        report,
        f"PromoForge code adds benchmark: {report['codes_per_request']} codes per request, "
        f"up to {report['requests_per_level']:,} requests or {report['seconds_per_level']:.0f} s per level",
    )
    columns = [
        "backend",
        "clients",
        "service req/s",
        "baseline req/s",
        "ratio",
        "vs c=first",
        "p50/p95/p99 ms",
        "errors",
        "result",
    ]
    rows: list[list[str]] = []
    for name, outcome in report["backends"].items():
        if outcome.get("status") != "ok":
            rows.append(not_run_row(name, outcome))
            continue
        for level in outcome["levels"]:
            rows.extend(level_rows(name, level))
    lines.extend(render_columns(columns, rows))
    verdicts = [
        level["pass"]
        for outcome in report["backends"].values()
        if outcome.get("status") == "ok"
        for level in outcome["levels"]
    ]
    lines.append("")
    lines.append(
        f"target: service req/s at each concurrency >= {KEEP_THROUGHPUT_TARGET} x that of the first, "
        "no errors"
    )
    lines.append(f"targets met: {sum(verdicts)} of {len(verdicts)}")
    lines.append(f"results: {report['output']}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    group = parser.add_argument_group("code_adds (POST .../codes by concurrent clients)")
    group.add_argument(
        "--adds-concurrency",
        type=concurrency_list,
        default=list(DEFAULT_CONCURRENCY),
        help="clients sending at once, one level after the other (default 1,16,64)",
    )
    group.add_argument(
        "--adds-requests",
        type=int,
        default=DEFAULT_REQUESTS,
        help=f"requests per level and side (default {DEFAULT_REQUESTS:,})",
    )
    group.add_argument(
        "--adds-seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help=f"stop sending after this many seconds per level and side (default {DEFAULT_SECONDS:.0f})",
    )
    group.add_argument(
        "--adds-codes-per-request",
        type=int,
        default=DEFAULT_CODES_PER_REQUEST,
        help=f"codes in each request (default {DEFAULT_CODES_PER_REQUEST})",
    )


def check_arguments(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    """Refuse options this benchmark cannot run with."""
    if options.adds_requests < 1 or options.adds_seconds <= 0 or options.adds_codes_per_request < 1:
        parser.error("--adds-requests, --adds-seconds and --adds-codes-per-request must be positive")


def parameters(options: argparse.Namespace) -> dict[str, Any]:
    """What this run was asked to do, for the JSON file."""
    return {
        "concurrency": options.adds_concurrency,
        "requests_per_level": options.adds_requests,
        "seconds_per_level": options.adds_seconds,
        "codes_per_request": options.adds_codes_per_request,
        "baseline_settings": options.baseline_settings,
        "targets": {"service_throughput_vs_first_level_min": KEEP_THROUGHPUT_TARGET, "errors": 0},
    }


BENCHMARK = Benchmark(
    name="code_adds",
    description="promoforge POST .../codes by concurrent clients vs plain DB-API adds",
    add_arguments=add_arguments,
    check_arguments=check_arguments,
    parameters=parameters,
    run_backend=run_backend,
    render=render,
)
