"""SQLite writers of one process take turns without sleeping past the moment the lock is free."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from promoforge.bootstrap import open_database
from promoforge.config import Settings

# After about 230 ms of waiting, SQLite's busy handler retries every 100 ms. Holds spread over one such
# period make at least one of them end just after a retry, where polling leaves the lock free ~80 ms.
HOLD_SECONDS = (0.40, 0.42, 0.44, 0.46, 0.48)


def test_a_waiting_writer_starts_as_soon_as_the_previous_one_commits(tmp_path: Path) -> None:
    db = open_database(Settings(database_url=f"sqlite:///{tmp_path / 'writers.db'}"))
    try:
        with db.write() as repos:
            repos.connection.exec_driver_sql("CREATE TABLE marks (n INTEGER)")
        gaps: list[float] = []
        for hold in HOLD_SECONDS:
            holding = threading.Event()
            times: dict[str, float] = {}

            def first(
                holding: threading.Event = holding, times: dict[str, float] = times, hold: float = hold
            ) -> None:
                with db.write() as repos:
                    repos.connection.exec_driver_sql("INSERT INTO marks VALUES (1)")
                    holding.set()
                    time.sleep(hold)  # a long write transaction, on purpose
                times["first_done"] = time.perf_counter()

            def second(holding: threading.Event = holding, times: dict[str, float] = times) -> None:
                assert holding.wait(10)
                with db.write() as repos:
                    times["second_in"] = time.perf_counter()
                    repos.connection.exec_driver_sql("INSERT INTO marks VALUES (2)")

            threads = [threading.Thread(target=first), threading.Thread(target=second)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            gaps.append(times["second_in"] - times["first_done"])
        # A queued writer is woken as soon as the previous one has committed.
        assert max(gaps) < 0.05, [round(gap * 1000) for gap in gaps]
    finally:
        db.dispose()
