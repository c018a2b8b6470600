"""The product registry (D11): put, get, list, delete, import; validation, clashes, tokens, isolation."""

from __future__ import annotations

import copy
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest

from promoforge.api.documents.common import timestamp
from promoforge.bootstrap import Container
from support import StoreClient, TestClient, make_store

BASE = "/v2/promoforge/products"


def product_document(
    sku: str = "SHOE-TR-01", product_id: str | None = None, **attributes: Any
) -> dict[str, Any]:
    """A product shaped like EP's catalog product, with attributes replaced by `attributes`."""
    document: dict[str, Any] = {
        "type": "product",
        "attributes": {
            "sku": sku,
            "name": "Trail runner",
            "description": "A light shoe for rough paths",
            "slug": "trail-runner",
            "status": "live",
            "price": {
                "USD": {"amount": 8999, "includes_tax": False},
                "EUR": {"amount": 8499, "includes_tax": True},
            },
            "extensions": {"products(shoes)": {"brand": "adidas", "size": 42, "waterproof": True}},
            "image_href": "https://cdn.example.com/shoes/trail-runner.png",
        },
        "meta": {"catalog_id": "catalog-1", "bread_crumb_nodes": ["node-shoes", "node-running"]},
    }
    if product_id is not None:
        document["id"] = product_id
    document["attributes"].update(attributes)
    return document


def put(shop: StoreClient, product_id: str, document: dict[str, Any]) -> Any:
    return shop.put(f"{BASE}/{product_id}", json={"data": document})


def put_ok(shop: StoreClient, sku: str = "SHOE-TR-01", **attributes: Any) -> dict[str, Any]:
    product_id = str(uuid.uuid4())
    response = put(shop, product_id, product_document(sku, **attributes))
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def import_products(shop: StoreClient, documents: list[dict[str, Any]]) -> Any:
    return shop.post(f"{BASE}/import", json={"data": documents})


def listed(shop: StoreClient, **params: Any) -> dict[str, Any]:
    response = shop.get(BASE, params=params)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def skus(shop: StoreClient) -> list[str]:
    return [p["attributes"]["sku"] for p in listed(shop, **{"page[limit]": 100})["data"]]


def errors_of(response: Any, status: int) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    errors: list[dict[str, Any]] = response.json()["errors"]
    assert errors and all(e["status"] == status and isinstance(e["title"], str) for e in errors)
    return errors


# Put and get


@pytest.mark.both_backends
def test_put_creates_then_replaces_and_get_returns_the_product(
    container: Container, shop: StoreClient
) -> None:
    start = container.clock()
    container.clock = lambda: start
    product_id = str(uuid.uuid4())
    created = put(shop, product_id, product_document())
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert data["type"] == "product" and data["id"] == product_id
    assert data["attributes"] == product_document()["attributes"]
    assert data["meta"]["catalog_id"] == "catalog-1"
    assert data["meta"]["bread_crumb_nodes"] == ["node-shoes", "node-running"]
    assert data["meta"]["timestamps"] == {"created_at": timestamp(start), "updated_at": timestamp(start)}
    assert shop.get(f"{BASE}/{product_id}").json() == created.json()

    later = start + timedelta(minutes=5)
    container.clock = lambda: later
    replaced = put(shop, product_id, product_document(name="Trail runner 2", status="draft", price={}))
    assert replaced.status_code == 200, replaced.text
    after = replaced.json()["data"]
    assert after["attributes"]["name"] == "Trail runner 2"
    assert after["attributes"]["status"] == "draft"
    assert after["attributes"]["price"] == {}
    assert after["meta"]["timestamps"] == {"created_at": timestamp(start), "updated_at": timestamp(later)}
    assert shop.get(f"{BASE}/{product_id}").json()["data"] == after
    assert listed(shop)["meta"]["results"]["total"] == 1


@pytest.mark.both_backends
def test_put_replaces_every_field_and_unsent_ones_take_their_defaults(shop: StoreClient) -> None:
    product_id = put_ok(shop)["id"]
    response = put(shop, product_id, {"type": "product", "attributes": {"sku": "BARE", "name": "Bare"}})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["attributes"] == {
        "sku": "BARE",
        "name": "Bare",
        "description": "",
        "slug": "",
        "status": "draft",
        "price": {},
        "extensions": {},
    }
    assert data["meta"]["bread_crumb_nodes"] == []
    assert "catalog_id" not in data["meta"]


