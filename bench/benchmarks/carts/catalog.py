"""What the carts benchmark's store holds, built the same way for the engine and for the API part:
200 products, 10,000 code promotions of 10 kinds (one code each) and 200 automatic promotions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from promoforge.api.documents.promotions.requests import validate_promotion
from promoforge.domain.pricing import ProductFacts
from promoforge.domain.promotions import Promotion, PromotionAttributes

PRODUCTS = 200
APPLIED_CODES = 10
AUTOMATIC_PROMOTIONS = 200
CODE_PROMOTIONS = 10_000
# Every cart starts with these products (two units each); adds take products from a pool of its own.
INITIAL_LINES = 20
ADD_POOL = 40
CURRENCY = "USD"
TEMPLATE = "products(bench)"
ID_NAMESPACE = uuid.UUID("3f1f6c52-8d1e-4f57-9a1c-62b0e1c0b7d4")
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def product_id(index: int) -> str:
    """The id of product `index` (stable, so the engine and the API part use the same catalog)."""
    return str(uuid.uuid5(ID_NAMESPACE, f"product-{index}"))


def sku(index: int) -> str:
    """The SKU of product `index`."""
    return f"SKU-{index:04d}"


def product_facts(index: int) -> ProductFacts:
    """What targeting reads of product `index`: two catalogs, 20 nodes and 4 departments, 3 attributes."""
    return ProductFacts(
        product_id=product_id(index),
        catalog_id=f"catalog-{index % 2}",
        node_ids=frozenset({f"node-{index % 20}", f"dept-{index % 4}"}),
        attributes={TEMPLATE: {"brand": f"brand-{index % 10}", "size": index % 7, "eco": index % 3 == 0}},
    )


def unit_price(index: int) -> int:
    """Product `index`'s price in minor units."""
    return 500 + (index * 37) % 9500


def product_document(index: int) -> dict[str, Any]:
    """Product `index` as `POST /v2/promoforge/products/import` takes it."""
    facts = product_facts(index)
    return {
        "type": "product",
        "id": facts.product_id,
        "attributes": {
            "sku": sku(index),
            "name": f"Product {index}",
            "description": "bench",
            "slug": f"product-{index}",
            "status": "live",
            "price": {CURRENCY: {"amount": unit_price(index), "includes_tax": False}},
            "extensions": {TEMPLATE: dict(facts.attributes[TEMPLATE])},
        },
        "meta": {"catalog_id": facts.catalog_id, "bread_crumb_nodes": sorted(facts.node_ids)},
    }


def _usd(amount: int) -> list[dict[str, Any]]:
    return [{"currency": CURRENCY, "amount": amount}]


def code_promotion_schema(kind: int) -> tuple[str, dict[str, Any]]:
    """The rules of the `kind`-th (0-9) code promotion of a group: every one discounts a cart that holds
    products 0-19 (the lines every bench cart starts with), each on lines the others leave alone."""
    schemas: list[tuple[str, dict[str, Any]]] = [
        ("item_percent_discount", {"percent": 10, "target_nodes": ["node-0", "node-1"]}),
        ("item_fixed_discount", {"currencies": _usd(100), "target_nodes": ["node-2", "node-3"]}),
        ("x_for_y", {"x": 2, "y": 1, "target_nodes": ["node-4"]}),
        ("x_for_amount", {"x": 2, "currencies": _usd(1000), "target_nodes": ["node-5"]}),
        (
            "bundle_fixed_discount",
            {
                "requirements": [
                    {"targets": [sku(6)], "quantity": 1},
                    {"targets": [sku(7)], "quantity": 1},
                ],
                "currencies": _usd(1000),
            },
        ),
        ("bundle_gift", {"requirements": [{"targets": [sku(12)], "quantity": 1}], "gifts": [sku(13)]}),
        ("fixed_discount", {"currencies": _usd(500), "target_catalogs": ["catalog-0"]}),
        ("percent_discount", {"currencies": [{"currency": CURRENCY, "percentage": 5}]}),
        (
            "item_percent_discount",
            {
                "percent": 15,
                "target_attributes": [
                    {"template": TEMPLATE, "field": "brand", "type": "string", "value": "brand-8"}
                ],
            },
        ),
        (
            "item_fixed_discount",
            {
                "currencies": _usd(50),
                "target_nodes": ["dept-1", "dept-3"],
                "target_catalogs": ["catalog-1"],
                "exclude": {"nodes": ["node-19"]},
            },
        ),
    ]
    return schemas[kind % len(schemas)]


