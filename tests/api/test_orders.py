"""Orders (O1-O4) and promotion usages (E15-E17) through the API."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from checkout_support import (
    ADDRESS,
    GUEST,
    SECRET,
    checkout,
    code_promotion,
    custom_item,
    fill,
    signed,
    storefront,
    usages,
)
from promoforge.bootstrap import Container
from promoforge.storage.schema import promotion_usages
from support import StoreClient, TestClient


def order_with_code(
    shop: StoreClient, cart_id: str, code: str, *lines: dict[str, Any], **body: Any
) -> dict[str, Any]:
    fill(shop, cart_id, *lines, {"type": "promotion_item", "code": code})
    response = checkout(shop, cart_id, {**GUEST, **body} if body else None)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


@pytest.mark.both_backends
def test_an_order_reads_back_with_its_items_and_promotions(shop: StoreClient) -> None:
    promotion = code_promotion(shop, {"code": "5off"}, name="Five off")
    item_level = code_promotion(
        shop,
        {"code": "TENPC"},
        promotion_type="item_percent_discount",
        schema={"percent": 10, "targets": ["a"]},
    )
    fill(shop, "c1", custom_item("a", 2000), {"type": "promotion_item", "code": "tenpc"})
    made = order_with_code(shop, "c1", "5off")

    plain = shop.get(f"/v2/orders/{made['id']}").json()
    full = shop.get(f"/v2/orders/{made['id']}", params={"include": "items,promotions"}).json()
    items = shop.get(f"/v2/orders/{made['id']}/items", params={"include": "promotions"}).json()

    assert plain["data"] == made
    assert "included" not in plain
    assert [item["sku"] for item in full["included"]["items"]] == ["a", "5off"]
    assert full["data"]["relationships"]["promotions"] == {
        "data": [{"type": "promotion", "id": promotion["id"]}]
    }
    assert {p["id"] for p in full["included"]["promotions"]} == {promotion["id"], item_level["id"]}
    assert full["included"]["promotions"][0]["type"] == "promotion"
    assert items["data"] == full["included"]["items"]
    assert {p["id"] for p in items["included"]["promotions"]} == {promotion["id"], item_level["id"]}
    # The order keeps its promotions' names after they change.
    shop.put(f"/v2/promotions/{promotion['id']}", json={"data": {"type": "promotion", "name": "Renamed"}})
    again = shop.get(f"/v2/orders/{made['id']}/items").json()["data"]
    assert again[1]["name"] == "Five off"


@pytest.mark.both_backends
def test_unknown_orders_are_404(shop: StoreClient) -> None:
    for order_id in ("6f1b5a3e-7d2c-4e8f-9a1b-2c3d4e5f6a7b", "not-a-uuid"):
        response = shop.get(f"/v2/orders/{order_id}")
        assert response.status_code == 404
        assert response.json()["errors"][0]["detail"] == "Order not found"
    body = {"data": {"type": "order", "status": "cancelled"}}
    assert shop.put("/v2/orders/6f1b5a3e-7d2c-4e8f-9a1b-2c3d4e5f6a7b", json=body).status_code == 404


@pytest.mark.both_backends
def test_orders_list_newest_first_and_filter(container: Container, shop: StoreClient) -> None:
    fill(shop, "c1", custom_item("a", 1000))
    fill(shop, "c2", custom_item("b", 5000, 2))
    first = checkout(shop, "c1").json()["data"]
    second = checkout(
        shop, "c2", {**GUEST, "customer": {"name": "Ann Lee", "email": "ann@shop.example"}}
    ).json()["data"]

    def ids(filter_: str | None = None) -> list[str]:
        params = {"filter": filter_} if filter_ else {}
        response = shop.get("/v2/orders", params=params)
        assert response.status_code == 200, response.text
        return [order["id"] for order in response.json()["data"]]

    assert set(ids()) == {first["id"], second["id"]}
    assert ids("gt(with_tax,5000)") == [second["id"]]
    assert ids("le(without_tax,1000)") == [first["id"]]
    assert ids("like(email,ann@*)") == [second["id"]]
    assert ids("eq(name,John Doe)") == [first["id"]]
    assert ids("eq(product_sku,b)") == [second["id"]]
    assert ids("eq(status,incomplete):eq(currency,USD)") != []
    assert ids("eq(status,cancelled)") == []
    assert ids("gt(created_at,2000-01-01)") != []
    assert ids("lt(created_at,2000-01-01T00:00:00Z)") == []
    page = shop.get("/v2/orders", params={"page[limit]": 1}).json()
    assert page["meta"]["results"]["total"] == 2
    assert len(page["data"]) == 1
    assert page["links"]["next"] is not None


@pytest.mark.both_backends
def test_orders_sort_by_the_sdk_fields_with_ties_newest_first(
    container: Container, app_client: TestClient, shop: StoreClient
) -> None:
    start = container.clock()
    made: dict[str, dict[str, Any]] = {}
    # (name, seconds after start, amount): b and c share a time, a and c an amount.
    for name, seconds, amount in (("a", 0, 3000), ("b", 60, 1000), ("c", 60, 3000), ("d", 120, 2000)):
        container.clock = lambda seconds=seconds: start + timedelta(seconds=seconds)
        fill(shop, f"cart-{name}", custom_item(name, amount))
        response = checkout(
            shop, f"cart-{name}", {"customer": {"id": "customer-1"}, "billing_address": ADDRESS}
        )
        assert response.status_code == 201, response.text
        made[name] = response.json()["data"]
    container.clock = lambda: start + timedelta(seconds=180)
    cancelled = shop.put(
        f"/v2/orders/{made['d']['id']}", json={"data": {"type": "order", "status": "cancelled"}}
    )
    assert cancelled.status_code == 200, cancelled.text
    # Orders of one time are listed by id, in the sort's direction (descending for newest first).
    b_then_c = sorted(["b", "c"], key=lambda name: made[name]["id"])

    def names(sort: str | None, client: StoreClient = shop, **params: Any) -> list[str]:
        response = client.get("/v2/orders", params={**({"sort": sort} if sort else {}), **params})
        assert response.status_code == 200, response.text
        by_id = {order["id"]: name for name, order in made.items()}
        return [by_id[order["id"]] for order in response.json()["data"]]

    newest_first = ["d", *reversed(b_then_c), "a"]
    assert names(None) == newest_first
    assert names("-created_at") == newest_first
    assert names("created_at") == ["a", *b_then_c, "d"]
    assert names("with_tax") == ["b", "d", "c", "a"]  # c and a cost the same: the newer first
    assert names("-with_tax") == ["c", "a", "d", "b"]
    assert names("status") == ["d", *reversed(b_then_c), "a"]  # cancelled before incomplete
    assert names("-status") == [*reversed(b_then_c), "a", "d"]
    assert names("payment") == newest_first  # all unpaid: the tie-break alone
    assert names("-shipping") == newest_first
    # Pages of a sorted list follow one another without gaps or repeats.
    pages = [names("with_tax", **{"page[limit]": 2, "page[offset]": offset}) for offset in (0, 2)]
    assert pages == [["b", "d"], ["c", "a"]]
    assert names("-with_tax", filter="eq(status,incomplete)") == ["c", "a", "b"]

    with container.db.write() as tx:
        tx.stores.update(shop.store_id, customer_token_key=SECRET)
    front = storefront(app_client, shop)
    proof = {"X-Moltin-Customer-Token": signed({"sub": "customer-1"})}
    front_names = names("with_tax", replace(front, headers={**front.headers, **proof}))
    assert front_names == ["b", "d", "c", "a"]

    for bad in ("colour", "-", "--created_at", "created_at,status", "WITH_TAX", "without_tax"):
        response = shop.get("/v2/orders", params={"sort": bad})
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["source"] == "sort"


@pytest.mark.parametrize(
    "filter_",
    [
        "gt(with_tax,lots)",
        "eq(with_tax,100)",
        "gt(created_at,yesterday)",
        "eq(colour,red)",
        "like(status,inc*)",
    ],
)
def test_bad_order_filters_are_400(shop: StoreClient, filter_: str) -> None:
    response = shop.get("/v2/orders", params={"filter": filter_})
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == "filter"


@pytest.mark.both_backends
def test_a_storefront_reads_only_the_orders_its_token_proves(
    container: Container, app_client: TestClient, shop: StoreClient
) -> None:
    with container.db.write() as tx:
        tx.stores.update(shop.store_id, customer_token_key=SECRET)
    fill(shop, "c1", custom_item("a", 1000))
    mine = checkout(shop, "c1", {"customer": {"id": "customer-1"}, "billing_address": ADDRESS}).json()["data"]
    theirs = checkout(shop, "c1", {"customer": {"id": "customer-2"}, "billing_address": ADDRESS}).json()[
        "data"
    ]
    front = storefront(app_client, shop)
    proof = {"X-Moltin-Customer-Token": signed({"sub": "customer-1"})}

    assert [o["id"] for o in front.get("/v2/orders", headers=proof).json()["data"]] == [mine["id"]]
    assert front.get(f"/v2/orders/{mine['id']}", headers=proof).status_code == 200
    assert front.get(f"/v2/orders/{theirs['id']}", headers=proof).status_code == 404
    assert front.get(f"/v2/orders/{mine['id']}").status_code == 404
    assert front.get("/v2/orders").status_code == 400
    body = {"data": {"type": "order", "status": "cancelled"}}
    assert front.put(f"/v2/orders/{mine['id']}", json=body, headers=proof).status_code == 403


@pytest.mark.both_backends
def test_cancelling_keeps_the_uses_and_fulfilling_needs_payment(shop: StoreClient) -> None:
    promotion = code_promotion(shop, {"code": "5off", "uses": 3})
    made = order_with_code(shop, "c1", "5off", custom_item("a", 1500))
    path = f"/v2/orders/{made['id']}"

    fulfil = shop.put(path, json={"data": {"type": "order", "shipping": "fulfilled"}})
    cancelled = shop.put(path, json={"data": {"type": "order", "status": "cancelled", "external_ref": "r-9"}})
    again = shop.put(path, json={"data": {"type": "order", "status": "cancelled"}})
    unknown_status = shop.put(path, json={"data": {"type": "order", "status": "complete"}})

    assert fulfil.status_code == 422
    assert fulfil.json()["errors"][0]["detail"] == "Order cannot be updated in its current state"
    assert cancelled.status_code == 200
    assert (cancelled.json()["data"]["status"], cancelled.json()["data"]["external_ref"]) == (
        "cancelled",
        "r-9",
    )
    assert again.status_code == 200
    assert unknown_status.status_code == 400
    assert shop.get(path).json()["data"]["status"] == "cancelled"
    assert shop.list_codes(promotion["id"])[0]["uses"] == 2  # not given back (B20)
    assert len(usages(shop, promotion["id"])) == 1


@pytest.mark.both_backends
def test_usages_filter_and_sort(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    assert shop.add_codes(promotion["id"], "ALPHA", "BETA").status_code == 201
    for cart_id, code in (("c1", "alpha"), ("c2", "beta"), ("c3", "alpha")):
        order_with_code(shop, cart_id, code, custom_item("a", 1500))
    records = usages(shop, promotion["id"])
    path = f"/v2/promotions/{promotion['id']}/usages"

    assert len(records) == 3
    assert [u["code"] for u in usages(shop, promotion["id"], sort="code")] == ["ALPHA", "ALPHA", "BETA"]
    assert [u["code"] for u in usages(shop, promotion["id"], sort="-code")] == ["BETA", "ALPHA", "ALPHA"]
    assert len(usages(shop, promotion["id"], filter="eq(code,BETA)")) == 1
    assert usages(shop, promotion["id"], filter=f"eq(id,{records[0]['id']})") == [records[0]]
    assert len(usages(shop, promotion["id"], filter="gt(used_on,2000-01-01)")) == 3
    assert usages(shop, promotion["id"], filter="lt(used_on,2000-01-01)") == []
    assert shop.get(path, params={"sort": "colour"}).status_code == 400
    assert shop.get(path, params={"filter": "eq(customer_email,x)"}).status_code == 400

    by_code = shop.get(f"/v2/promotions/{promotion['id']}/codes/alpha/usages", params={"sort": "-used_on"})
    assert by_code.status_code == 200
    assert [u["code"] for u in by_code.json()["data"]] == ["ALPHA", "ALPHA"]
    assert (
        shop.get(f"/v2/promotions/{promotion['id']}/codes/alpha/usages", params={"sort": "code"}).status_code
        == 400
    )
    assert shop.get(f"/v2/promotions/{promotion['id']}/codes/NOPE/usages").status_code == 404
    assert shop.add_codes(promotion["id"], "UNUSED").status_code == 201
    assert shop.get(f"/v2/promotions/{promotion['id']}/codes/unused/usages").json()["data"] == []


@pytest.mark.both_backends
def test_anonymising_masks_emails_lists_unknown_ids_and_survives_deletion(
    container: Container, shop: StoreClient
) -> None:
    promotion = code_promotion(shop, {"code": "5off"})
    order_with_code(shop, "c1", "5off", custom_item("a", 1500))
    usage = usages(shop, promotion["id"])[0]
    unknown = "6f1b5a3e-7d2c-4e8f-9a1b-2c3d4e5f6a7b"

    partial = shop.post(
        "/v2/promotions/usages/anonymize", json={"data": {"usage_ids": [usage["id"], unknown, "x"]}}
    )
    none = shop.post("/v2/promotions/usages/anonymize", json={"data": {"usage_ids": [unknown]}})
    malformed = shop.post("/v2/promotions/usages/anonymize", json={"data": {"usage_ids": "all"}})

    assert partial.status_code == 200, partial.text
    (masked,) = partial.json()["data"]
    assert (masked["customer_email"], masked["anonymized"], masked["updated_by"]) == (
        "**",
        True,
        shop.client_id,
    )
    assert partial.json()["errors"] == [
        {
            "status": 404,
            "title": "Could not anonymize some usages",
            "code": "usages_not_found",
            "detail": "Usages not found.",
            "meta": {"usage_ids": [unknown, "x"]},
        }
    ]
    assert none.status_code == 404
    assert none.json()["errors"][0]["meta"] == {"usage_ids": [unknown]}
    assert malformed.status_code == 400
    # Usages outlive their promotion, whose routes then 404; they can still be anonymised.
    assert shop.delete(f"/v2/promotions/{promotion['id']}").status_code == 204
    assert shop.get(f"/v2/promotions/{promotion['id']}/usages").status_code == 404
    with container.db.read() as tx:
        assert tx.connection.execute(select(promotion_usages.c.anonymized)).scalars().all() == [True]
    repeat = shop.post("/v2/promotions/usages/anonymize", json={"data": {"usage_ids": [usage["id"]]}})
    assert repeat.status_code == 200
    assert repeat.json()["data"][0]["customer_email"] == "**"


def test_usage_and_order_admin_routes_refuse_storefront_tokens(
    app_client: TestClient, shop: StoreClient
) -> None:
    promotion = shop.create_promotion()
    front = storefront(app_client, shop)

    assert front.get(f"/v2/promotions/{promotion['id']}/usages").status_code == 403
    assert (
        front.post("/v2/promotions/usages/anonymize", json={"data": {"usage_ids": ["x"]}}).status_code == 403
    )