@pytest.mark.both_backends
def test_a_fetched_product_can_be_sent_back_unchanged(shop: StoreClient) -> None:
    product = put_ok(shop)
    response = put(shop, product["id"], product)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"] == product["attributes"]
    assert response.json()["data"]["meta"]["bread_crumb_nodes"] == product["meta"]["bread_crumb_nodes"]


@pytest.mark.both_backends
def test_an_ep_catalog_product_loads_with_its_bread_crumbs_flattened(shop: StoreClient) -> None:
    product_id = str(uuid.uuid4())
    document = product_document(product_id=product_id)
    document["attributes"]["commodity_type"] = "physical"
    document["meta"] = {
        "catalog_id": "catalog-1",
        "catalog_source": "pim",
        "bread_crumb_nodes": ["node-running"],
        "bread_crumbs": {"node-running": ["node-shoes", "hierarchy-1"], "node-sale": ["hierarchy-2"]},
        "display_price": {"without_tax": {"amount": 8999, "currency": "USD", "formatted": "$89.99"}},
    }
    document["relationships"] = {"main_image": {"data": {"type": "main_image", "id": str(uuid.uuid4())}}}
    response = put(shop, product_id, document)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["meta"]["bread_crumb_nodes"] == [
        "node-running",
        "node-shoes",
        "hierarchy-1",
        "node-sale",
        "hierarchy-2",
    ]


def test_the_body_id_must_match_the_path(shop: StoreClient) -> None:
    product_id = str(uuid.uuid4())
    same = put(shop, product_id, product_document(product_id=product_id))
    assert same.status_code == 201, same.text
    other = put(shop, product_id, product_document(product_id=str(uuid.uuid4())))
    assert errors_of(other, 400)[0]["source"] == "data.id"


NOT_IDS = ("not-a-uuid", "12345", "import2")
# A PUT to an unused UUID creates the product, so only GET and DELETE are tried with one.
UNKNOWN = [(method, segment) for method in ("GET", "PUT", "DELETE") for segment in NOT_IDS] + [
    ("GET", "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"),
    ("DELETE", "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a"),
]


@pytest.mark.both_backends
@pytest.mark.parametrize(("method", "segment"), UNKNOWN)
def test_unknown_products_are_404(shop: StoreClient, method: str, segment: str) -> None:
    body = {"json": {"data": product_document()}} if method == "PUT" else {}
    errors = errors_of(shop.request(method, f"{BASE}/{segment}", **body), 404)
    assert errors[0]["detail"] == "product not found"
    assert skus(shop) == []


def test_import_path_takes_only_post(shop: StoreClient) -> None:
    response = shop.get(f"{BASE}/import")
    errors_of(response, 405)
    assert response.headers["Allow"] == "POST"


# Validation


