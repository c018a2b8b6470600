"""Readiness: what a process needs before it should be sent work, and how each need is reported."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

# A worker whose last heartbeat is older than this is taken for dead (its heartbeat runs every few seconds).
HEARTBEAT_FRESH_FOR = timedelta(minutes=1)
# Rows of workers silent this long are deleted by the live ones: the process has surely gone.
HEARTBEAT_PURGED_AFTER = timedelta(minutes=10)


class CheckStatus(StrEnum):
    """The outcome of one readiness check."""

    PASSED = "pass"
    FAILED = "fail"
    SKIPPED = "skip"


@dataclass(frozen=True)
class Check:
    """One readiness check: its outcome, why it failed or was skipped, and what it saw."""

    status: CheckStatus
    reason: str | None = None
    details: dict[str, str | float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Readiness:
    """Every check by name; ready when none failed."""

    checks: dict[str, Check]

    @property
    def ready(self) -> bool:
        """Tell whether no check failed."""
        return all(check.status is not CheckStatus.FAILED for check in self.checks.values())

    def document(self) -> dict[str, Any]:
        """`{"status": "ready" | "not_ready", "checks": {name: {"status", "reason"?, ...details}}}`."""
        checks: dict[str, Any] = {}
        for name, check in self.checks.items():
            entry: dict[str, Any] = {"status": check.status.value}
            if check.reason is not None:
                entry["reason"] = check.reason
            entry.update(check.details)
            checks[name] = entry
        return {"status": "ready" if self.ready else "not_ready", "checks": checks}


@dataclass(frozen=True)
class WorkerHeartbeat:
    """A worker process's record that it is alive: who it is, where it runs, when it last said so."""

    id: str
    host: str
    pid: int
    threads: int
    started_at: datetime
    beat_at: datetime


@dataclass(frozen=True)
class ExpectedWorker:
    """Which worker readiness needs alive: one by id (a process's own), any on one host, or any at all."""

    worker_id: str | None = None
    host: str | None = None

    def describe(self) -> str:
        """Name the worker(s) in a reason."""
        if self.worker_id is not None:
            return f"this process's job worker ({self.worker_id})"
        if self.host is not None:
            return f"a job worker on host {self.host}"
        return "a job worker"


def worker_check(expected: ExpectedWorker, last_beat: datetime | None, now: datetime) -> Check:
    """Pass when the expected worker's latest heartbeat is fresh."""
    if last_beat is None:
        return Check(CheckStatus.FAILED, f"no heartbeat from {expected.describe()}")
    age = max(0.0, (now - last_beat).total_seconds())
    details: dict[str, str | float | None] = {"last_heartbeat_seconds_ago": round(age, 1)}
    if now - last_beat > HEARTBEAT_FRESH_FOR:
        limit = int(HEARTBEAT_FRESH_FOR.total_seconds())
        reason = f"the last heartbeat from {expected.describe()} is older than {limit} s"
        return Check(CheckStatus.FAILED, reason, details)
    return Check(CheckStatus.PASSED, details=details)


def migrations_check(current: str | None, expected: str | None) -> Check:
    """Pass when the database is at the revision this code was written for."""
    details: dict[str, str | float | None] = {"revision": current, "expected": expected}
    if current != expected:
        return Check(
            CheckStatus.FAILED,
            f"the database is at revision {current or 'none'}, this code needs {expected}",
            details,
        )
    return Check(CheckStatus.PASSED, details=details)


@dataclass(frozen=True)
class QueuedJobs:
    """The active jobs of one type: waiting, held by a worker, and how long the oldest has waited."""

    job_type: str
    pending: int
    running: int
    oldest_pending_seconds: float
