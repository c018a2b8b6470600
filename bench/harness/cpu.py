"""CPU time of another process (user + system, every thread), read from outside it."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import time
from pathlib import Path

# How long a process must use (almost) no CPU to count as idle, and what "almost" is: uvicorn's main loop
# wakes every 100 ms for a few tens of microseconds.
SETTLE_INTERVAL_SECONDS = 0.003
SETTLE_TOLERANCE_NS = 30_000
SETTLE_LIMIT_SECONDS = 2.0


def process_clock_id(pid: int) -> int | None:
    """The CPU-time clock of process `pid` (clock_getcpuclockid(3)), or None where there is none."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        clock = ctypes.c_int()
        if libc.clock_getcpuclockid(pid, ctypes.byref(clock)) != 0:
            return None
        time.clock_gettime_ns(clock.value)
    except (AttributeError, OSError):
        return None
    return clock.value


def proc_stat_ns(pid: int) -> int:
    """utime + stime of `/proc/<pid>/stat` (every thread, in clock ticks of usually 10 ms), in ns."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


class ProcessCpu:
    """A process's CPU time in nanoseconds: from its CPU-time clock when the kernel offers one (the
    scheduler's exact count), else from `/proc/<pid>/stat`, which moves in clock ticks."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.clock_id = process_clock_id(pid)

    @property
    def source(self) -> str:
        """Where the readings come from."""
        if self.clock_id is None:
            return "/proc/<pid>/stat utime+stime (clock ticks)"
        return "clock_gettime(clock_getcpuclockid(pid)) (ns, every thread)"

    def ns(self) -> int:
        """CPU time used so far."""
        if self.clock_id is None:
            return proc_stat_ns(self.pid)
        return time.clock_gettime_ns(self.clock_id)

    def stat_ns(self) -> int:
        """CPU time used so far as `/proc/<pid>/stat` has it (a cross-check at tick resolution)."""
        return proc_stat_ns(self.pid)

    def settle(self) -> int:
        """Wait until the process has gone idle (what it does after sending an answer, such as its access
        line or metrics, is done); return its CPU time then."""
        deadline = time.monotonic() + SETTLE_LIMIT_SECONDS
        last = self.ns()
        while True:
            time.sleep(SETTLE_INTERVAL_SECONDS)
            now = self.ns()
            if now - last <= SETTLE_TOLERANCE_NS or time.monotonic() > deadline:
                return now
            last = now

    def idle_ns_per_second(self, seconds: float = 1.0) -> float:
        """CPU time the process uses per second while nobody talks to it."""
        before = self.settle()
        started = time.perf_counter()
        time.sleep(seconds)
        used = self.ns() - before
        return used / (time.perf_counter() - started)
