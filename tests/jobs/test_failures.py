"""How a job meets failure: transient ones are retried later with its work kept, permanent ones fail it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from promoforge.bootstrap import Container
from promoforge.domain.errors import ServiceUnavailable, WriteConflict
from promoforge.domain.jobs import JobType
from promoforge.jobs.registry import TASKS
from promoforge.jobs.worker import MAX_ATTEMPTS, Worker, retry_delay
from promoforge.services import job_runs
from promoforge.storage.repositories.codes import codes_of_promotion
from promoforge.storage.schema import promotion_codes, promotions
from support import StoreClient


class SteppedClock:
    """A clock that stands still until the test moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def codes_and_counter(container: Container, promotion_id: str) -> tuple[int, int]:
    with container.db.read() as tx:
        codes = tx.connection.execute(
            select(func.count()).select_from(promotion_codes).where(codes_of_promotion(promotion_id))
        ).scalar_one()
        counter = tx.connection.execute(
            select(promotions.c.code_count).where(promotions.c.id == promotion_id)
        ).scalar_one()
    return int(codes), int(counter)


def test_every_job_type_has_a_task() -> None:
    assert set(TASKS) == set(JobType)


def test_a_transient_failure_hands_the_job_back_for_later_and_keeps_its_work(
    container: Container, shop: StoreClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    container.settings.generate_chunk_size = container.settings.generate_max_chunk_size = 100
    clock = SteppedClock(container.clock())
    promotion = shop.create_promotion()
    job = shop.create_job(promotion["id"], number_of_codes=300).json()["data"]
    real_insert = job_runs.insert_generated_batch
    batches: list[int] = []

    def busy_on_the_second_batch(*args: Any, **kwargs: Any) -> int:
        batches.append(1)
        if len(batches) == 2:
            raise ServiceUnavailable("The database is unavailable; retry shortly.")
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(job_runs, "insert_generated_batch", busy_on_the_second_batch)
    worker = Worker(container.db, container.settings, clock=clock)
    assert worker.run_until_empty() == 1
    handed_back = shop.job(promotion["id"], job["id"])
    assert handed_back["status"] == "processing"
    assert "error" not in handed_back
    assert handed_back["result"]["generated"] == 100  # the first batch is kept, not undone
    assert codes_and_counter(container, promotion["id"]) == (100, 300)
    # Not claimed again before its retry time...
    assert worker.run_until_empty() == 0
    clock.now += timedelta(seconds=retry_delay(1) * 2 + 1)
    # ...and finished from where it stopped once it is due.
    assert worker.run_until_empty() == 1
    done = shop.job(promotion["id"], job["id"])
    assert done["status"] == "completed"
    assert done["result"] == {"generated": 300, "deleted": None}
    assert codes_and_counter(container, promotion["id"]) == (300, 300)


def test_a_job_that_keeps_failing_transiently_is_failed_in_the_end(
    container: Container, shop: StoreClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = SteppedClock(container.clock())
    promotion = shop.create_promotion()
    job = shop.create_job(promotion["id"], number_of_codes=10).json()["data"]

    def always_busy(*args: Any, **kwargs: Any) -> int:
        raise WriteConflict("The database is busy; retry the request.")

    monkeypatch.setattr(job_runs, "insert_generated_batch", always_busy)
    worker = Worker(container.db, container.settings, clock=clock)
    for _ in range(MAX_ATTEMPTS + 2):
        worker.run_until_empty()
        clock.now += timedelta(hours=1)
    failed = shop.job(promotion["id"], job["id"])
    assert failed["status"] == "failed"
    assert failed["error"].startswith(f"gave up after {MAX_ATTEMPTS} attempts")
    assert "busy" in failed["error"]
    assert codes_and_counter(container, promotion["id"]) == (0, 0)


def test_a_permanent_failure_fails_the_job_at_once_and_undoes_it(
    container: Container, shop: StoreClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    container.settings.generate_chunk_size = container.settings.generate_max_chunk_size = 100
    promotion = shop.create_promotion()
    job = shop.create_job(promotion["id"], number_of_codes=300).json()["data"]
    real_insert = job_runs.insert_generated_batch
    batches: list[int] = []

    def broken_on_the_second_batch(*args: Any, **kwargs: Any) -> int:
        batches.append(1)
        if len(batches) == 2:
            raise KeyError("a bug")
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(job_runs, "insert_generated_batch", broken_on_the_second_batch)
    assert Worker(container.db, container.settings, clock=container.clock).run_until_empty() == 1
    failed = shop.job(promotion["id"], job["id"])
    assert failed["status"] == "failed"
    assert failed["error"] == f"internal error (KeyError); the service log has the details of job {job['id']}"
    assert codes_and_counter(container, promotion["id"]) == (0, 0)


def test_a_code_space_that_keeps_clashing_fails_in_plain_words(
    container: Container, shop: StoreClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    promotion = shop.create_promotion()
    job = shop.create_job(promotion["id"], number_of_codes=50).json()["data"]
    monkeypatch.setattr(job_runs, "insert_generated_batch", lambda *args, **kwargs: 0)
    assert Worker(container.db, container.settings, clock=container.clock).run_until_empty() == 1
    failed = shop.job(promotion["id"], job["id"])
    assert failed["status"] == "failed"
    assert failed["error"].startswith("could not find enough unused codes")
    assert "longer code_length" in failed["error"]
    assert "CodeSpaceExhausted" not in failed["error"]
