"""Concurrent clients: send numbered requests from N threads at once and collect what they saw.

A benchmark gives `run_clients` a way to open one client per thread (an HTTP client, or a plain DB-API
connection for a baseline) and a sender that makes request number n with it and returns its latency and
status. `code_adds`, `carts` and `checkout` all measure their levels this way.
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from typing import Any

from bench.harness.timing import BenchError, latency_summary

PERCENTILES = (50, 95, 99)

# (the thread's client, request number) -> (latency in seconds or None when no answer came, status)
Send = Callable[[Any, int], tuple[float | None, str]]


@dataclass
class LevelOutcome:
    """What the clients of one concurrency level saw."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    finished: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, seconds: float | None, status: str) -> None:
        """Keep one request's latency (None when it got no answer) and outcome."""
        with self.lock:
            self.statuses[status] += 1
            if seconds is not None:
                self.latencies.append(seconds)

    def summary(self, codes_per_request: int, succeeded_status: str) -> dict[str, Any]:
        """Requests per second over the wall time of the level, latencies, and outcomes."""
        wall = self.finished - self.started
        ok = self.statuses[succeeded_status]
        requests = sum(self.statuses.values())
        return {
            "requests": requests,
            "succeeded": ok,
            "errors": requests - ok,
            "statuses": dict(self.statuses),
            "wall_seconds": round(wall, 4),
            "requests_per_second": round(ok / wall, 2) if wall > 0 else None,
            "codes_per_second": round(ok * codes_per_request / wall) if wall > 0 else None,
            "latency": latency_summary(self.latencies, requests - ok, PERCENTILES),
        }


def run_clients(
    concurrency: int,
    requests: int,
    seconds: float,
    open_client: Callable[[], Any],
    send: Send,
    first_request: int,
) -> LevelOutcome:
    """Send up to `requests` requests (numbered from `first_request`) from `concurrency` threads at once.

    Each thread owns one client from `open_client` (closed afterwards) and takes the next request number
    until all are taken or `seconds` have passed since the start.
    """
    outcome = LevelOutcome()
    numbers = itertools.count(first_request)
    numbers_lock = threading.Lock()
    deadline = [0.0]

    def start_clock() -> None:
        outcome.started = time.perf_counter()
        deadline[0] = outcome.started + seconds

    ready = threading.Barrier(concurrency + 1, action=start_clock)
    problems: list[BaseException] = []

    def client_thread() -> None:
        try:
            with ExitStack() as stack:
                client = stack.enter_context(open_client())
                ready.wait()
                while True:
                    with numbers_lock:
                        number = next(numbers)
                    if number >= first_request + requests or time.perf_counter() > deadline[0]:
                        return
                    outcome.record(*send(client, number))
        except BaseException as error:  # reported after the join; a thread cannot raise to the caller
            problems.append(error)
            ready.abort()

    threads = [threading.Thread(target=client_thread, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    with suppress(threading.BrokenBarrierError):
        ready.wait()
    for thread in threads:
        thread.join()
    outcome.finished = time.perf_counter()
    if problems:
        raise BenchError(f"a client failed: {problems[0]!r}") from problems[0]
    return outcome


def warmed_level(
    concurrency: int,
    requests: int,
    seconds: float,
    open_client: Callable[[], Any],
    send: Send,
    first_request: int,
) -> tuple[LevelOutcome, LevelOutcome]:
    """One level: an untimed round of one request per client (it opens connections and fills caches),
    then up to `requests` timed ones numbered after it. Returns (warm-up, timed)."""
    warm = run_clients(concurrency, concurrency, seconds, open_client, send, first_request)
    timed = run_clients(concurrency, requests, seconds, open_client, send, first_request + concurrency)
    return warm, timed


def concurrency_list(text: str) -> list[int]:
    """Parse `1,16,64`."""
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of whole numbers: {text!r}") from None
    if not levels or any(level < 1 for level in levels):
        raise argparse.ArgumentTypeError("concurrency levels must be at least 1")
    return levels