VALID = product_document()
BAD_ATTRIBUTES: list[tuple[str, Any, str]] = [
    ("sku", None, "data.attributes.sku"),
    ("sku", "", "data.attributes.sku"),
    ("sku", "S" * 256, "data.attributes.sku"),
    ("sku", " SHOE", "data.attributes.sku"),
    ("sku", "SHOE\t", "data.attributes.sku"),
    ("sku", "SHO\u200bE", "data.attributes.sku"),
    ("sku", 12, "data.attributes.sku"),
    ("name", None, "data.attributes.name"),
    ("name", "", "data.attributes.name"),
    ("name", ["Trail runner"], "data.attributes.name"),
    ("description", 5, "data.attributes.description"),
    ("slug", "s" * 256, "data.attributes.slug"),
    ("status", "published", "data.attributes.status"),
    ("status", "LIVE", "data.attributes.status"),
    ("price", {"USD": {"amount": 12.5}}, "data.attributes.price.USD.amount"),
    ("price", {"USD": {"amount": 12.0}}, "data.attributes.price.USD.amount"),
    ("price", {"USD": {"amount": True}}, "data.attributes.price.USD.amount"),
    ("price", {"USD": {"amount": "100"}}, "data.attributes.price.USD.amount"),
    ("price", {"USD": {"amount": -1}}, "data.attributes.price.USD.amount"),
    ("price", {"USD": {"amount": 2**53}}, "data.attributes.price.USD.amount"),
    ("price", {"USD": {}}, "data.attributes.price.USD.amount"),
    ("price", {"USD": {"amount": 100, "includes_tax": "no"}}, "data.attributes.price.USD.includes_tax"),
    ("price", {"USD": 100}, "data.attributes.price.USD"),
    ("price", {"usd": {"amount": 100}}, "data.attributes.price.usd"),
    ("price", {"ABC": {"amount": 100}}, "data.attributes.price.ABC"),
    ("price", [{"currency": "USD", "amount": 100}], "data.attributes.price"),
    (
        "extensions",
        {"products(shoes)": {"brand": ["a", "b"]}},
        "data.attributes.extensions.products(shoes).brand",
    ),
    (
        "extensions",
        {"products(shoes)": {"brand": {"a": 1}}},
        "data.attributes.extensions.products(shoes).brand",
    ),
    ("extensions", {"products(shoes)": {"size": 2**60}}, "data.attributes.extensions.products(shoes).size"),
    ("extensions", {"products(shoes)": "adidas"}, "data.attributes.extensions.products(shoes)"),
    ("extensions", {"": {"brand": "adidas"}}, "data.attributes.extensions."),
    ("extensions", ["products(shoes)"], "data.attributes.extensions"),
    ("image_href", "ftp://cdn.example.com/a.png", "data.attributes.image_href"),
    ("image_href", "javascript:alert(1)", "data.attributes.image_href"),
    ("image_href", "/relative/a.png", "data.attributes.image_href"),
    ("image_href", "https://cdn.example.com/a b.png", "data.attributes.image_href"),
    ("image_href", 7, "data.attributes.image_href"),
]


def bad_document(field: str, value: Any) -> dict[str, Any]:
    document = copy.deepcopy(VALID)
    if value is None:
        del document["attributes"][field]
    else:
        document["attributes"][field] = value
    return document


BAD_DOCUMENTS: list[tuple[str, Any, str]] = [
    *(
        (f"{field}={value!r}"[:60], bad_document(field, value), source)
        for field, value, source in BAD_ATTRIBUTES
    ),
    ("type", {**VALID, "type": "products"}, "data.type"),
    ("no type", {k: v for k, v in VALID.items() if k != "type"}, "data.type"),
    ("no attributes", {"type": "product"}, "data.attributes"),
    ("attributes list", {"type": "product", "attributes": []}, "data.attributes"),
    ("body id", {**VALID, "id": "not-a-uuid"}, "data.id"),
    ("catalog id", {**VALID, "meta": {"catalog_id": ""}}, "data.meta.catalog_id"),
    ("catalog id type", {**VALID, "meta": {"catalog_id": 5}}, "data.meta.catalog_id"),
    ("nodes", {**VALID, "meta": {"bread_crumb_nodes": "node-1"}}, "data.meta.bread_crumb_nodes"),
    ("node", {**VALID, "meta": {"bread_crumb_nodes": ["n", 2]}}, "data.meta.bread_crumb_nodes.1"),
    ("crumbs", {**VALID, "meta": {"bread_crumbs": {"n": "h"}}}, "data.meta.bread_crumbs.n"),
    ("meta", {**VALID, "meta": []}, "data.meta"),
    ("data list", [VALID], "data"),
]


@pytest.mark.parametrize(
    ("document", "source"),
    [pytest.param(document, source, id=name) for name, document, source in BAD_DOCUMENTS],
)
def test_bad_products_are_400_naming_the_field_and_store_nothing(
    shop: StoreClient, document: Any, source: str
) -> None:
    response = shop.put(f"{BASE}/{uuid.uuid4()}", json={"data": document})
    errors = errors_of(response, 400)
    assert source in [e.get("source") for e in errors], errors
    assert all(e["code"] == "invalid_input" for e in errors)
    assert skus(shop) == []


def test_missing_and_empty_bodies_are_400(shop: StoreClient) -> None:
    for body in ({}, {"data": None}, {"data": {}}):
        errors_of(shop.put(f"{BASE}/{uuid.uuid4()}", json=body), 400)
    errors_of(shop.put(f"{BASE}/{uuid.uuid4()}"), 400)
    errors_of(shop.post(f"{BASE}/import", json={"data": []}), 400)
    assert skus(shop) == []


