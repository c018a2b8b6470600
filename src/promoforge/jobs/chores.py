"""Housekeeping that is not a job: idle worker threads run each chore at most once per interval."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from promoforge.services.clock import Clock
from promoforge.storage.repositories import Transactor

log = logging.getLogger("promoforge.worker")


class IdleChore:
    """Runs `work` at most once per interval, whichever worker thread offers its idle time first."""

    def __init__(
        self,
        db: Transactor,
        clock: Clock,
        *,
        what: str,
        work: Callable[[Transactor, datetime], int],
        interval_seconds: float,
    ) -> None:
        self._db = db
        self._clock = clock
        self._what = what
        self._work = work
        self._interval = interval_seconds
        self._lock = threading.Lock()
        self._last_run = float("-inf")

    def run_if_due(self) -> None:
        """Do the chore now unless it was done within the interval (or another thread is at it)."""
        if time.monotonic() - self._last_run < self._interval or not self._lock.acquire(blocking=False):
            return
        try:
            self._last_run = time.monotonic()
            done = self._work(self._db, self._clock())
            if done:
                log.info("deleted %d %s", done, self._what)
        except Exception:
            log.exception("could not delete %s; trying again later", self._what)
        finally:
            self._lock.release()
