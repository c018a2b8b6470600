"""Progress lines, latency summaries and targets."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any


class BenchError(RuntimeError):
    """A step of the benchmark could not be carried out."""


def log(message: str) -> None:
    """Print a progress line on stderr."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The sample at `fraction` (0-1) of sorted samples, rounded to the nearest rank."""
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def latency_summary(
    samples: list[float], errors: int = 0, percentiles: Sequence[int] = (95,)
) -> dict[str, Any]:
    """Summarise request latencies (seconds) in milliseconds, with the median and the given percentiles."""
    if not samples:
        return {"count": 0, "errors": errors}
    ordered = sorted(samples)
    summary: dict[str, Any] = {
        "count": len(ordered),
        "errors": errors,
        "min_ms": round(ordered[0] * 1000, 2),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
    }
    for rank in percentiles:
        summary[f"p{rank}_ms"] = round(percentile(ordered, rank / 100) * 1000, 2)
    summary["max_ms"] = round(ordered[-1] * 1000, 2)
    return summary


def verdict(value: float, limit: float, *, strict: bool) -> bool:
    """Whether a figure meets its target (`strict` for `<`, else `<=`)."""
    return value < limit if strict else value <= limit
