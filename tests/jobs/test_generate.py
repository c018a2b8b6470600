"""Code generation: exact counts, format, uniqueness against every code of the store, limits, cancel."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from promoforge.bootstrap import Container
from promoforge.domain import codes as code_rules
from promoforge.jobs import generate as generate_module
from promoforge.jobs.worker import Worker
from promoforge.services import job_runs
from promoforge.storage.dialects import postgresql as postgresql_dialect
from promoforge.storage.repositories.codes import codes_of_promotion
from promoforge.storage.repositories.transactions import Transaction
from promoforge.storage.schema import promotion_codes, promotions
from support import StoreClient, TestClient, make_store


def stored_codes(container: Container, promotion_id: str) -> list[str]:
    with container.db.read() as repos:
        rows = repos.connection.execute(
            select(func.coalesce(promotion_codes.c.code, promotion_codes.c.code_key)).where(
                codes_of_promotion(promotion_id)
            )
        )
        return [row[0] for row in rows]


def code_count(container: Container, promotion_id: str) -> int:
    with container.db.read() as repos:
        value = repos.connection.execute(
            select(promotions.c.code_count).where(promotions.c.id == promotion_id)
        ).scalar_one()
    return int(value)


def listed_total(shop: StoreClient, promotion_id: str) -> int:
    """The total the codes list reports (from the counter, less what running jobs have not made yet)."""
    response = shop.get(f"/v2/promotions/{promotion_id}/codes", params={"page[limit]": "1"})
    assert response.status_code == 200
    return int(response.json()["meta"]["results"]["total"])


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll until `condition` holds."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.mark.parametrize(
    ("prefix", "length", "pattern"),
    [
        (None, 8, r"[a-z2-9]{4}-[a-z2-9]{4}"),
        ("summer", 10, r"summer-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{2}"),
        ("Promo-", 16, r"Promo-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}"),
        # Characters COPY's text format escapes, kept as sent.
        ("Back\\N\\t|x", 8, r"Back\\N\\t\|x-[a-z2-9]{4}-[a-z2-9]{4}"),
    ],
)
def test_generates_exactly_the_requested_codes(
    container: Container, shop: StoreClient, run_jobs: Any, prefix: str | None, length: int, pattern: str
) -> None:
    promotion = shop.create_promotion()
    parameters: dict[str, Any] = {"number_of_codes": 300, "code_length": length, "max_uses_per_code": 2}
    if prefix:
        parameters["code_prefix"] = prefix
    job = shop.create_job(promotion["id"], **parameters).json()["data"]
    assert run_jobs() == 1
    done = shop.job(promotion["id"], job["id"])
    assert done["status"] == "completed"
    assert done["result"] == {"generated": 300, "deleted": None}
    assert done["meta"]["progress"] == {"done": 300, "total": 300}
    made = stored_codes(container, promotion["id"])
    assert len(made) == 300
    assert len({c.lower() for c in made}) == 300
    assert all(re.fullmatch(pattern, c) for c in made), made[:5]
    listed = shop.list_codes(promotion["id"], **{"page[limit]": 5})
    assert all(c["uses"] == 2 and c["max_uses"] == 2 and c["consume_unit"] == "per_cart" for c in listed)
    assert code_count(container, promotion["id"]) == 300


def test_collisions_with_existing_codes_in_any_case_are_topped_up(
    container: Container, shop: StoreClient, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], "PRE-AAAA-BBBB", "pre-cccc-dddd")
    # The first draw repeats an existing manual code (other case), itself, and a fresh body twice.
    scripted = [["aaaa-bbbb", "cccc-dddd", "eeee-ffff", "eeee-ffff", "gggg-hhhh"]]
    real = code_rules.generate_random_parts

    def draw(count: int, length: int, lead: bytes = b"") -> code_rules.RandomCodeBatch:
        if scripted:
            parts = scripted.pop()[:count]
            return code_rules.RandomCodeBatch(records="\n".join(parts), count=len(parts))
        return real(count, length, lead)

    monkeypatch.setattr(code_rules, "generate_random_parts", draw)
    job = shop.create_job(promotion["id"], number_of_codes=5, code_prefix="pre").json()["data"]
    run_jobs()
    done = shop.job(promotion["id"], job["id"])
    assert done["status"] == "completed"
    assert done["result"]["generated"] == 5
    made = stored_codes(container, promotion["id"])
    assert len(made) == 7
    assert {"PRE-AAAA-BBBB", "pre-cccc-dddd", "pre-eeee-ffff", "pre-gggg-hhhh"} <= set(made)
    assert len({c.lower() for c in made}) == 7


@pytest.mark.parametrize("slice_codes", [2, 3, 10_000])
def test_a_batch_of_bodies_of_several_lengths_is_stored_field_for_field(
    container: Container,
    shop: StoreClient,
    run_jobs: Any,
    monkeypatch: pytest.MonkeyPatch,
    slice_codes: int,
) -> None:
    """Rows are written from one template per run of equally long bodies, a slice of the batch at a time
    on PostgreSQL; each run keeps its numbers."""
    monkeypatch.setattr(postgresql_dialect, "_COPY_SLICE_CODES", slice_codes)
    promotion = shop.create_promotion()
    scripted = [["bbbb", "aaaa-bbbb", "aäa", "aaaa", "cccc-dddd-ee", "cccc"]]

    def draw(count: int, length: int, lead: bytes = b"") -> code_rules.RandomCodeBatch:
        parts = scripted.pop()[:count] if scripted else []
        return code_rules.RandomCodeBatch(records="\n".join(parts), count=len(parts))

    monkeypatch.setattr(code_rules, "generate_random_parts", draw)
    job = shop.create_job(
        promotion["id"], number_of_codes=6, code_prefix="Über", max_uses_per_code=7, consume_unit="per_item"
    ).json()["data"]
    run_jobs()
    assert shop.job(promotion["id"], job["id"])["status"] == "completed"
    listed = shop.list_codes(promotion["id"], **{"page[limit]": 10})
    bodies = ["aaaa", "aaaa-bbbb", "aäa", "bbbb", "cccc", "cccc-dddd-ee"]
    assert [c["code"] for c in listed] == [f"Über-{body}" for body in bodies]
    assert all(c["uses"] == 7 and c["max_uses"] == 7 and c["consume_unit"] == "per_item" for c in listed)
    assert len({c["meta"]["timestamps"]["created_at"] for c in listed}) == 1
    with container.db.read() as repos:
        keys = repos.connection.execute(
            select(promotion_codes.c.code_key)
            .where(codes_of_promotion(promotion["id"]))
            .order_by(promotion_codes.c.seq)
        ).scalars()
        assert list(keys) == [f"über-{body}" for body in bodies]
    found = shop.get(f"/v2/promotions/{promotion['id']}/codes", params={"filter": "eq(code,ÜBER-CCCC)"})
    assert [c["id"] for c in found.json()["data"]] == [listed[4]["id"]]


def test_the_next_draw_starts_only_once_the_batch_is_being_sent(
    shop: StoreClient, run_jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The draw of the next batch keeps off the CPU while the batch's first statements run."""
    real_take = code_rules.OrderedCodeDraw.take
    takes: list[int] = []
    second_take = threading.Event()
    events: list[str] = []

    def counted_take(self: code_rules.OrderedCodeDraw, count: int) -> list[str]:
        takes.append(count)
        if len(takes) >= 2:
            second_take.set()
        return real_take(self, count)

    real_insert = job_runs.insert_generated_batch

    def watched_insert(*args: Any, on_send: Callable[[], object], **kwargs: Any) -> int:
        # The next draw has been submitted by now; it must not run until the rows go out.
        events.append("drawn before sending" if second_take.wait(0.3) else "draw waited")

        def sent() -> None:
            events.append("sent")
            on_send()

        return real_insert(*args, on_send=sent, **kwargs)

    monkeypatch.setattr(code_rules.OrderedCodeDraw, "take", counted_take)
    monkeypatch.setattr(job_runs, "insert_generated_batch", watched_insert)
    promotion = shop.create_promotion()
    job = shop.create_job(promotion["id"], number_of_codes=300).json()["data"]
    assert run_jobs() == 1
    assert shop.job(promotion["id"], job["id"])["result"] == {"generated": 300, "deleted": None}
    assert events == ["draw waited", "sent"]
    assert len(takes) == 2