@pytest.mark.both_backends
def test_every_iso_currency_and_large_amounts_are_accepted(shop: StoreClient) -> None:
    prices = {"JPY": {"amount": 0}, "BHD": {"amount": 2**53 - 1, "includes_tax": True}, "XAU": {"amount": 1}}
    data = put_ok(shop, price=prices)
    assert data["attributes"]["price"] == {
        "JPY": {"amount": 0, "includes_tax": False},
        "BHD": {"amount": 2**53 - 1, "includes_tax": True},
        "XAU": {"amount": 1, "includes_tax": False},
    }


# SKU clashes


@pytest.mark.both_backends
def test_a_sku_taken_by_another_product_is_409_naming_it(shop: StoreClient) -> None:
    first = put_ok(shop, "SHOE-TR-01")
    second_id = str(uuid.uuid4())
    errors = errors_of(put(shop, second_id, product_document("SHOE-TR-01")), 409)
    assert errors == [
        {
            "status": 409,
            "title": "Conflict",
            "code": "product_conflict",
            "detail": f"sku 'SHOE-TR-01' already belongs to product {first['id']} in this store",
            "source": "data.attributes.sku",
            "meta": {"sku": "SHOE-TR-01", "id": first["id"]},
        }
    ]
    assert errors_of(shop.get(f"{BASE}/{second_id}"), 404)


@pytest.mark.both_backends
def test_skus_compare_exactly(shop: StoreClient) -> None:
    put_ok(shop, "SHOE-TR-01")
    put_ok(shop, "shoe-tr-01")
    assert skus(shop) == ["SHOE-TR-01", "shoe-tr-01"]


@pytest.mark.both_backends
def test_a_product_may_change_its_sku_and_free_the_old_one(shop: StoreClient) -> None:
    product = put_ok(shop, "OLD")
    renamed = put(shop, product["id"], product_document("NEW"))
    assert renamed.status_code == 200, renamed.text
    put_ok(shop, "OLD")
    assert skus(shop) == ["NEW", "OLD"]


# Listing


@pytest.mark.both_backends
def test_list_is_in_sku_order_paginated_and_filtered_by_exact_sku(shop: StoreClient) -> None:
    for sku in ("C-3", "A-1", "B-2", "a-1"):
        put_ok(shop, sku)
    page = listed(shop, **{"page[limit]": 2})
    assert [p["attributes"]["sku"] for p in page["data"]] == ["A-1", "B-2"]
    assert page["meta"]["results"]["total"] == 4
    assert page["meta"]["page"] == {"limit": 2, "offset": 0, "current": 1, "total": 2}
    assert page["links"]["next"].endswith("/v2/promoforge/products?page[offset]=2&page[limit]=2")
    second = listed(shop, **{"page[limit]": 2, "page[offset]": 2})
    assert [p["attributes"]["sku"] for p in second["data"]] == ["C-3", "a-1"]
    found = listed(shop, filter="eq(sku,a-1)")
    assert [p["attributes"]["sku"] for p in found["data"]] == ["a-1"]
    assert found["meta"]["results"]["total"] == 1
    quoted = listed(shop, filter='eq(sku,"B-2")')
    assert [p["attributes"]["sku"] for p in quoted["data"]] == ["B-2"]
    assert listed(shop, filter="eq(sku,D-4)")["data"] == []


@pytest.mark.parametrize(
    ("params", "source"),
    [
        ({"filter": "eq(name,Trail runner)"}, "filter"),
        ({"filter": "like(sku,A*)"}, "filter"),
        ({"filter": "eq(sku,)"}, "filter"),
        ({"filter": "eq(sku,A):eq(sku,B)"}, "filter"),
        ({"page[limit]": "0"}, "page[limit]"),
        ({"page[limit]": "101"}, "page[limit]"),
        ({"page[offset]": "10001"}, "page[offset]"),
    ],
)
def test_bad_list_parameters_are_400(shop: StoreClient, params: dict[str, str], source: str) -> None:
    errors = errors_of(shop.get(BASE, params=params), 400)
    assert errors[0]["source"] == source


# Delete


