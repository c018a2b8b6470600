"""Small builders for discount engine tests: lines, products and offers written as the spec writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from promoforge.domain.codes import ConsumeUnit
from promoforge.domain.money import Money
from promoforge.domain.pricing import (
    CartLine,
    LineKind,
    Offer,
    PricedCart,
    ProductFacts,
    automatic_code,
    price_cart,
)
from promoforge.domain.promotions import PromotionAttributes, PromotionRules, rules_from_document

NOW = datetime(2025, 3, 14, 10, 0, tzinfo=UTC)
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def product(
    line_id: str,
    sku: str,
    unit_price: int,
    quantity: int = 1,
    *,
    product_id: str | None = None,
    catalog_id: str | None = "catalog-1",
    nodes: tuple[str, ...] = (),
    attributes: dict[str, dict[str, object]] | None = None,
) -> CartLine:
    """A catalog product line."""
    return CartLine(
        id=line_id,
        kind=LineKind.PRODUCT,
        sku=sku,
        unit_price=unit_price,
        quantity=quantity,
        product=ProductFacts(
            product_id=product_id or f"id-{sku}",
            catalog_id=catalog_id,
            node_ids=frozenset(nodes),
            attributes=attributes or {},
        ),
    )


def custom(line_id: str, sku: str, unit_price: int, quantity: int = 1) -> CartLine:
    """A custom item line."""
    return CartLine(id=line_id, kind=LineKind.CUSTOM, sku=sku, unit_price=unit_price, quantity=quantity)


def rules(promotion_type: str, **schema: Any) -> PromotionRules:
    """Typed rules from a schema written as on the wire."""
    return rules_from_document(promotion_type, schema)


def offer(
    promotion_id: str,
    promotion_type: str,
    *,
    age: int = 0,
    code: str | None = None,
    automatic: bool = False,
    enabled: bool = True,
    start: datetime = EPOCH,
    end: datetime = datetime(2030, 1, 1, tzinfo=UTC),
    uses: int | None = None,
    per_item: bool = False,
    min_cart_value: dict[str, int] | None = None,
    max_discount_value: dict[str, int] | None = None,
    max_applications_per_cart: int | None = None,
    **schema: Any,
) -> Offer:
    """An offer of a promotion created `age` minutes after the epoch (older promotions apply first)."""
    attributes = PromotionAttributes(
        name=promotion_id,
        description="",
        enabled=enabled,
        automatic=automatic,
        schema=rules(promotion_type, **schema),
        start=start,
        end=end,
        min_cart_value=_money(min_cart_value),
        max_discount_value=_money(max_discount_value),
        max_applications_per_cart=max_applications_per_cart,
    )
    return Offer(
        promotion_id=promotion_id,
        created_at=EPOCH + timedelta(minutes=age),
        attributes=attributes,
        code=automatic_code(promotion_id) if automatic else (code or promotion_id.upper()),
        remaining_uses=uses,
        consume_unit=ConsumeUnit.PER_ITEM if per_item else ConsumeUnit.PER_CART,
    )


def usd(amount: int) -> list[dict[str, object]]:
    """A `currencies` list with one USD amount."""
    return [{"currency": "USD", "amount": amount}]


def usd_percent(percentage: str) -> list[dict[str, object]]:
    """A `currencies` list with one USD percentage (exact decimal text)."""
    return [{"currency": "USD", "percentage": Decimal(percentage)}]


def price(lines: list[CartLine], *offers: Offer, currency: str = "USD", now: datetime = NOW) -> PricedCart:
    """Price the lines with the offers."""
    return price_cart(lines=lines, currency=currency, offers=list(offers), now=now)


def item_discounts(cart: PricedCart) -> dict[str, dict[str, int]]:
    """Item-level discounts per line id, keyed by promotion id."""
    return {
        line.line_id: {d.promotion_id: d.amount for d in line.item_discounts}
        for line in cart.lines
        if line.item_discounts
    }


def line_discounts(cart: PricedCart) -> dict[str, int]:
    """Total discount per line id."""
    return {line.line_id: line.discount for line in cart.lines}


def _money(values: dict[str, int] | None) -> tuple[Money, ...] | None:
    return None if values is None else tuple(Money(currency, amount) for currency, amount in values.items())
