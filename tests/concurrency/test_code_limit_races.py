"""Failed-code limits (D12) under parallel requests against `promoforge serve --workers 2`."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from promoforge.bootstrap import Container
from support import server_store

GUESSERS = 16
ADDRESS_LIMIT = 3


@pytest.mark.slow
def test_parallel_guesses_from_one_address_stop_at_the_limit(container: Container, server: str) -> None:
    headers = server_store(server, container, code_attempts_per_address=ADDRESS_LIMIT)
    start = threading.Barrier(GUESSERS)

    def guess(number: int) -> int:
        with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
            start.wait()
            body = {"data": {"type": "promotion_item", "code": f"guess-{number}"}}
            return client.post(f"/v2/carts/cart-{number}/items", json=body).status_code

    with ThreadPoolExecutor(GUESSERS) as pool:
        statuses = list(pool.map(guess, range(GUESSERS)))

    assert set(statuses) <= {404, 429}, statuses
    assert statuses.count(404) <= ADDRESS_LIMIT, statuses
