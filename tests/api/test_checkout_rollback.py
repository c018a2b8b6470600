"""A checkout cut between its statements leaves nothing behind (C3, §7.5): the code keeps its uses, and no
usage record, order or claimed Idempotency-Key remains, so that the shopper's retry with the same key makes
the one order."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import exc

from checkout_support import GUEST
from promoforge.storage.repositories.codes import CodeRepository
from promoforge.storage.repositories.orders import OrderRepository
from promoforge.storage.repositories.usages import UsageRepository
from support import StoreClient, TestClient

pytestmark = pytest.mark.both_backends

CHECKOUT = {"data": GUEST}
KEY = {"Idempotency-Key": "attempt-1"}


class Crash(RuntimeError):
    """The fault a test injects: the process fails in the middle of the checkout."""


def crash() -> Exception:
    return Crash("the checkout failed here")


def lock_conflict() -> Exception:
    # What the driver raises when another writer holds the lock: the service answers 409, to be retried.
    return exc.OperationalError("UPDATE promotion_codes", None, Exception("database is locked"))


# Each cut lets the real statement run, then fails: the rollback must undo a write that did happen.
CUTS = {
    "after the code's uses were taken": (CodeRepository, "consume"),
    "after the order was written": (OrderRepository, "add"),
    "after the usage records were written": (UsageRepository, "add"),
}


@pytest.fixture
def tolerant(shop: StoreClient) -> StoreClient:
    """The shop's client answering unexpected errors as the server does (500) instead of raising them."""
    return dataclasses.replace(shop, client=TestClient(shop.client.app, raise_server_exceptions=False))


def cart_with_code(shop: StoreClient) -> str:
    promotion = shop.create_promotion()
    added = shop.add_codes(promotion["id"], {"code": "SAVE", "uses": 5})
    assert added.status_code == 201, added.text
    entries = [
        {"type": "custom_item", "name": "A", "sku": "a", "quantity": 2, "price": {"amount": 1500}},
        {"type": "promotion_item", "code": "save"},
    ]
    response = shop.post("/v2/carts/c1/items", json={"data": entries})
    assert response.status_code == 201, response.text
    assert response.json()["meta"]["display_price"]["discount"]["amount"] == -500
    promotion_id: str = promotion["id"]
    return promotion_id


def cut(monkeypatch: pytest.MonkeyPatch, where: str, fault: Callable[[], Exception]) -> list[str]:
    """Make the statement at `where` fail after it ran; the returned list records each time it did."""
    repository, name = CUTS[where]
    original = getattr(repository, name)
    reached: list[str] = []

    def then_fail(self: Any, *args: Any, **kwargs: Any) -> Any:
        original(self, *args, **kwargs)
        reached.append(where)
        raise fault()

    monkeypatch.setattr(repository, name, then_fail)
    return reached


def assert_nothing_written(shop: StoreClient, promotion_id: str) -> None:
    (code,) = shop.list_codes(promotion_id)
    assert code["uses"] == 5
    usages = shop.get(f"/v2/promotions/{promotion_id}/usages").json()
    assert usages["data"] == [] and usages["meta"]["results"]["total"] == 0
    orders = shop.get("/v2/orders").json()
    assert orders["data"] == [] and orders["meta"]["results"]["total"] == 0
    cart = shop.get("/v2/carts/c1/items").json()
    assert cart["meta"]["display_price"]["discount"]["amount"] == -500


def assert_the_retry_makes_one_order(shop: StoreClient, promotion_id: str) -> None:
    # The failed attempt's key claim was rolled back with the rest: the same key now makes the order.
    first = shop.post("/v2/carts/c1/checkout", json=CHECKOUT, headers=KEY)
    assert first.status_code == 201, first.text
    order = first.json()["data"]
    assert order["meta"]["display_price"]["discount"]["amount"] == -500
    again = shop.post("/v2/carts/c1/checkout", json=CHECKOUT, headers=KEY)
    assert again.status_code == 201 and again.json()["data"]["id"] == order["id"]
    (code,) = shop.list_codes(promotion_id)
    assert code["uses"] == 4
    usages = shop.get(f"/v2/promotions/{promotion_id}/usages").json()["data"]
    assert [(usage["order_id"], usage["times_used"]) for usage in usages] == [(order["id"], 1)]
    assert shop.get("/v2/orders").json()["meta"]["results"]["total"] == 1


@pytest.mark.parametrize("where", list(CUTS))
def test_a_checkout_that_crashes_midway_leaves_nothing_behind(
    tolerant: StoreClient, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    promotion_id = cart_with_code(tolerant)
    reached = cut(monkeypatch, where, crash)

    response = tolerant.post("/v2/carts/c1/checkout", json=CHECKOUT, headers=KEY)
    monkeypatch.undo()

    assert reached == [where]
    # An unforeseen failure is the server's: a 500 error document, and nothing of the checkout kept.
    assert response.status_code == 500
    assert response.json()["errors"][0]["code"] == "internal_error"
    assert_nothing_written(tolerant, promotion_id)
    assert_the_retry_makes_one_order(tolerant, promotion_id)


def test_the_crash_reaches_the_caller_unchanged(shop: StoreClient, monkeypatch: pytest.MonkeyPatch) -> None:
    promotion_id = cart_with_code(shop)
    cut(monkeypatch, "after the code's uses were taken", crash)

    with pytest.raises(Crash):
        shop.post("/v2/carts/c1/checkout", json=CHECKOUT, headers=KEY)
    monkeypatch.undo()

    assert_nothing_written(shop, promotion_id)


@pytest.mark.parametrize("where", ["after the code's uses were taken", "after the order was written"])
def test_a_checkout_cut_by_a_lock_conflict_is_a_conflict_to_retry(
    shop: StoreClient, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    promotion_id = cart_with_code(shop)
    reached = cut(monkeypatch, where, lock_conflict)

    response = shop.post("/v2/carts/c1/checkout", json=CHECKOUT, headers=KEY)
    monkeypatch.undo()

    assert reached == [where]
    assert response.status_code == 409, response.text
    assert response.json()["errors"][0]["code"] == "write_conflict"
    assert_nothing_written(shop, promotion_id)
    assert_the_retry_makes_one_order(shop, promotion_id)
