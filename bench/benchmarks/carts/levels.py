"""One backend run: seed the store, fill the carts, check what a pricing reads, then at each concurrency
level the service and the baseline, adds then reads.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import httpx

from bench.benchmarks.carts.catalog import APPLIED_CODES, INITIAL_LINES
from bench.benchmarks.carts.reads import check_reads
from bench.benchmarks.carts.senders import baseline_senders, service_senders
from bench.benchmarks.carts.store import fill_carts, seed_store, stored_counts
from bench.harness.backend import BackendRun, prepared_backend
from bench.harness.databases import baseline_connection, service_sqlite_pragmas
from bench.harness.load import warmed_level
from bench.harness.timing import BenchError, log, verdict

API_P99_TARGET_MS = 50.0
TARGET_CONCURRENCY = 16


def measure_level(
    run: BackendRun, options: argparse.Namespace, level: int, pragmas: dict[str, int], first: dict[str, int]
) -> dict[str, Any]:
    """At one concurrency: service adds, baseline adds, service reads, baseline reads."""
    carts: int = options.carts_count
    service = service_senders(carts)
    baseline = baseline_senders(run.backend, run.store["store_id"], carts)

    def open_http() -> httpx.Client:
        return run.client()

    def open_db() -> Any:
        return baseline_connection(run.backend, run.database_url, pragmas)

    result: dict[str, Any] = {"concurrency": level}
    for operation in ("add", "read"):
        sides: dict[str, Any] = {}
        for side, opener, sender, ok_status in (
            ("service", open_http, service[operation], "201" if operation == "add" else "200"),
            ("baseline", open_db, baseline[operation], "committed"),
        ):
            start = first[f"{side}-{operation}"]
            warm, outcome = warmed_level(
                level, options.carts_requests, options.carts_seconds, opener, sender, start
            )
            first[f"{side}-{operation}"] = start + level + sum(outcome.statuses.values())
            summary = outcome.summary(1, ok_status)
            summary.pop("codes_per_second", None)
            summary["warm_up_requests"] = sum(warm.statuses.values())
            if not summary["succeeded"]:
                raise BenchError(
                    f"{side} {operation} at concurrency {level}: none succeeded: {summary['statuses']}"
                )
            sides[side] = summary
            latency = summary["latency"]
            log(
                f"{run.backend}: {side} {operation} c={level}: {summary['requests_per_second']} req/s, "
                f"p50 {latency.get('p50_ms')} ms, p99 {latency.get('p99_ms')} ms, {summary['errors']} errors"
            )
        sides["ratio"] = round(
            sides["service"]["requests_per_second"] / sides["baseline"]["requests_per_second"], 3
        )
        p99 = sides["service"]["latency"].get("p99_ms", float("inf"))
        sides["pass"] = (
            verdict(p99, API_P99_TARGET_MS, strict=False) and not sides["service"]["errors"]
            if level == TARGET_CONCURRENCY
            else None
        )
        result[operation] = sides
    return result


def run_backend(
    backend: str, options: argparse.Namespace, bin_dir: Path, admin_url: str | None
) -> dict[str, Any]:
    """A fresh database and server with the seeded store; measure every concurrency; clean up."""
    with prepared_backend(backend, bin_dir, admin_url, 1000) as run:
        pragmas: dict[str, int] = {}
        if backend == "sqlite":
            service_pragmas = service_sqlite_pragmas(run.database_url)
            pragmas = service_pragmas if options.baseline_settings == "service" else {}
            run.result["sqlite_pragmas"] = {
                "service": service_pragmas,
                "baseline": pragmas or "sqlite3 defaults",
            }
        run.start_server()
        run.result["store"] = seed_store(run)
        started = time.perf_counter()
        for side in ("svc", "base"):
            fill_carts(run, side, options.carts_count)
        run.result["carts"] = {
            "per_side": options.carts_count,
            "initial_lines": INITIAL_LINES,
            "applied_codes": APPLIED_CODES,
            "fill_seconds": round(time.perf_counter() - started, 2),
            "before": {side: stored_counts(run, side) for side in ("svc", "base")},
        }
        for side in ("svc", "base"):
            if run.result["carts"]["before"][side]["codes"] != APPLIED_CODES * options.carts_count:
                raise BenchError(
                    f"{side} carts do not hold {APPLIED_CODES} codes each: {run.result['carts']}"
                )
        run.result["reads"] = check_reads(run)
        first = {f"{side}-{op}": 0 for side in ("service", "baseline") for op in ("add", "read")}
        measured = [measure_level(run, options, level, pragmas, first) for level in options.carts_concurrency]
        run.result["carts"]["after"] = {side: stored_counts(run, side) for side in ("svc", "base")}
        run.result.update({"status": "ok", "levels": measured})
        return run.result
