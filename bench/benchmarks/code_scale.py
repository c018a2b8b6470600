"""One promotion with very many codes (10,000,000 by default), used through the API end to end.

Generates the codes, exports them, lists the first and the deepest reachable page, filters by one code,
adds and deletes a manual code, deletes the promotion (the request, then its background purge), and
records the server's peak memory. It has no baseline: it records what a large campaign costs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from bench.benchmarks.codes_jobs import service_export, service_generate
from bench.harness.api import create_promotion, expect
from bench.harness.backend import prepared_backend
from bench.harness.benchmark import Benchmark
from bench.harness.codes import seq_range
from bench.harness.databases import baseline_connection
from bench.harness.report import header_lines, not_run_row, render_columns
from bench.harness.timing import BenchError, log

DEFAULT_SCALE_CODES = 10_000_000
DEEPEST_OFFSET = 10_000  # the API caps page[offset] (api.md §6.3)
REPEATS = 20
RSS_TARGET_MIB = 250.0


def timed(client: httpx.Client, method: str, path: str, status: int, **kwargs: Any) -> dict[str, Any]:
    """Median and worst of REPEATS identical requests."""
    samples = [once(client, method, path, status, **kwargs) / 1000 for _ in range(REPEATS)]
    return {"median_ms": round(statistics.median(samples) * 1000, 2), "max_ms": round(max(samples) * 1000, 2)}


def once(client: httpx.Client, method: str, path: str, status: int, **kwargs: Any) -> float:
    """One request's milliseconds; fail on any other status."""
    started = time.perf_counter()
    response = client.request(method, path, **kwargs)
    elapsed = round((time.perf_counter() - started) * 1000, 2)
    if response.status_code != status:
        raise BenchError(
            f"{method} {path} answered {response.status_code}, not {status}: {response.text[:300]}"
        )
    return elapsed


def run_backend(
    backend: str, options: argparse.Namespace, bin_dir: Path, admin_url: str | None
) -> dict[str, Any]:
    """Everything on one promotion of `--scale-codes` codes."""
    n: int = options.scale_codes
    with prepared_backend(backend, bin_dir, admin_url, n + 10) as run:
        result = run.result
        server = run.start_server()
        with run.client() as client:
            promotion_id = create_promotion(client)
            codes_path = f"/v2/promotions/{promotion_id}/codes"
            log(f"{backend}: code_generate of {n:,} codes")
            generate, _ = service_generate(client, promotion_id, n, options.job_timeout)
            log(f"{backend}:   {generate['seconds']:.1f} s")
            export, _ = service_export(
                client, promotion_id, n, run.temp_dir / "export.csv", options.job_timeout
            )
            log(f"{backend}: export {export['seconds']:.1f} s")
            first = expect(client.get(codes_path, params={"page[limit]": 100}), 200)
            if first["meta"]["results"]["total"] != n:
                raise BenchError(f"the promotion lists {first['meta']['results']['total']} codes, not {n}")
            some_code = first["data"][-1]["code"]
            reads = {
                "first_page": timed(client, "GET", codes_path, 200, params={"page[limit]": 100}),
                "deepest_page": timed(
                    client,
                    "GET",
                    codes_path,
                    200,
                    params={"page[limit]": 100, "page[offset]": DEEPEST_OFFSET},
                ),
                "filter_one_code": timed(
                    client, "GET", codes_path, 200, params={"filter": f"eq(code,{some_code})"}
                ),
            }
            log(f"{backend}: reads {reads}")
            manual = {"data": {"type": "promotion_codes", "codes": [{"code": "SCALE-MANUAL-1"}]}}
            add_ms = once(client, "POST", codes_path, 201, json=manual)
            delete_code_ms = once(client, "DELETE", f"{codes_path}/SCALE-MANUAL-1", 204)
            delete_ms = once(client, "DELETE", f"/v2/promotions/{promotion_id}", 204)
            if client.get(f"/v2/promotions/{promotion_id}").status_code != 404:
                raise BenchError("the deleted promotion still reads")
            purge_seconds = wait_for_purge(
                run.database_url, backend, run.store["store_id"], promotion_id, options.job_timeout
            )
            log(f"{backend}: delete {delete_ms} ms, purge {purge_seconds:.1f} s")
        memory = server.memory()
        result.update(
            {
                "status": "ok",
                "codes": n,
                "generate": generate,
                "export": export,
                "reads": reads,
                "add_manual_code_ms": add_ms,
                "delete_manual_code_ms": delete_code_ms,
                "delete_promotion_ms": delete_ms,
                "purge_seconds": round(purge_seconds, 1),
                "server_peak_rss_mib": memory["peak_mib"],
                "rss_target_mib": RSS_TARGET_MIB,
            }
        )
        return result


