"""What a running job needs: storage, settings, the clock, its lease and the stop signal."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from promoforge.config import Settings
from promoforge.services.clock import Clock
from promoforge.storage.repositories import Database


class WorkerStopping(Exception):
    """The worker was asked to stop; the job is handed back unfinished."""


@dataclass(frozen=True)
class JobContext:
    """Everything a job handler uses."""

    db: Database
    settings: Settings
    clock: Clock
    owner: str
    stop: threading.Event

    def lease_until(self) -> datetime:
        """When a lease taken now runs out."""
        return self.clock() + timedelta(seconds=self.settings.job_lease_seconds)

    def check_stop(self) -> None:
        """Raise WorkerStopping if the worker is shutting down."""
        if self.stop.is_set():
            raise WorkerStopping
