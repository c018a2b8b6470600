"""Checkouts racing for a code's last uses, through HTTP against `promoforge serve --workers 2` (C3, §7.5).

Many carts hold one limited code and check out at once: the code gives exactly as many discounts as it has
uses, every discount has its usage record and every usage record its discounted order, and no request fails.
The module's tests share one server per backend, each test in a store of its own.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest

from checkout_support import GUEST
from promoforge.bootstrap import Container
from support import promotion_body, server_store, wait_for

POOL = 24
CARTS = 200  # for the per-cart code: four times as many carts as uses
UNIT_CARTS = 100  # for the per-item code: six times as many units as uses
RACING_CARTS = 120  # checking out while the promotion is disabled
PRICE = 1500
UNITS = 3
CHECKOUT = {"data": GUEST}
T = TypeVar("T")
stores = itertools.count()


@dataclass
class Shop:
    """One store on the shared server: an admin client and the calls these races make."""

    client: httpx.Client

    def promotion(self, code: str, uses: int, consume_unit: str = "per_cart", **fields: Any) -> str:
        response = self.client.post("/v2/promotions", json={"data": promotion_body(**fields)})
        assert response.status_code == 201, response.text
        promotion_id: str = response.json()["data"]["id"]
        added = self.client.post(
            f"/v2/promotions/{promotion_id}/codes",
            json={
                "data": {
                    "type": "promotion_codes",
                    "codes": [{"code": code, "uses": uses, "consume_unit": consume_unit}],
                }
            },
        )
        assert added.status_code == 201, added.text
        return promotion_id

    def generated(self, uses: int) -> tuple[str, str]:
        """A promotion whose one code a code_generate job made (on PostgreSQL the code leaves its uses to
        the job until its first use): the promotion's id and the code."""
        response = self.client.post("/v2/promotions", json={"data": promotion_body()})
        assert response.status_code == 201, response.text
        promotion_id: str = response.json()["data"]["id"]
        parameters = {"number_of_codes": 1, "max_uses_per_code": uses}
        job = self.client.post(
            f"/v2/promotions/{promotion_id}/jobs",
            json={"data": {"type": "promotion_job", "job_type": "code_generate", "parameters": parameters}},
        )
        assert job.status_code == 201, job.text
        path = f"/v2/promotions/{promotion_id}/jobs/{job.json()['data']['id']}"
        wait_for(lambda: self.client.get(path).json()["data"]["status"] == "completed")
        (row,) = self.client.get(f"/v2/promotions/{promotion_id}/codes").json()["data"]
        assert (row["uses"], row["max_uses"]) == (uses, uses)
        return promotion_id, str(row["code"])

    def fill(self, cart_id: str, code: str, quantity: int = 1) -> None:
        item = {"type": "custom_item", "name": "A", "sku": "a", "quantity": quantity}
        entries = [{**item, "price": {"amount": PRICE}}, {"type": "promotion_item", "code": code}]
        response = self.client.post(f"/v2/carts/{cart_id}/items", json={"data": entries})
        assert response.status_code == 201, response.text
        assert response.json()["meta"]["display_price"]["discount"]["amount"] < 0, response.text

    def checkout(self, cart_id: str, key: str | None = None) -> httpx.Response:
        headers = {} if key is None else {"Idempotency-Key": key}
        return self.client.post(f"/v2/carts/{cart_id}/checkout", json=CHECKOUT, headers=headers)

    def uses(self, promotion_id: str, code: str) -> int:
        listed = self.client.get(f"/v2/promotions/{promotion_id}/codes").json()["data"]
        (row,) = [row for row in listed if row["code"].lower() == code.lower()]
        uses: int = row["uses"]
        return uses

    def usages(self, promotion_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            page = self.client.get(
                f"/v2/promotions/{promotion_id}/usages",
                params={"page[limit]": 100, "page[offset]": len(found)},
            )
            assert page.status_code == 200, page.text
            found += page.json()["data"]
            if len(found) >= page.json()["meta"]["results"]["total"]:
                return found

    def order_count(self) -> int:
        response = self.client.get("/v2/orders", params={"page[limit]": 1})
        assert response.status_code == 200, response.text
        total: int = response.json()["meta"]["results"]["total"]
        return total


@pytest.fixture
def shop(module_container: Container, module_server: str) -> Iterator[Shop]:
    # Every code entry holds one attempt of the minute's allowance (D12): hundreds of carts filled from
    # one address need a larger one than a shopper's.
    headers = server_store(
        module_server,
        module_container,
        name=f"checkout-races-{next(stores)}",
        code_attempts_per_cart=100_000,
        code_attempts_per_address=100_000,
    )
    limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
    with httpx.Client(base_url=module_server, headers=headers, timeout=60, limits=limits) as client:
        yield Shop(client)


def in_parallel(work: Callable[[int], T], count: int) -> list[T]:
    with ThreadPoolExecutor(POOL) as pool:
        return list(pool.map(work, range(count)))


def discount(order: httpx.Response) -> int:
    amount: int = order.json()["data"]["meta"]["display_price"]["discount"]["amount"]
    return amount


@pytest.mark.slow
def test_the_server_runs_this_checkout(module_server: str) -> None:
    # The races below mean nothing if the server imported another copy of the service.
    paths = httpx.get(f"{module_server}/openapi.json").json()["paths"]
    assert "/v2/carts/{cartID}/checkout" in paths


@pytest.mark.slow
def test_a_per_cart_code_discounts_exactly_as_many_orders_as_it_has_uses(shop: Shop) -> None:
    promotion = shop.promotion("HOT", uses=50)
    in_parallel(lambda n: shop.fill(f"cart-{n}", "hot"), CARTS)

    orders = in_parallel(lambda n: shop.checkout(f"cart-{n}"), CARTS)

    assert [order.status_code for order in orders] == [201] * CARTS, {o.status_code for o in orders}
    assert len({order.json()["data"]["id"] for order in orders}) == CARTS
    discounts = [discount(order) for order in orders]
    assert sorted(set(discounts)) == [-500, 0]
    assert discounts.count(-500) == 50
    assert shop.uses(promotion, "hot") == 0
    usages = shop.usages(promotion)
    assert len(usages) == 50
    assert all(usage["times_used"] == 1 and usage["code"].lower() == "hot" for usage in usages)
    discounted = {order.json()["data"]["id"] for order in orders if discount(order) == -500}
    assert sorted(usage["order_id"] for usage in usages) == sorted(discounted)
    assert shop.order_count() == CARTS


@pytest.mark.slow
def test_a_generated_code_discounts_exactly_as_many_orders_as_its_job_gave_it_uses(shop: Shop) -> None:
    promotion, code = shop.generated(uses=25)
    carts = 100
    in_parallel(lambda n: shop.fill(f"cart-{n}", code), carts)

    orders = in_parallel(lambda n: shop.checkout(f"cart-{n}"), carts)

    assert [order.status_code for order in orders] == [201] * carts, {o.status_code for o in orders}
    discounts = [discount(order) for order in orders]
    assert discounts.count(-500) == 25 and discounts.count(0) == carts - 25
    assert shop.uses(promotion, code) == 0
    usages = shop.usages(promotion)
    discounted = {order.json()["data"]["id"] for order in orders if discount(order) == -500}
    assert sorted(usage["order_id"] for usage in usages) == sorted(discounted)
    assert all(usage["times_used"] == 1 for usage in usages)


@pytest.mark.slow
def test_a_per_item_code_gives_its_last_uses_to_the_units_that_take_them(shop: Shop) -> None:
    promotion = shop.promotion(
        "UNITS",
        uses=50,
        consume_unit="per_item",
        promotion_type="item_percent_discount",
        schema={"percent": 10, "targets": ["a"]},
    )
    unit_discount = PRICE // 10
    in_parallel(lambda n: shop.fill(f"cart-{n}", "units", quantity=UNITS), UNIT_CARTS)

    orders = in_parallel(lambda n: shop.checkout(f"cart-{n}"), UNIT_CARTS)

    assert [order.status_code for order in orders] == [201] * UNIT_CARTS, {o.status_code for o in orders}
    assert shop.uses(promotion, "units") == 0
    usages = shop.usages(promotion)
    assert sum(usage["times_used"] for usage in usages) == 50
    # Checkouts take the code in turn, each as many units as it has or as the code has left: 16 carts of
    # three, one of the last two, none after.
    assert sorted(usage["times_used"] for usage in usages) == [2] + [UNITS] * 16
    consumed = {usage["order_id"]: usage["times_used"] for usage in usages}
    assert len(consumed) == len(usages)
    for order in orders:
        units = consumed.get(order.json()["data"]["id"], 0)
        assert discount(order) == -unit_discount * units, order.json()["data"]
    assert shop.order_count() == UNIT_CARTS


@pytest.mark.slow
def test_parallel_checkouts_with_one_idempotency_key_make_one_order(shop: Shop) -> None:
    promotion = shop.promotion("ONCE", uses=5)
    shop.fill("retried", "once")
    start = threading.Barrier(20)

    def checkout(_: int) -> httpx.Response:
        start.wait()
        return shop.checkout("retried", key="order-attempt-1")

    orders = in_parallel(checkout, 20)

    assert [order.status_code for order in orders] == [201] * 20, [o.text for o in orders]
    assert len({order.json()["data"]["id"] for order in orders}) == 1
    assert {discount(order) for order in orders} == {-500}
    usages = shop.usages(promotion)
    assert [usage["order_id"] for usage in usages] == [orders[0].json()["data"]["id"]]
    assert shop.uses(promotion, "once") == 4
    assert shop.order_count() == 1


@pytest.mark.slow
def test_disabling_a_promotion_while_carts_check_out_leaves_uses_and_usages_agreeing(shop: Shop) -> None:
    promotion = shop.promotion("LIVE", uses=1000)
    in_parallel(lambda n: shop.fill(f"cart-{n}", "live"), RACING_CARTS)
    # The first checkouts run before the promotion is disabled, the middle ones race the change and the
    # last ones start only after it: each group must see the promotion as it was when it priced the cart.
    first, last = 30, 80
    done: list[int] = []
    finished_before_change: list[int] = []
    disabled = threading.Event()

    def disable() -> httpx.Response:
        try:
            wait_for(lambda: len(done) >= first)
            finished_before_change.extend(done)
            return shop.client.put(
                f"/v2/promotions/{promotion}", json={"data": {"type": "promotion", "enabled": False}}
            )
        finally:
            disabled.set()  # also on failure, so that the held-back checkouts do not wait in vain

    def checkout(n: int) -> httpx.Response:
        if n >= last:
            disabled.wait()
        response = shop.checkout(f"cart-{n}")
        done.append(n)
        return response

    with ThreadPoolExecutor(1) as changer:
        change = changer.submit(disable)
        orders = in_parallel(checkout, RACING_CARTS)
        assert change.result().status_code == 200, change.result().text

    assert [order.status_code for order in orders] == [201] * RACING_CARTS, {o.status_code for o in orders}
    discounts = [discount(order) for order in orders]
    assert set(discounts) <= {-500, 0}
    assert all(discounts[n] == -500 for n in finished_before_change)
    assert all(discounts[n] == 0 for n in range(last, RACING_CARTS))
    usages = shop.usages(promotion)
    discounted = {order.json()["data"]["id"] for order in orders if discount(order) == -500}
    assert sorted(usage["order_id"] for usage in usages) == sorted(discounted)
    assert all(usage["times_used"] == 1 for usage in usages)
    assert shop.uses(promotion, "live") == 1000 - len(discounted)