def automatic_promotion_schema(number: int) -> dict[str, Any]:
    """The `number`-th automatic promotion: the eight types in turn. One in 25 reaches the bench carts'
    lines; the others target nodes, attributes or SKUs no product has, need a cart value no cart reaches, or
    are priced in another currency, so the engine still weighs each of them."""
    kind = number % 8
    reaches = number % 25 == 0
    node = f"node-{10 + number % 8}" if reaches else f"auto-node-{number}"
    miss = f"AUTO-SKU-{number}"
    document: dict[str, Any] = {"min_cart_value": None}
    if kind == 0:
        # Cart level: only one of them runs for carts under USD 1,000,000.
        document["promotion_type"] = "fixed_discount"
        document["schema"] = {"currencies": _usd(200), "exclude": {"nodes": [f"auto-node-{number}"]}}
        if number:
            document["min_cart_value"] = _usd(100_000_000)
    elif kind == 1:
        document["promotion_type"] = "percent_discount"
        document["schema"] = {"currencies": [{"currency": "EUR", "percentage": 10}]}
    elif kind == 2:
        document["promotion_type"] = "item_percent_discount"
        document["schema"] = {"percent": 5, "target_nodes": [node]}
    elif kind == 3:
        document["promotion_type"] = "item_fixed_discount"
        document["schema"] = {
            "currencies": _usd(25),
            "target_attributes": [
                {
                    "template": TEMPLATE,
                    "field": "brand",
                    "type": "string",
                    "values": ["brand-9" if reaches else f"auto-brand-{number}", f"other-{number}"],
                }
            ],
        }
    elif kind == 4:
        document["promotion_type"] = "x_for_y"
        document["schema"] = {"x": 3, "y": 2, "target_nodes": [node]}
    elif kind == 5:
        document["promotion_type"] = "x_for_amount"
        document["schema"] = {"x": 3, "currencies": _usd(900), "targets": [miss, f"{miss}-B"]}
    elif kind == 6:
        document["promotion_type"] = "bundle_fixed_discount"
        document["schema"] = {
            "requirements": [{"targets": [miss], "quantity": 1}, {"targets": [sku(11)], "quantity": 1}],
            "currencies": _usd(700),
        }
    else:
        document["promotion_type"] = "bundle_gift"
        document["schema"] = {"requirements": [{"targets": [miss], "quantity": 2}], "gifts": [sku(3)]}
    return document


def promotion_attributes(
    name: str, automatic: bool, promotion_type: str, schema: dict[str, Any], **extra: Any
) -> PromotionAttributes:
    """Attributes validated exactly as `POST /v2/promotions` validates them."""
    document = {
        "type": "promotion",
        "name": name,
        "description": "bench",
        "enabled": True,
        "automatic": automatic,
        "promotion_type": promotion_type,
        "schema": schema,
        "start": "2024-01-01",
        "end": "2099-01-01",
        **{key: value for key, value in extra.items() if value is not None},
    }
    return validate_promotion(document)


@dataclass(frozen=True)
class SeedPromotion:
    """A promotion of the bench store, with its code (None for automatic ones)."""

    promotion: Promotion
    code: str | None


def seed_promotions(store_id: str, actor: str | None) -> tuple[list[SeedPromotion], list[SeedPromotion]]:
    """The store's code promotions (10,000: 1,000 groups of the 10 kinds, oldest first) and automatic ones.

    Code promotions are older than the automatic ones, so the applied codes' item-level promotions claim
    their units first (oldest promotion first, P4), as in a store whose automatic offers came later.
    """
    code_attrs = [
        promotion_attributes(f"code kind {kind}", False, *code_promotion_schema(kind))
        for kind in range(APPLIED_CODES)
    ]
    coded: list[SeedPromotion] = []
    for number in range(CODE_PROMOTIONS):
        at = EPOCH + timedelta(seconds=number)
        coded.append(
            SeedPromotion(
                Promotion(
                    id=str(uuid.uuid5(ID_NAMESPACE, f"code-promotion-{number}")),
                    store_id=store_id,
                    attributes=code_attrs[number % APPLIED_CODES],
                    created_by=actor,
                    updated_by=actor,
                    code_count=1,
                    version=1,
                    created_at=at,
                    updated_at=at,
                ),
                code_text(number),
            )
        )
    automatic: list[SeedPromotion] = []
    for number in range(AUTOMATIC_PROMOTIONS):
        document = automatic_promotion_schema(number)
        attributes = promotion_attributes(
            f"automatic {number}",
            True,
            document["promotion_type"],
            document["schema"],
            min_cart_value=document["min_cart_value"],
        )
        at = EPOCH + timedelta(days=1, seconds=number)
        automatic.append(
            SeedPromotion(
                Promotion(
                    id=str(uuid.uuid5(ID_NAMESPACE, f"automatic-promotion-{number}")),
                    store_id=store_id,
                    attributes=attributes,
                    created_by=actor,
                    updated_by=actor,
                    code_count=0,
                    version=1,
                    created_at=at,
                    updated_at=at,
                ),
                None,
            )
        )
    return coded, automatic


def code_text(number: int) -> str:
    """The code of code promotion `number`."""
    return f"BENCH{number:05d}"


def group_codes(group: int) -> list[str]:
    """The 10 codes (one per kind) a cart of this group applies."""
    return [code_text(group * APPLIED_CODES + kind) for kind in range(APPLIED_CODES)]
