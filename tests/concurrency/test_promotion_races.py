"""Job creation, cancel and delete racing running generations, through HTTP against a real server process.

Every path takes its locks in one order (docs/adr/0007), so no request waits on a worker that waits on it:
the running job completes (or is cancelled), competing POSTs get 400, the delete gets 204, never a 409.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from promoforge.bootstrap import Container
from promoforge.domain.jobs import JobStatus
from promoforge.services import auth
from promoforge.storage.repositories.codes import codes_of_promotion
from promoforge.storage.schema import promotion_codes
from support import ServeApi, promotion_body, wait_for

CODES = 60_000


@pytest.fixture
def server(serve_api: ServeApi) -> str:
    return serve_api(
        WORKER_CONCURRENCY="3",
        GENERATE_CHUNK_SIZE="3000",
        GENERATE_MAX_CHUNK_SIZE="3000",
        JOB_POLL_SECONDS="0.05",
    )


def codes_left(container: Container, promotion_id: str) -> int:
    with container.db.read() as tx:
        return int(
            tx.connection.execute(
                select(func.count()).select_from(promotion_codes).where(codes_of_promotion(promotion_id))
            ).scalar_one()
        )


@pytest.mark.slow
def test_creation_cancel_and_delete_race_running_generations(container: Container, server: str) -> None:
    credentials = auth.create_store(
        container.db, name="race", max_codes_per_promotion=CODES, now=container.clock()
    )
    client = httpx.Client(base_url=server, timeout=60)
    token = client.post(
        "/oauth/access_token",
        data={
            "grant_type": "client_credentials",
            "client_id": credentials.store.client_id,
            "client_secret": credentials.client_secret,
        },
    ).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    generate = {
        "data": {
            "type": "promotion_job",
            "job_type": "code_generate",
            "parameters": {"number_of_codes": CODES},
        }
    }

    def promotion_with_running_job() -> tuple[str, str]:
        promotion = client.post("/v2/promotions", json={"data": promotion_body()}).json()["data"]["id"]
        response = client.post(f"/v2/promotions/{promotion}/jobs", json=generate)
        assert response.status_code == 201, response.text
        return promotion, response.json()["data"]["id"]

    # Competitors ask for exports: refused while a generation runs, harmless once it has ended.
    export = {"data": {"type": "promotion_job", "job_type": "code_export"}}
    completing, cancelled, deleted = (promotion_with_running_job() for _ in range(3))

    def job(promotion_job: tuple[str, str]) -> dict[str, Any]:
        promotion, job_id = promotion_job
        data: dict[str, Any] = client.get(f"/v2/promotions/{promotion}/jobs/{job_id}").json()["data"]
        return data

    finished = threading.Event()
    statuses: Counter[tuple[str, int]] = Counter()

    def compete(targets: list[tuple[str, str]]) -> None:
        with httpx.Client(base_url=server, timeout=60, headers=dict(client.headers)) as own:
            while not finished.is_set():
                for name, (promotion, _) in zip(("completing", "cancelled", "deleted"), targets, strict=True):
                    response = own.post(f"/v2/promotions/{promotion}/jobs", json=export)
                    statuses[(name, response.status_code)] += 1

    competitors = [
        threading.Thread(target=compete, args=([completing, cancelled, deleted],)) for _ in range(4)
    ]
    for thread in competitors:
        thread.start()
    try:
        wait_for(
            lambda: job(cancelled)["result"]["generated"] > 0 and job(deleted)["result"]["generated"] > 0,
            timeout=90,
        )
        cancel = client.post(f"/v2/promotions/{cancelled[0]}/jobs/{cancelled[1]}/cancel")
        removal = client.delete(f"/v2/promotions/{deleted[0]}")
        assert (cancel.status_code, removal.status_code) == (200, 204), (cancel.text, removal.text)
        # The delete cancels a generation still running; one that finished first leaves exports legitimate.
        with container.db.read() as tx:
            deleted_job = tx.store(credentials.store.id).jobs.by_id(deleted[1])
        interrupted = deleted_job is not None and deleted_job.status is JobStatus.CANCELLED
        wait_for(
            lambda: job(completing)["status"] == "completed" and job(cancelled)["status"] == "cancelled",
            timeout=90,
        )
    finally:
        finished.set()
        for thread in competitors:
            thread.join(60)

    assert job(completing)["result"]["generated"] == CODES
    assert codes_left(container, completing[0]) == CODES
    assert codes_left(container, cancelled[0]) == 0
    assert client.get(f"/v2/promotions/{deleted[0]}").status_code == 404
    wait_for(lambda: codes_left(container, deleted[0]) == 0, timeout=90)
    # Competing POSTs: refused while a job runs (400), a new job once it has ended (201), 404 once deleted.
    assert {status for _, status in statuses} <= {400, 201, 404}, statuses
    assert statuses[("completing", 400)] > 0, statuses
    if interrupted:
        assert statuses[("deleted", 201)] == 0, statuses