def test_job_over_the_limit_fails_and_creates_nothing(
    container: Container, app_client: TestClient, run_jobs: Any
) -> None:
    shop = make_store(container, app_client, max_codes=100)
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], *[f"M{i}" for i in range(90)])
    job = shop.create_job(promotion["id"], number_of_codes=20).json()["data"]
    assert job["status"] == "pending"
    run_jobs()
    failed = shop.job(promotion["id"], job["id"])
    assert failed["status"] == "failed"
    assert failed["error"] == "codes limit exceeded"
    assert failed["result"]["generated"] == 0
    assert len(stored_codes(container, promotion["id"])) == 90
    assert code_count(container, promotion["id"]) == 90
    ok = shop.create_job(promotion["id"], number_of_codes=10).json()["data"]
    run_jobs()
    assert shop.job(promotion["id"], ok["id"])["status"] == "completed"
    assert len(stored_codes(container, promotion["id"])) == 100


def test_cancel_while_processing_removes_the_jobs_codes(
    container: Container, shop: StoreClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    container.settings.generate_chunk_size = container.settings.generate_max_chunk_size = 100
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], "MANUAL")
    first_batch_done = threading.Event()
    release = threading.Event()
    real_insert = job_runs.insert_generated_batch

    def gated_insert(*args: Any, **kwargs: Any) -> int:
        inserted = real_insert(*args, **kwargs)
        first_batch_done.set()
        release.wait(10)
        return inserted

    monkeypatch.setattr(job_runs, "insert_generated_batch", gated_insert)
    job = shop.create_job(promotion["id"], number_of_codes=900).json()["data"]
    worker = Worker(container.db, container.settings, clock=container.clock)
    runner = threading.Thread(target=worker.run_until_empty)
    runner.start()
    try:
        assert first_batch_done.wait(10)
        assert shop.job(promotion["id"], job["id"])["status"] == "processing"
        # 900 are reserved on the counter, 100 made: the list counts what exists.
        assert code_count(container, promotion["id"]) == 901
        assert listed_total(shop, promotion["id"]) == len(stored_codes(container, promotion["id"])) == 101
        response = shop.post(f"/v2/promotions/{promotion['id']}/jobs/{job['id']}/cancel")
        assert response.status_code == 200
        assert response.json()["data"]["status"] == "cancelling"
        assert shop.job(promotion["id"], job["id"])["status"] == "cancelling"
    finally:
        release.set()
        runner.join(30)
    done = shop.job(promotion["id"], job["id"])
    assert done["status"] == "cancelled"
    assert done["result"]["generated"] == 100
    assert done["result"]["deleted"] == 100
    assert stored_codes(container, promotion["id"]) == ["MANUAL"]
    assert code_count(container, promotion["id"]) == 1
    assert listed_total(shop, promotion["id"]) == 1


