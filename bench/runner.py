"""Run every benchmark, or the one named with --only, on SQLite and PostgreSQL; write one JSON file each."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench.benchmarks import carts, checkout, code_adds, code_scale, codes_jobs, hotpath, integrations
from bench.harness import server
from bench.harness.benchmark import Benchmark
from bench.harness.databases import DEFAULT_POSTGRES_URL, POSTGRES_URL_ENV, choose_postgres
from bench.harness.machine import ROOT, git_state, machine_info
from bench.harness.report import write_report
from bench.harness.server import bin_directory
from bench.harness.timing import BenchError, log

BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        codes_jobs.BENCHMARK,
        code_adds.BENCHMARK,
        carts.BENCHMARK,
        checkout.BENCHMARK,
        code_scale.BENCHMARK,
        hotpath.BENCHMARK,
        integrations.BENCHMARK,
    )
}
DEFAULT_OUTPUT_DIR = ROOT / "bench" / "results"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options: the shared ones, then each benchmark's."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", choices=sorted(BENCHMARKS), help="run this benchmark only (default: all, in order)"
    )
    parser.add_argument(
        "--postgres-url",
        help=f"PostgreSQL server to use (default ${POSTGRES_URL_ENV}, else {DEFAULT_POSTGRES_URL} "
        "if reachable); a throwaway database is created on it and dropped afterwards",
    )
    parser.add_argument("--no-postgres", action="store_true", help="run on SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="run on PostgreSQL only")
    parser.add_argument(
        "--baseline-settings",
        choices=("service", "defaults"),
        default="service",
        help="SQLite baselines use the PRAGMAs the service sets on its connections (default), "
        "or plain sqlite3 defaults",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        help="directory of the JSON results, one <benchmark>.json each (default bench/results)",
    )
    parser.add_argument(
        "--serve-workers",
        type=int,
        default=1,
        help="API processes of the service under test (`promoforge serve --workers N`, default 1)",
    )
    for benchmark in BENCHMARKS.values():
        benchmark.add_arguments(parser)
    options = parser.parse_args(argv)
    if not 1 <= options.serve_workers <= 64:
        parser.error("--serve-workers must be 1 to 64")
    server.SERVE_WORKERS = options.serve_workers
    for benchmark in BENCHMARKS.values():
        benchmark.check_arguments(parser, options)
    return options


def stop_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit so servers and databases are still cleaned up."""
    raise SystemExit(128 + signum)


def run_benchmark(
    benchmark: Benchmark,
    options: argparse.Namespace,
    bin_dir: Path,
    postgres_url: str | None,
    postgres_reason: str,
) -> tuple[dict[str, Any], bool]:
    """Run one benchmark on each backend; return its report and whether every backend was measured."""
    output = options.output_dir / f"{benchmark.name}.json"
    report: dict[str, Any] = {
        "benchmark": benchmark.description,
        "started_at": datetime.now(UTC).isoformat(),
        "command": shlex.join(sys.orig_argv),
        "argv": sys.orig_argv,
        "cwd": str(Path.cwd()),
        "serve_workers": options.serve_workers,
        **benchmark.parameters(options),
        "machine": machine_info(),
        "project": {"root": str(ROOT), **git_state()},
        "output": str(output),
        "backends": {},
    }
    backends = [] if options.no_sqlite else ["sqlite"]
    if postgres_url is not None:
        backends.append("postgresql")
    else:
        report["backends"]["postgresql"] = {"backend": "postgresql", "status": postgres_reason}
        log(f"postgresql: {postgres_reason}")
    measured = True
    for name in backends:
        admin_url = postgres_url if name == "postgresql" else None
        try:
            report["backends"][name] = benchmark.run_backend(name, options, bin_dir, admin_url)
        except Exception as error:
            measured = False
            log(f"{name}: FAILED: {error}\n{traceback.format_exc()}")
            report["backends"][name] = {"backend": name, "status": "error", "error": str(error)}
    report["finished_at"] = datetime.now(UTC).isoformat()
    write_report(output, report)
    return report, measured


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; exit non-zero only if a measurement could not be made."""
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    options = parse_args(sys.argv[1:] if argv is None else argv)
    bin_dir = bin_directory()
    postgres_url, postgres_reason = choose_postgres(options.postgres_url, options.no_postgres)
    chosen = [BENCHMARKS[options.only]] if options.only else list(BENCHMARKS.values())
    failed = False
    for index, benchmark in enumerate(chosen):
        log(f"benchmark {benchmark.name}")
        report, measured = run_benchmark(benchmark, options, bin_dir, postgres_url, postgres_reason)
        failed = failed or not measured
        if index:
            print()
        print(benchmark.render(report), flush=True)
    return 1 if failed else 0


def entry() -> None:
    """Exit with main's status; a step that could not be carried out is one line on stderr."""
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
