"""The carts benchmark's options, and the parameters it records (the engine is measured there, once per
run).
"""

from __future__ import annotations

import argparse
from typing import Any

from bench.benchmarks.carts.catalog import APPLIED_CODES, AUTOMATIC_PROMOTIONS, CODE_PROMOTIONS, PRODUCTS
from bench.benchmarks.carts.engine import ENGINE_MEDIAN_TARGET_MS, measure_engine
from bench.benchmarks.carts.levels import API_P99_TARGET_MS, TARGET_CONCURRENCY
from bench.harness.load import concurrency_list

DEFAULT_CONCURRENCY = (1, 16)
DEFAULT_REQUESTS = 400
DEFAULT_SECONDS = 20.0
DEFAULT_ENGINE_RUNS = 1000
DEFAULT_CARTS = 64


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    group = parser.add_argument_group("carts (discount engine; POST .../items and GET /v2/carts/:id)")
    group.add_argument(
        "--carts-concurrency",
        type=concurrency_list,
        default=list(DEFAULT_CONCURRENCY),
        help="clients sending at once, one level after the other (default 1,16)",
    )
    group.add_argument(
        "--carts-requests",
        type=int,
        default=DEFAULT_REQUESTS,
        help=f"requests per level, request kind and side (default {DEFAULT_REQUESTS:,})",
    )
    group.add_argument(
        "--carts-seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help=f"stop sending after this many seconds per level, kind and side (default {DEFAULT_SECONDS:.0f})",
    )
    group.add_argument(
        "--carts-count",
        type=int,
        default=DEFAULT_CARTS,
        help=f"carts per side that the requests go round (default {DEFAULT_CARTS})",
    )
    group.add_argument(
        "--engine-runs",
        type=int,
        default=DEFAULT_ENGINE_RUNS,
        help=f"timed runs of the engine (default {DEFAULT_ENGINE_RUNS:,})",
    )


def check_arguments(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    """Refuse options this benchmark cannot run with."""
    if (
        min(options.carts_requests, options.carts_count, options.engine_runs) < 1
        or options.carts_seconds <= 0
    ):
        parser.error("--carts-requests, --carts-seconds, --carts-count and --engine-runs must be positive")
    if options.carts_count * APPLIED_CODES > CODE_PROMOTIONS:
        parser.error(f"--carts-count may be at most {CODE_PROMOTIONS // APPLIED_CODES}")


def parameters(options: argparse.Namespace) -> dict[str, Any]:
    """What this run was asked to do, for the JSON file; the engine is measured here, once per run."""
    return {
        "concurrency": options.carts_concurrency,
        "requests_per_level": options.carts_requests,
        "seconds_per_level": options.carts_seconds,
        "carts_per_side": options.carts_count,
        "baseline_settings": options.baseline_settings,
        "store": {
            "automatic_promotions": AUTOMATIC_PROMOTIONS,
            "code_promotions": CODE_PROMOTIONS,
            "products": PRODUCTS,
        },
        "targets": {
            "engine_median_ms": ENGINE_MEDIAN_TARGET_MS,
            "api_p99_ms": API_P99_TARGET_MS,
            "api_concurrency": TARGET_CONCURRENCY,
            "errors": 0,
        },
        "engine": measure_engine(options.engine_runs),
    }