def test_generation_resumes_from_its_count_without_duplicates(
    container: Container, shop: StoreClient
) -> None:
    """A second worker taking over a job continues from the committed count (simulated takeover)."""
    container.settings.generate_chunk_size = container.settings.generate_max_chunk_size = 50
    promotion = shop.create_promotion()
    job = shop.create_job(promotion["id"], number_of_codes=500).json()["data"]
    worker = Worker(container.db, container.settings, clock=container.clock)
    ctx = worker.context()
    claimed = job_runs.claim_next_job(
        container.db, owner=ctx.owner, now=container.clock(), lease_seconds=0.01
    )
    assert claimed is not None
    job_runs.reserve_generation(container.db, job=claimed, owner=ctx.owner, total=500, now=container.clock())

    def insert_as_first_owner(count: int) -> int:
        return job_runs.insert_generated_batch(
            container.db,
            job=claimed,
            owner=ctx.owner,
            parameters=generate_module.generate_parameters_from(claimed.parameters),
            prefix="",
            key_prefix="",
            bodies=code_rules.generate_random_parts(count, 8).codes(),
            now=container.clock(),
            lease_until=container.clock(),
        )

    assert insert_as_first_owner(120) == 120
    assert listed_total(shop, promotion["id"]) == len(stored_codes(container, promotion["id"])) == 120
    # The first owner's lease has run out; a new worker takes over and finishes.
    assert worker.run_until_empty() == 1
    done = shop.job(promotion["id"], job["id"])
    assert done["status"] == "completed"
    assert done["result"]["generated"] == 500
    assert len(stored_codes(container, promotion["id"])) == 500
    assert code_count(container, promotion["id"]) == 500
    with container.db.read() as repos:
        attempts = repos.store(shop.store_id).jobs.by_id(job["id"])
    assert attempts is not None and attempts.attempts == 2
    # The lost owner can no longer write to the job.
    with pytest.raises(job_runs.JobLost):
        insert_as_first_owner(10)
    assert len(stored_codes(container, promotion["id"])) == 500


def test_a_batch_commit_that_skips_the_disk_wait_leaves_the_next_transaction_waiting(
    container: Container,
) -> None:
    """Deferred durability is the batch transaction's own: the pooled connection's next transaction waits."""
    if container.db.backend != "postgresql":
        pytest.skip("SQLite commits in WAL mode do not wait for the disk in any transaction")
    with container.db.engine.connect() as connection:
        with connection.begin():
            Transaction(connection, container.db.ops, writable=True).defer_durability()
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "off"
        with connection.begin():
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "on"
