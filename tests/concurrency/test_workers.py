"""Real races: concurrent job requests, several workers, a worker killed mid-job, a graceful stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from promoforge.bootstrap import Container
from promoforge.domain.errors import NotFound, TooManyJobs
from promoforge.domain.jobs import JobType
from promoforge.jobs.worker import Worker
from promoforge.services import jobs
from promoforge.storage.repositories.codes import codes_of_promotion
from promoforge.storage.schema import promotion_codes, promotion_jobs, promotions
from support import StoreClient, TestClient, make_store

PROMOFORGE = str(Path(sys.executable).with_name("promoforge"))


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, interval: float = 0.01) -> None:
    """Poll until `condition` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(interval)


def codes_of(container: Container, promotion_id: str) -> tuple[int, int, int]:
    """Codes of a promotion: rows, distinct keys, and the promotion's counter."""
    with container.db.read() as repos:
        rows, distinct = repos.connection.execute(
            select(func.count(), func.count(func.distinct(promotion_codes.c.code_key))).where(
                codes_of_promotion(promotion_id)
            )
        ).one()
        counter = repos.connection.execute(
            select(promotions.c.code_count).where(promotions.c.id == promotion_id)
        ).scalar_one()
    return int(rows), int(distinct), int(counter)


def job_row(container: Container, job_id: str) -> Any:
    with container.db.read() as repos:
        store_id = repos.connection.execute(
            select(promotion_jobs.c.store_id).where(promotion_jobs.c.id == job_id)
        ).scalar_one()
        return repos.store(str(store_id)).jobs.by_id(job_id)


