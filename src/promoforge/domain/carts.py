"""Carts: their lines and the codes applied to them (carts.md §3-§5); prices are derived, never stored."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from promoforge.domain.money import MAX_AMOUNT
from promoforge.domain.pricing import CartLine, LineKind, ProductFacts

MAX_UNIQUE_LINES = 100  # promotion lines included (B38)
DEFAULT_CART_NAME = "Cart"
DEFAULT_CART_EXPIRY_DAYS = 7
CART_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # B51
MAX_CUSTOM_ATTRIBUTES = 20
MAX_QUANTITY = 1_000_000  # units on one line, however they got there
# What one line and one cart may store: a storefront token writes carts, so every size is bounded.
MAX_LINE_DESCRIPTION = 1_000  # characters
MAX_CUSTOM_INPUTS_BYTES = 4_096  # of compact UTF-8 JSON
MAX_CUSTOM_INPUTS_DEPTH = 4  # objects and arrays within custom_inputs
MAX_CART_TEXT = 256 * 1024  # characters of all lines' names, descriptions, SKUs and custom inputs
MAX_ATTRIBUTE_TEXT = 1_000  # characters of a custom attribute's string value
MAX_ATTRIBUTE_NAME = 128  # characters of a custom attribute's name


def check_custom_inputs(value: Mapping[str, object]) -> Mapping[str, object]:
    """Bound a line's custom inputs in size and nesting; ValueError says which bound was passed."""
    depth = 0
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        node, level = pending.pop()
        depth = max(depth, level)
        if depth > MAX_CUSTOM_INPUTS_DEPTH:
            raise ValueError(f"may nest objects and arrays at most {MAX_CUSTOM_INPUTS_DEPTH} deep")
        children = node.values() if isinstance(node, Mapping) else node if isinstance(node, list) else ()
        pending.extend((child, level + 1) for child in children if isinstance(child, Mapping | list))
    if len(_compact_json(value).encode()) > MAX_CUSTOM_INPUTS_BYTES:
        raise ValueError(f"may hold at most {MAX_CUSTOM_INPUTS_BYTES} bytes of JSON")
    return value


def _compact_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def amounts_fit(lines: Iterable[tuple[int, int]]) -> bool:
    """Whether every line value (unit price times quantity) and their sum stay within MAX_AMOUNT."""
    total = 0
    for unit_price, quantity in lines:
        value = unit_price * quantity
        if value > MAX_AMOUNT:
            return False
        total += value
    return total <= MAX_AMOUNT


def is_cart_id(value: str) -> bool:
    """Whether a cart reference uses only the safe characters, 1 to 64 of them (B51)."""
    return CART_ID_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True)
class DiscountSettings:
    """Per-cart switches: custom discounts turn EP promotions off (§3.1); Rule promotions are echoed only."""

    custom_discounts_enabled: bool = False
    use_rule_promotions: bool = False


@dataclass(frozen=True)
class Cart:
    """A cart of one store. `stored` is False for an id never written: it reads as a fresh empty cart (B6)."""

    id: str
    store_id: str
    created_at: datetime
    updated_at: datetime
    name: str = DEFAULT_CART_NAME
    description: str = ""
    currency: str | None = None
    discount_settings: DiscountSettings = DiscountSettings()
    snapshot_date: datetime | None = None
    custom_attributes: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    customer_id: str | None = None
    account_id: str | None = None
    stored: bool = True

    def expires_at(self, expiry_days: int) -> datetime:
        """When the cart is purged if nothing changes it (§2.4)."""
        return self.updated_at + timedelta(days=expiry_days)

    def pricing_time(self, now: datetime) -> datetime:
        """The time promotions are evaluated at: the preview date of a preview cart, else now."""
        return self.snapshot_date or now


@dataclass(frozen=True)
class CartItem:
    """A product or custom line as stored: what was copied from the product or request when it was added."""

    id: str
    kind: LineKind
    sku: str
    name: str
    description: str
    unit_price: int
    includes_tax: bool
    quantity: int
    created_at: datetime
    updated_at: datetime
    product_id: str | None = None
    slug: str = ""
    image_href: str | None = None
    catalog_id: str | None = None
    custom_inputs: Mapping[str, object] | None = None
    # Units of this line the service added as free gifts of an automatic bundle_gift promotion (§5.4).
    auto_add_quantity: int = 0

    @property
    def stored_text(self) -> int:
        """Characters this line stores beyond its numbers: what MAX_CART_TEXT bounds."""
        inputs = _compact_json(self.custom_inputs) if self.custom_inputs else ""
        return len(self.name) + len(self.description) + len(self.sku) + len(inputs)

    @property
    def merge_key(self) -> str | None:
        """Lines with equal keys are one line (§4.3): a product with its custom inputs, or a custom SKU."""
        return line_merge_key(self.kind, self.product_id, self.sku, self.custom_inputs)

    def pricing_line(self, facts: ProductFacts | None) -> CartLine:
        """The line as the discount engine reads it, with the product's current facts for targeting."""
        product = None
        if self.kind is LineKind.PRODUCT:
            assert self.product_id is not None
            product = facts or ProductFacts(product_id=self.product_id, catalog_id=self.catalog_id)
        return CartLine(
            id=self.id,
            kind=self.kind,
            sku=self.sku,
            unit_price=self.unit_price,
            quantity=self.quantity,
            product=product,
        )


def line_merge_key(
    kind: LineKind, product_id: str | None, sku: str, custom_inputs: Mapping[str, object] | None
) -> str | None:
    """The identity of a line in its cart; custom items without a SKU are always a line of their own."""
    if kind is LineKind.PRODUCT:
        inputs = json.dumps(custom_inputs or {}, sort_keys=True, separators=(",", ":"))
        return f"product:{product_id}:{inputs}"
    return f"custom:{sku}" if sku else None


@dataclass(frozen=True)
class AppliedCode:
    """A code applied to a cart: at most one per promotion (B15), kept in the order applied."""

    promotion_id: str
    code_id: str
    code: str
    applied_at: datetime