@pytest.mark.both_backends
def test_delete_removes_the_product_once(shop: StoreClient) -> None:
    product = put_ok(shop)
    response = shop.delete(f"{BASE}/{product['id']}")
    assert response.status_code == 204 and response.content == b""
    errors_of(shop.get(f"{BASE}/{product['id']}"), 404)
    errors_of(shop.delete(f"{BASE}/{product['id']}"), 404)
    put_ok(shop)  # its SKU is free again


# Tokens


ENDPOINTS: list[tuple[str, str, Any]] = [
    ("GET", BASE, None),
    ("GET", f"{BASE}/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", None),
    ("PUT", f"{BASE}/6f7a8b9c-0d1e-4f2a-9b3c-4d5e6f7a8b9c", {"data": product_document()}),
    ("DELETE", f"{BASE}/7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", None),
    ("POST", f"{BASE}/import", {"data": [product_document()]}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_implicit_tokens_are_403_and_no_token_is_401(
    container: Container, app_client: TestClient, shop: StoreClient, method: str, path: str, body: Any
) -> None:
    storefront = make_store(container, app_client, name="storefront", grant="implicit")
    kwargs = {"json": body} if body is not None else {}
    assert errors_of(storefront.request(method, path, **kwargs), 403)[0]["code"] == "forbidden"
    assert errors_of(app_client.request(method, path, **kwargs), 401)[0]["code"] == "unauthenticated"
    assert skus(shop) == []


# Store isolation


@pytest.mark.both_backends
def test_another_stores_products_are_404_never_listed_and_never_changed(
    container: Container, app_client: TestClient, shop: StoreClient
) -> None:
    other = make_store(container, app_client, name="other")
    product = put_ok(shop, "PRIVATE-1")
    path = f"{BASE}/{product['id']}"
    errors_of(other.get(path), 404)
    errors_of(other.delete(path), 404)
    assert listed(other)["data"] == []
    assert listed(other, filter="eq(sku,PRIVATE-1)")["meta"]["results"]["total"] == 0
    # The same id and SKU in another store make that store's own product.
    taken = put(other, product["id"], product_document("PRIVATE-1", name="Other store's"))
    assert taken.status_code == 201, taken.text
    imported = import_products(other, [product_document("PRIVATE-1", name="Imported")])
    assert imported.status_code == 200, imported.text
    assert imported.json()["data"]["ids"] == [product["id"]]
    assert other.get(path).json()["data"]["attributes"]["name"] == "Imported"
    assert shop.get(path).json()["data"] == product
    assert [p["id"] for p in listed(shop)["data"]] == [product["id"]]
    deleted = other.delete(path)
    assert deleted.status_code == 204
    assert shop.get(path).json()["data"] == product


# Import


@pytest.mark.both_backends
def test_import_creates_and_replaces_by_id_or_sku(shop: StoreClient) -> None:
    existing = put_ok(shop, "KEEP-ID", name="Old")
    by_sku = put_ok(shop, "BY-SKU", name="Old")
    new_id = str(uuid.uuid4())
    documents = [
        product_document("KEEP-ID", product_id=existing["id"], name="New"),
        product_document("BY-SKU", name="New"),
        product_document("FRESH-1", product_id=new_id),
        product_document("FRESH-2"),
    ]
    response = import_products(shop, documents)
    assert response.status_code == 200, response.text
    result = response.json()["data"]
    assert result["type"] == "product_import"
    assert (result["total"], result["created"], result["updated"]) == (4, 2, 2)
    assert result["ids"][:3] == [existing["id"], by_sku["id"], new_id]
    assert uuid.UUID(result["ids"][3])
    assert skus(shop) == ["BY-SKU", "FRESH-1", "FRESH-2", "KEEP-ID"]
    for product_id in result["ids"][:2]:
        product = shop.get(f"{BASE}/{product_id}").json()["data"]
        assert product["attributes"]["name"] == "New"
    again = import_products(shop, documents)
    assert again.json()["data"]["ids"] == result["ids"]
    assert (again.json()["data"]["created"], again.json()["data"]["updated"]) == (0, 4)


@pytest.mark.both_backends
def test_import_is_all_or_nothing_and_names_every_bad_product(shop: StoreClient) -> None:
    documents = [product_document(f"SKU-{i}") for i in range(5)]
    documents[1]["attributes"]["price"] = {"USD": {"amount": 12.5}}
    documents[3]["attributes"]["status"] = "published"
    del documents[4]["attributes"]["name"]
    errors = errors_of(import_products(shop, documents), 400)
    assert [e["source"] for e in errors] == [
        "data.1.attributes.price.USD.amount",
        "data.3.attributes.status",
        "data.4.attributes.name",
    ]
    assert skus(shop) == []


def test_import_error_lists_at_most_100_items(shop: StoreClient) -> None:
    documents = [product_document(f"SKU-{i}", price={"USD": {"amount": True}}) for i in range(150)]
    response = import_products(shop, documents)
    errors = errors_of(response, 400)
    assert len(errors) == 100
    assert response.json()["meta"] == {"total_errors": 150}
    assert errors[99]["source"] == "data.99.attributes.price.USD.amount"


@pytest.mark.both_backends
def test_import_clashes_are_409_naming_each_sku_and_store_nothing(shop: StoreClient) -> None:
    stored = put_ok(shop, "STORED")
    duplicate_id = str(uuid.uuid4())
    documents = [
        product_document("A"),
        product_document("B", product_id=duplicate_id),
        product_document("A"),
        product_document("STORED", product_id=str(uuid.uuid4())),
        product_document("C", product_id=duplicate_id),
    ]
    errors = errors_of(import_products(shop, documents), 409)
    assert [(e["source"], e["detail"], e["meta"]) for e in errors] == [
        ("data.2.attributes.sku", "sku 'A' is already at data.0 of this request", {"sku": "A"}),
        (
            "data.3.attributes.sku",
            f"sku 'STORED' already belongs to product {stored['id']} in this store",
            {"sku": "STORED", "id": stored["id"]},
        ),
        ("data.4.id", f"product {duplicate_id} is already at data.1 of this request", {"id": duplicate_id}),
    ]
    assert all(e["code"] == "product_conflict" for e in errors)
    assert skus(shop) == ["STORED"]


@pytest.mark.both_backends
def test_import_may_swap_skus_between_products(shop: StoreClient) -> None:
    first = put_ok(shop, "LEFT")
    second = put_ok(shop, "RIGHT")
    response = import_products(
        shop,
        [
            product_document("RIGHT", product_id=first["id"]),
            product_document("LEFT", product_id=second["id"]),
        ],
    )
    assert response.status_code == 200, response.text
    assert shop.get(f"{BASE}/{first['id']}").json()["data"]["attributes"]["sku"] == "RIGHT"
    assert shop.get(f"{BASE}/{second['id']}").json()["data"]["attributes"]["sku"] == "LEFT"


@pytest.mark.both_backends
def test_import_may_give_a_stored_products_sku_to_a_new_product(shop: StoreClient) -> None:
    old = put_ok(shop, "HANDED-ON")
    response = import_products(
        shop, [product_document("RENAMED", product_id=old["id"]), product_document("HANDED-ON")]
    )
    assert response.status_code == 200, response.text
    ids = response.json()["data"]["ids"]
    assert ids[0] == old["id"] and ids[1] != old["id"]
    assert skus(shop) == ["HANDED-ON", "RENAMED"]


def test_import_refuses_more_than_10000_products(shop: StoreClient) -> None:
    documents = [{"type": "product", "attributes": {"sku": f"S{i}", "name": "n"}} for i in range(10_001)]
    errors = errors_of(import_products(shop, documents), 400)
    assert errors[0]["source"] == "data"
    assert skus(shop) == []


@pytest.mark.both_backends
@pytest.mark.slow
def test_import_of_10000_products_in_one_request(shop: StoreClient) -> None:
    documents = [product_document(f"BULK-{i:05d}") for i in range(10_000)]
    started = time.monotonic()
    response = import_products(shop, documents)
    first_seconds = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert response.json()["data"]["created"] == 10_000
    assert listed(shop)["meta"]["results"]["total"] == 10_000
    started = time.monotonic()
    again = import_products(shop, documents)
    assert again.json()["data"]["updated"] == 10_000
    # Generous bounds on a shared machine: they catch a row-at-a-time import, not a slow disk.
    assert first_seconds < 30 and time.monotonic() - started < 30