def test_one_active_job_under_concurrent_requests(container: Container, shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    request = jobs.JobRequest(job_type=JobType.CODE_EXPORT, name=None, generate=None, parameters=None)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            jobs.create_job(
                container.db,
                store_id=shop.store_id,
                promotion_id=promotion["id"],
                request=request,
                actor=None,
                now=container.clock(),
            )
            outcomes.append("created")
        except TooManyJobs:
            outcomes.append("too many")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["created"] + ["too many"] * 7
    assert shop.get(f"/v2/promotions/{promotion['id']}/jobs").json()["meta"]["results"]["total"] == 1


def test_racing_workers_run_each_job_once(container: Container, app_client: TestClient) -> None:
    container.settings.generate_chunk_size = container.settings.generate_max_chunk_size = 250
    shop = make_store(container, app_client, max_codes=5000)
    created = []
    for _ in range(6):
        promotion = shop.create_promotion()
        job = shop.create_job(promotion["id"], number_of_codes=2000).json()["data"]
        created.append((promotion["id"], job["id"]))
    workers = [Worker(container.db, container.settings, clock=container.clock) for _ in range(3)]
    counts: list[int] = []
    threads = [threading.Thread(target=lambda w=w: counts.append(w.run_until_empty())) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(counts) == 6
    for promotion_id, job_id in created:
        row = job_row(container, job_id)
        assert row.status.value == "completed"
        assert row.attempts == 1
        assert row.generated == 2000
        assert codes_of(container, promotion_id) == (2000, 2000, 2000)


@pytest.fixture
def worker_process(container: Container, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start `promoforge worker` subprocesses on the test database; all are killed at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**settings: str) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "PROMOFORGE_DATABASE_URL": container.settings.resolved_database_url(),
            "PROMOFORGE_DATA_DIR": str(tmp_path / "worker-data"),
            "PROMOFORGE_JOB_LEASE_SECONDS": "1.5",
            "PROMOFORGE_JOB_POLL_SECONDS": "0.05",
            **settings,
        }
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen([PROMOFORGE, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_killed_worker_generate_job_completes_exactly(
    container: Container, app_client: TestClient, worker_process: Callable[..., subprocess.Popen[bytes]]
) -> None:
    shop = make_store(container, app_client, max_codes=1_000_000)
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], "MANUAL-1", "MANUAL-2")
    total = 60_000
    job = shop.create_job(promotion["id"], number_of_codes=total, code_prefix="k").json()["data"]
    doomed = worker_process(PROMOFORGE_GENERATE_CHUNK_SIZE="500", PROMOFORGE_GENERATE_MAX_CHUNK_SIZE="500")
    wait_for(lambda: job_row(container, job["id"]).generated >= 3000)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    stalled = job_row(container, job["id"])
    assert stalled.status.value == "processing"
    assert 0 < stalled.generated < total
    rows, _, _ = codes_of(container, promotion["id"])
    assert rows == 2 + stalled.generated
    worker_process(PROMOFORGE_GENERATE_CHUNK_SIZE="5000")
    wait_for(lambda: job_row(container, job["id"]).status.value == "completed", timeout=120)
    done = job_row(container, job["id"])
    assert done.generated == total
    assert done.attempts == 2
    assert codes_of(container, promotion["id"]) == (total + 2, total + 2, total + 2)


def test_killed_worker_export_job_completes_with_one_copy_of_each_code(
    container: Container,
    app_client: TestClient,
    worker_process: Callable[..., subprocess.Popen[bytes]],
    run_jobs: Any,
) -> None:
    shop = make_store(container, app_client, max_codes=1_000_000)
    promotion = shop.create_promotion()
    shop.create_job(promotion["id"], number_of_codes=30_000)
    run_jobs()
    job = shop.create_job(promotion["id"], "code_export").json()["data"]
    doomed = worker_process(PROMOFORGE_EXPORT_PART_BYTES="16384", PROMOFORGE_EXPORT_CHUNK_ROWS="200")
    wait_for(lambda: job_row(container, job["id"]).progress_done >= 2000)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    assert job_row(container, job["id"]).status.value == "processing"
    worker_process()
    wait_for(lambda: job_row(container, job["id"]).status.value == "completed", timeout=60)
    href = shop.get(f"/v2/promotions/{promotion['id']}/jobs/{job['id']}/file").json()["href"]
    from urllib.parse import urlsplit

    parts = urlsplit(href)
    lines = shop.client.get(f"{parts.path}?{parts.query}").content.decode().splitlines()
    assert len(lines) == 30_001
    assert len(set(lines)) == 30_001
    assert job_row(container, job["id"]).attempts == 2


def test_sigterm_stops_a_worker_quickly_and_hands_the_job_back(
    container: Container, app_client: TestClient, worker_process: Callable[..., subprocess.Popen[bytes]]
) -> None:
    shop = make_store(container, app_client, max_codes=1_000_000)
    promotion = shop.create_promotion()
    total = 60_000
    job = shop.create_job(promotion["id"], number_of_codes=total).json()["data"]
    process = worker_process(
        PROMOFORGE_GENERATE_CHUNK_SIZE="500",
        PROMOFORGE_GENERATE_MAX_CHUNK_SIZE="500",
        PROMOFORGE_JOB_LEASE_SECONDS="60",
    )
    wait_for(lambda: job_row(container, job["id"]).generated >= 2000)
    stopping_since = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert time.monotonic() - stopping_since < 5
    handed_back = job_row(container, job["id"])
    assert handed_back.status.value == "processing"
    assert handed_back.lease_owner is None
    assert handed_back.attempts == 0  # a graceful hand-back does not count as a failed attempt
    assert handed_back.generated < total
    # With a 60 s lease, only a released job can be taken over at once.
    assert Worker(container.db, container.settings, clock=container.clock).run_until_empty() == 1
    done = job_row(container, job["id"])
    assert done.status.value == "completed"
    assert done.attempts == 1
    assert codes_of(container, promotion["id"]) == (total, total, total)


def test_adding_codes_while_the_promotion_is_deleted_leaves_no_orphans(
    container: Container, shop: StoreClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promoforge.domain.codes import NewCode, canonical_code
    from promoforge.services import codes, promotions
    from promoforge.storage.repositories.codes import CodeRepository

    promotion = shop.create_promotion()
    inside_add = threading.Event()
    release_add = threading.Event()
    real_add = CodeRepository.add

    def slow_add(self: CodeRepository, **kwargs: Any) -> set[str]:
        inserted = real_add(self, **kwargs)
        inside_add.set()
        release_add.wait(10)
        return inserted

    monkeypatch.setattr(CodeRepository, "add", slow_add)
    new = [
        NewCode(code="RACE1", key=canonical_code("RACE1"), max_uses=None, consume_unit="per_cart", user=None)
    ]
    outcomes: dict[str, object] = {}

    def add() -> None:
        try:
            codes.add_codes(
                container.db,
                store_id=shop.store_id,
                promotion_id=promotion["id"],
                codes=new,
                actor=None,
                now=container.clock(),
            )
            outcomes["add"] = "added"
        except Exception as error:  # recorded for the assertion below
            outcomes["add"] = error

    def delete() -> None:
        promotions.delete_promotion(
            container.db, store_id=shop.store_id, promotion_id=promotion["id"], now=container.clock()
        )
        outcomes["delete"] = "deleted"

    adder = threading.Thread(target=add)
    adder.start()
    assert inside_add.wait(10)
    deleter = threading.Thread(target=delete)
    deleter.start()
    if container.db.backend == "sqlite":
        deleter.join(0.3)  # one writer at a time: the delete waits for the adding transaction
        assert deleter.is_alive()
    else:
        # The add locks the promotion only with its counter update, last: the delete goes first, and the
        # add, finding no live promotion to count its codes against, is undone as a 404.
        deleter.join(20)
        assert outcomes == {"delete": "deleted"}
    release_add.set()
    adder.join(20)
    deleter.join(20)
    added = outcomes.pop("add")
    assert outcomes == {"delete": "deleted"}
    if container.db.backend == "sqlite":
        assert added == "added"
    else:
        assert isinstance(added, NotFound), added

    # The promotion is gone for readers at once, and its codes no longer block anyone...
    assert shop.get(f"/v2/promotions/{promotion['id']}").status_code == 404
    other = shop.create_promotion()
    assert shop.add_codes(other["id"], "race1").status_code == 201
    # ...and the purge job removes what is left of it.
    assert Worker(container.db, container.settings, clock=container.clock).run_until_empty() == 1
    with container.db.read() as repos:
        orphans = repos.connection.execute(
            select(func.count()).select_from(promotion_codes).where(codes_of_promotion(promotion["id"]))
        ).scalar_one()
    assert orphans == 0


def test_a_stalled_job_is_taken_over(
    container: Container, shop: StoreClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promoforge.services import job_runs

    container.settings.job_lease_seconds = 0.6
    container.settings.job_stall_seconds = 0.5
    container.settings.generate_chunk_size = container.settings.generate_max_chunk_size = 100
    promotion = shop.create_promotion()
    job = shop.create_job(promotion["id"], number_of_codes=500).json()["data"]
    stuck = threading.Event()
    unstick = threading.Event()
    real_insert = job_runs.insert_generated_batch
    first_thread: list[int] = []

    def hanging_insert(*args: Any, **kwargs: Any) -> int:
        if not first_thread:
            first_thread.append(threading.get_ident())
        if threading.get_ident() == first_thread[0]:
            stuck.set()
            unstick.wait(20)
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(job_runs, "insert_generated_batch", hanging_insert)
    hung = Worker(container.db, container.settings, clock=container.clock)
    hung_thread = threading.Thread(target=hung.run_until_empty)
    hung_thread.start()
    try:
        assert stuck.wait(10)
        rescuer = Worker(container.db, container.settings, clock=container.clock)
        wait_for(lambda: rescuer.run_until_empty() == 1, timeout=20, interval=0.1)
        done = job_row(container, job["id"])
        assert done.status.value == "completed"
        assert done.attempts == 2
    finally:
        unstick.set()
        hung_thread.join(20)
    assert codes_of(container, promotion["id"]) == (500, 500, 500)


def test_parallel_adds_to_one_promotion_do_not_wait_for_each_other_until_the_count(
    container: Container, shop: StoreClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL an add holding its inserted codes does not keep a second add out of the promotion."""
    if container.db.backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time")
    from promoforge.domain.codes import NewCode, canonical_code
    from promoforge.services import codes
    from promoforge.storage.repositories.codes import CodeRepository

    promotion = shop.create_promotion()
    first_inside = threading.Event()
    release_first = threading.Event()
    real_add = CodeRepository.add

    def add_pausing_the_first(self: CodeRepository, **kwargs: Any) -> set[str]:
        inserted = real_add(self, **kwargs)
        if kwargs["codes"][0][1].code == "FIRST":
            first_inside.set()
            release_first.wait(10)
        return inserted

    monkeypatch.setattr(CodeRepository, "add", add_pausing_the_first)
    outcomes: dict[str, object] = {}

    def add(code: str) -> None:
        new = NewCode(code=code, key=canonical_code(code), max_uses=None, consume_unit="per_cart", user=None)
        try:
            codes.add_codes(
                container.db,
                store_id=shop.store_id,
                promotion_id=promotion["id"],
                codes=[new],
                actor=None,
                now=container.clock(),
            )
            outcomes[code] = "added"
        except Exception as error:  # recorded for the assertion below
            outcomes[code] = error

    first = threading.Thread(target=add, args=("FIRST",))
    first.start()
    try:
        assert first_inside.wait(10)
        second = threading.Thread(target=add, args=("SECOND",))
        second.start()
        second.join(10)
        assert not second.is_alive(), "the second add waited for the first one's transaction"
        assert outcomes == {"SECOND": "added"}
    finally:
        release_first.set()
        first.join(20)
    assert outcomes == {"SECOND": "added", "FIRST": "added"}
    assert codes_of(container, promotion["id"]) == (2, 2, 2)
