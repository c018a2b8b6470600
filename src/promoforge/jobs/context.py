"""What a running job needs: storage, settings, the clock, its lease and the stop signal."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from promoforge.config import Settings
from promoforge.services.clock import Clock
from promoforge.storage.repositories import Database


class WorkerStopping(Exception):
    """The worker was asked to stop; the job is handed back unfinished."""


class JobFailed(Exception):
    """The job cannot succeed; `reason` says why in words its owner understands."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StepClock:
    """When the running job last finished a step; a job that stops making progress stops being renewed."""

    def __init__(self) -> None:
        self._last = time.monotonic()

    def mark(self) -> None:
        """Record that a step just finished."""
        self._last = time.monotonic()

    def idle_seconds(self) -> float:
        """Seconds since the last step finished."""
        return time.monotonic() - self._last


@dataclass(frozen=True)
class JobContext:
    """Everything a job handler uses."""

    db: Database
    settings: Settings
    clock: Clock
    owner: str
    stop: threading.Event
    steps: StepClock = field(default_factory=StepClock)

    def lease_until(self) -> datetime:
        """When a lease taken now runs out."""
        return self.clock() + timedelta(seconds=self.settings.job_lease_seconds)

    def step_done(self) -> None:
        """Mark progress, then raise WorkerStopping if the worker is shutting down."""
        self.steps.mark()
        if self.stop.is_set():
            raise WorkerStopping