def wait_for_purge(
    database_url: str, backend: str, store_id: str, promotion_id: str, timeout: float
) -> float:
    """Seconds until the deleted promotion's codes are gone from the table, read directly."""
    marker = "?" if backend == "sqlite" else "%s"
    started = time.perf_counter()
    with baseline_connection(backend, database_url, {}) as conn:
        while True:
            query = f"SELECT 1 FROM promotion_codes WHERE seq >= {marker} AND seq < {marker} LIMIT 1"
            left = conn.execute(query, seq_range(conn, marker, promotion_id)).fetchone()
            if backend != "sqlite":
                conn.commit()
            if not left:
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                raise BenchError(f"codes of the deleted promotion still there after {timeout:.0f} s")
            time.sleep(1.0)


def render(report: dict[str, Any]) -> str:
    """The run as a table."""
    lines = header_lines(report, f"PromoForge at scale: one promotion of {report['scale_codes']:,} codes")
    columns = [
        "backend",
        "generate",
        "export",
        "first page",
        "page at 10,000",
        "filter",
        "add/delete code",
        "delete",
        "purge",
        "peak RSS",
    ]
    rows: list[list[str]] = []
    for name in ("sqlite", "postgresql"):
        outcome = report["backends"].get(name)
        if not outcome or outcome.get("status") != "ok":
            rows.append(not_run_row(name, outcome or {"status": "not run"}))
            continue
        reads = outcome["reads"]
        rows.append(
            [
                name,
                f"{outcome['generate']['seconds']:.1f} s",
                f"{outcome['export']['seconds']:.1f} s",
                f"{reads['first_page']['median_ms']} ms",
                f"{reads['deepest_page']['median_ms']} ms",
                f"{reads['filter_one_code']['median_ms']} ms",
                f"{outcome['add_manual_code_ms']}/{outcome['delete_manual_code_ms']} ms",
                f"{outcome['delete_promotion_ms']} ms",
                f"{outcome['purge_seconds']} s",
                f"{outcome['server_peak_rss_mib']} MiB",
            ]
        )
    return "\n".join([*lines, "", *render_columns(columns, rows)])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    group = parser.add_argument_group("code_scale (one promotion with very many codes)")
    group.add_argument(
        "--scale-codes",
        type=int,
        default=DEFAULT_SCALE_CODES,
        help=f"codes of the one promotion (default {DEFAULT_SCALE_CODES:,})",
    )


def check_arguments(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    """Refuse options this benchmark cannot run with."""
    if options.scale_codes < 200:
        parser.error("--scale-codes must be at least 200")


def parameters(options: argparse.Namespace) -> dict[str, Any]:
    """What this run was asked to do."""
    return {"scale_codes": options.scale_codes, "repeats_per_read": REPEATS}


BENCHMARK = Benchmark(
    name="code_scale",
    description="promoforge: one promotion with very many codes through the API",
    add_arguments=add_arguments,
    check_arguments=check_arguments,
    parameters=parameters,
    run_backend=run_backend,
    render=render,
)
