"""The carts benchmark's table on stdout."""

from __future__ import annotations

from typing import Any

from bench.benchmarks.carts.catalog import AUTOMATIC_PROMOTIONS, CODE_PROMOTIONS
from bench.benchmarks.carts.engine import ENGINE_MEDIAN_TARGET_MS
from bench.benchmarks.carts.levels import API_P99_TARGET_MS, TARGET_CONCURRENCY
from bench.harness.report import header_lines, not_run_row, pass_fail, render_columns


def render(report: dict[str, Any]) -> str:
    """The human-readable summary printed on stdout."""
    lines = header_lines(
        report,
        f"PromoForge carts benchmark: {AUTOMATIC_PROMOTIONS} automatic and {CODE_PROMOTIONS:,} code "
        f"promotions, {report['carts_per_side']} carts a side, up to {report['requests_per_level']:,} "
        f"requests or {report['seconds_per_level']:.0f} s per level",
    )
    engine = report.get("engine")
    if engine:
        latency = engine["latency"]
        lines.append(
            f"engine ({engine['lines']} lines, {engine['applied_code_offers']} codes + "
            f"{engine['automatic_offers']} automatic, {engine['runs']} runs): "
            f"median {latency['median_ms']:.2f} ms, p95 {latency['p95_ms']:.2f} ms, "
            f"p99 {latency['p99_ms']:.2f} ms; target median <= "
            f"{ENGINE_MEDIAN_TARGET_MS} ms: {pass_fail(engine['pass'])}"
        )
        lines.append("")
    columns = [
        "backend",
        "request",
        "clients",
        "service req/s",
        "baseline req/s",
        "ratio",
        "p50/p95/p99 ms",
        "baseline p50/p99 ms",
        "errors",
        "result",
    ]
    rows: list[list[str]] = []
    read_lines: list[str] = []
    for name, outcome in report["backends"].items():
        if outcome.get("status") != "ok":
            rows.append(not_run_row(name, outcome))
            continue
        for level in outcome["levels"]:
            for operation, label in (("add", "POST items"), ("read", "GET cart")):
                sides = level[operation]
                service, baseline = sides["service"], sides["baseline"]
                sl, bl = service["latency"], baseline["latency"]
                rows.append(
                    [
                        name,
                        label,
                        str(level["concurrency"]),
                        f"{service['requests_per_second']:.1f}",
                        f"{baseline['requests_per_second']:.1f}",
                        f"{sides['ratio']:.2f}",
                        f"{sl.get('p50_ms', 0):.0f}/{sl.get('p95_ms', 0):.0f}/{sl.get('p99_ms', 0):.0f}",
                        f"{bl.get('p50_ms', 0):.1f}/{bl.get('p99_ms', 0):.1f}",
                        str(service["errors"]),
                        "-" if sides["pass"] is None else pass_fail(sides["pass"]),
                    ]
                )
        reads = outcome["reads"]
        read_lines.append(
            f"{name}: promotion rows the service built: GET {reads['get']['promotion_rows']}, POST "
            f"{reads['post']['promotion_rows']} (2 pricings); needed {reads['needed_per_pricing']} per "
            f"pricing of {reads['store_promotions']:,} in the store: {pass_fail(reads['pass'])}"
        )
    lines.extend(render_columns(columns, rows))
    lines.append("")
    lines.extend(read_lines)
    lines.append(
        f"target: p99 <= {API_P99_TARGET_MS:.0f} ms at {TARGET_CONCURRENCY} clients, no errors; "
        f"engine median <= {ENGINE_MEDIAN_TARGET_MS} ms"
    )
    lines.append(f"results: {report['output']}")
    return "\n".join(lines)
