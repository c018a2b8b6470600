"""A shopper's cart, order and preview stay theirs: cart ownership, owned idempotency keys, preview dates."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from checkout_support import ADDRESS, GUEST, SECRET, checkout, custom_item, fill, signed, storefront
from promoforge.bootstrap import Container
from promoforge.storage.schema import orders
from support import StoreClient, TestClient

X_ORDER = {
    "customer": {"name": "Xavier Secret", "email": "xavier@example.com"},
    "billing_address": {**ADDRESS, "first_name": "Xavier", "line_1": "7 Private Lane"},
}


@pytest.fixture
def front(container: Container, app_client: TestClient, shop: StoreClient) -> StoreClient:
    """A storefront (implicit) client of a store whose customer tokens verify with SECRET."""
    with container.db.write() as tx:
        tx.stores.update(shop.store_id, customer_token_key=SECRET)
    return storefront(app_client, shop)


def as_customer(client: StoreClient, customer_id: str) -> StoreClient:
    return replace(
        client, headers={**client.headers, "X-Moltin-Customer-Token": signed({"sub": customer_id})}
    )


def as_account(client: StoreClient, account_id: str) -> StoreClient:
    token = signed({"sub": f"member-of-{account_id}", "account_id": account_id})
    return replace(client, headers={**client.headers, "EP-Account-Management-Authentication-Token": token})


def every_cart_request(client: StoreClient, cart_id: str) -> dict[str, Any]:
    """One request of each kind on a cart, in an order that leaves the cart for the next one."""
    line = {"data": custom_item("z", 100)}
    return {
        "read": client.get(f"/v2/carts/{cart_id}"),
        "read items": client.get(f"/v2/carts/{cart_id}/items"),
        "rename": client.put(f"/v2/carts/{cart_id}", json={"data": {"name": "mine now"}}),
        "add": client.post(f"/v2/carts/{cart_id}/items", json=line),
        "apply code": client.post(
            f"/v2/carts/{cart_id}/items", json={"data": {"type": "promotion_item", "code": "any"}}
        ),
        "remove code": client.delete(f"/v2/carts/{cart_id}/discounts/any"),
        "checkout": checkout(client, cart_id, GUEST),
        "empty": client.delete(f"/v2/carts/{cart_id}/items"),
        "delete": client.delete(f"/v2/carts/{cart_id}"),
    }


@pytest.mark.parametrize("owner", ["customer", "account"])
def test_a_cart_of_a_customer_or_account_is_closed_to_everyone_else(
    container: Container, shop: StoreClient, front: StoreClient, owner: str
) -> None:
    mine = as_customer(front, "cust-X") if owner == "customer" else as_account(front, "acc-X")
    created = mine.post("/v2/carts", json={"data": {"id": "x-cart", "name": "X's cart"}})
    assert created.status_code == 201, created.text
    fill(mine, "x-cart", custom_item("a", 1500))

    for stranger in (front, as_customer(front, "cust-Y"), as_account(front, "acc-Y")):
        answers = every_cart_request(stranger, "x-cart")
        assert {kind: r.status_code for kind, r in answers.items()} == dict.fromkeys(answers, 403)
        assert "X's cart" not in str([r.text for r in answers.values()])
    assert [line["sku"] for line in mine.get("/v2/carts/x-cart/items").json()["data"]] == ["a"]
    assert shop.get("/v2/orders").json()["data"] == []

    # The owner, and the shop's back end, may do everything.
    assert mine.get("/v2/carts/x-cart").json()["data"]["name"] == "X's cart"
    assert checkout(mine, "x-cart", GUEST if owner == "customer" else _contact()).status_code == 201
    assert shop.get("/v2/carts/x-cart").status_code == 200
    assert shop.delete("/v2/carts/x-cart").status_code == 204


def _contact() -> dict[str, Any]:
    return {"contact": GUEST["customer"], "billing_address": ADDRESS}


def test_a_cart_first_written_by_a_signed_in_shopper_is_theirs(front: StoreClient) -> None:
    mine = as_customer(front, "cust-X")
    fill(mine, "first-write", custom_item("a", 1500))

    assert front.get("/v2/carts/first-write").status_code == 403
    assert as_customer(front, "cust-Y").get("/v2/carts/first-write").status_code == 403
    cart = mine.get("/v2/carts/first-write").json()["data"]
    assert cart["relationships"]["customers"] == {"data": [{"type": "customer", "id": "cust-X"}]}


def test_an_anonymous_cart_stays_open_to_whoever_has_its_id(front: StoreClient) -> None:
    fill(front, "guest-cart", custom_item("a", 1500))

    assert as_customer(front, "cust-Y").get("/v2/carts/guest-cart").status_code == 200
    assert front.get("/v2/carts/guest-cart").status_code == 200


@pytest.mark.both_backends
def test_an_idempotency_key_gives_its_order_back_only_to_its_caller_with_its_request(
    container: Container, shop: StoreClient, front: StoreClient
) -> None:
    x = as_customer(front, "cust-X")
    fill(x, "c1", custom_item("a", 1500))
    key = {"Idempotency-Key": "K-1"}
    first = checkout(x, "c1", X_ORDER, headers=key)
    assert first.status_code == 201, first.text

    again = checkout(x, "c1", X_ORDER, headers=key)
    anonymous = checkout(front, "c1", X_ORDER, headers=key)
    other_customer = checkout(as_customer(front, "cust-Y"), "c1", X_ORDER, headers=key)
    back_end = checkout(shop, "c1", X_ORDER, headers=key)
    other_body = checkout(x, "c1", {**X_ORDER, "order_number": "N-2"}, headers=key)

    assert again.status_code == 201
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    for refused in (anonymous, other_customer, back_end):
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["code"] == "idempotency_key_reused"
        assert "another caller" in refused.json()["errors"][0]["detail"]
    assert other_body.status_code == 422
    assert "different request body" in other_body.json()["errors"][0]["detail"]
    for refused in (anonymous, other_customer, back_end, other_body):
        assert "Xavier" not in refused.text and "Private Lane" not in refused.text
        assert first.json()["data"]["id"] not in refused.text
    with container.db.read() as tx:
        assert len(tx.connection.execute(orders.select()).all()) == 1


def test_a_storefront_may_not_set_a_preview_date_nor_see_promotions_before_they_start(
    shop: StoreClient, front: StoreClient
) -> None:
    future = shop.create_promotion(name="Not yet", automatic=True, start="2098-01-01", end="2099-01-01")
    upcoming = shop.create_promotion(name="Code not yet", start="2098-01-01", end="2099-01-01")
    assert shop.add_codes(upcoming["id"], "SOON").status_code == 201
    preview = {"data": {"snapshot_date": "2098-06-01T00:00:00Z"}}

    assert front.post("/v2/carts", json={"data": {"id": "p1", **preview["data"]}}).status_code == 403
    fill(front, "p2", custom_item("a", 1500))
    assert front.put("/v2/carts/p2", json=preview).status_code == 403
    assert front.get("/v2/carts/p2").json()["data"].get("snapshot_date") is None

    # A preview cart set up by the back end shows the future to the back end only.
    assert shop.put("/v2/carts/p2", json=preview).status_code == 200
    admin_view = shop.get("/v2/carts/p2/items", params={"include": "promotions"}).json()
    assert future["id"] in str(admin_view["included"]["promotions"])
    shopper_view = front.get("/v2/carts/p2/items", params={"include": "promotions"})
    assert shopper_view.status_code == 200
    assert future["id"] not in shopper_view.text
    assert shopper_view.json()["meta"]["display_price"]["discount"]["amount"] == 0
    applied = front.post("/v2/carts/p2/items", json={"data": {"type": "promotion_item", "code": "soon"}})
    assert applied.status_code == 404


@pytest.mark.both_backends
def test_an_account_never_unlocks_a_code_meant_for_a_customer_of_the_same_name(
    shop: StoreClient, front: StoreClient
) -> None:
    promotion = shop.create_promotion()
    codes = [{"code": "FORCUST", "user": "cust-Y"}, {"code": "FORACC", "user": "account:cust-Y"}]
    assert shop.add_codes(promotion["id"], *codes).status_code == 201
    account = as_account(front, "cust-Y")
    fill(account, "a1", custom_item("a", 1500))

    def apply(client: StoreClient, code: str) -> int:
        body = {"data": {"type": "promotion_item", "code": code}}
        status: int = client.post("/v2/carts/a1/items", json=body).status_code
        return status

    assert apply(account, "forcust") == 404
    assert apply(account, "foracc") == 201


def test_a_customer_token_from_an_identity_provider_unlocks_user_codes(
    container: Container, shop: StoreClient, front: StoreClient
) -> None:
    with container.db.write() as tx:
        tx.stores.update(
            shop.store_id, customer_token_issuer="https://id.example.com", customer_token_audience="shop"
        )
    promotion = shop.create_promotion()
    assert shop.add_codes(promotion["id"], {"code": "VIP", "user": "cust-1"}).status_code == 201
    fill(front, "c1", custom_item("a", 1500))
    body = {"data": {"type": "promotion_item", "code": "vip"}}

    def token(**claims: object) -> dict[str, str]:
        return {"X-Moltin-Customer-Token": signed({"sub": "cust-1", **claims})}

    foreign = front.post(
        "/v2/carts/c1/items", json=body, headers=token(iss="https://evil.example", aud="shop")
    )
    no_audience = front.post("/v2/carts/c1/items", json=body, headers=token(iss="https://id.example.com"))
    proper = front.post(
        "/v2/carts/c1/items", json=body, headers=token(iss="https://id.example.com", aud=["shop", "other"])
    )

    assert (foreign.status_code, no_audience.status_code) == (401, 401)
    assert proper.status_code == 201, proper.text
