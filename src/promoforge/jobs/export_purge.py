"""Deleting expired export files, from the worker's idle time."""

from __future__ import annotations

import logging
import threading
import time

from promoforge.services import jobs
from promoforge.services.clock import Clock
from promoforge.storage.repositories import Transactor

log = logging.getLogger("promoforge.worker")

PURGE_INTERVAL_SECONDS = 60.0
# Parts are up to export_part_bytes (4 MiB by default) each: this bounds one transaction to about 32 MiB.
PURGE_BATCH_PARTS = 8


class ExportPurge:
    """Runs purge_expired_exports at most once per interval, whichever worker thread asks first."""

    def __init__(
        self, db: Transactor, clock: Clock, interval_seconds: float = PURGE_INTERVAL_SECONDS
    ) -> None:
        self._db = db
        self._clock = clock
        self._interval = interval_seconds
        self._lock = threading.Lock()
        self._last_run = float("-inf")

    def run_if_due(self) -> None:
        """Purge now unless it was done within the interval (or another thread is at it)."""
        if time.monotonic() - self._last_run < self._interval or not self._lock.acquire(blocking=False):
            return
        try:
            self._last_run = time.monotonic()
            deleted = jobs.purge_expired_exports(self._db, now=self._clock(), batch=PURGE_BATCH_PARTS)
            if deleted:
                log.info("deleted %d parts of expired export files", deleted)
        except Exception:
            log.exception("could not delete expired export files; trying again later")
        finally:
            self._lock.release()
