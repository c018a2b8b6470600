"""Parallel writes to one cart through HTTP against `promoforge serve --workers 2`: none is lost (B53)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from promoforge.bootstrap import Container
from support import promotion_body, server_store

CLIENTS = 12
ADDS_PER_CLIENT = 5


@pytest.mark.slow
def test_parallel_adds_to_one_cart_all_land(container: Container, server: str) -> None:
    # Every code entry holds one attempt of the minute's allowance while it is looked up (D12); this many
    # parallel applications of a good code to one cart need a larger allowance than a shopper's.
    headers = server_store(server, container, code_attempts_per_cart=1000, code_attempts_per_address=1000)

    promotion = httpx.post(f"{server}/v2/promotions", json={"data": promotion_body()}, headers=headers).json()
    httpx.post(
        f"{server}/v2/promotions/{promotion['data']['id']}/codes",
        json={"data": {"type": "promotion_codes", "codes": [{"code": "5OFF"}]}},
        headers=headers,
    )

    def shopper(client_number: int) -> list[int]:
        statuses = []
        with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
            for add_number in range(ADDS_PER_CLIENT):
                same = {
                    "type": "custom_item",
                    "name": "Same",
                    "sku": "same",
                    "quantity": 1,
                    "price": {"amount": 100},
                }
                own = {
                    "type": "custom_item",
                    "name": "Own",
                    "sku": f"own-{client_number}-{add_number}",
                    "quantity": 2,
                    "price": {"amount": 50},
                }
                code = {"type": "promotion_item", "code": "5off"}
                statuses.append(
                    client.post("/v2/carts/hot/items", json={"data": [same, own, code]}).status_code
                )
        return statuses

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = [status for result in pool.map(shopper, range(CLIENTS)) for status in result]

    assert statuses == [201] * (CLIENTS * ADDS_PER_CLIENT)
    lines: list[dict[str, Any]] = httpx.get(f"{server}/v2/carts/hot/items", headers=headers).json()["data"]
    by_sku = {line["sku"]: line for line in lines}
    assert by_sku["same"]["quantity"] == CLIENTS * ADDS_PER_CLIENT
    own = [line for line in lines if line["sku"].startswith("own-")]
    assert len(own) == CLIENTS * ADDS_PER_CLIENT and all(line["quantity"] == 2 for line in own)
    assert [line["type"] for line in lines].count("promotion_item") == 1
