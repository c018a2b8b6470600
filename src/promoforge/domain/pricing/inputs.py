"""What the discount engine prices: the cart's lines with their product facts, and the promotions on offer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from promoforge.domain.codes import ConsumeUnit
from promoforge.domain.promotions import PromotionAttributes

AUTOMATIC_CODE_PREFIX = "auto_"


def automatic_code(promotion_id: str) -> str:
    """The code an automatic promotion shows under (`auto_<promotion id>`, §5.4)."""
    return f"{AUTOMATIC_CODE_PREFIX}{promotion_id}"


class LineKind(StrEnum):
    """The kinds of cart line a promotion can discount."""

    PRODUCT = "cart_item"
    CUSTOM = "custom_item"


@dataclass(frozen=True)
class ProductFacts:
    """What targeting reads of a catalog product (§9.2)."""

    product_id: str
    catalog_id: str | None = None
    node_ids: frozenset[str] = frozenset()
    attributes: Mapping[str, Mapping[str, object]] = field(default_factory=dict)


@dataclass(frozen=True)
class CartLine:
    """A product or custom line of a cart: `quantity` units at `unit_price` minor units each."""

    id: str
    kind: LineKind
    sku: str
    unit_price: int
    quantity: int
    product: ProductFacts | None = None

    def __post_init__(self) -> None:
        if self.quantity < 1 or self.unit_price < 0:
            raise ValueError("a cart line has at least one unit and a price of at least 0")
        if (self.kind is LineKind.PRODUCT) != (self.product is not None):
            raise ValueError("product lines, and only they, carry product facts")

    @property
    def value(self) -> int:
        """The undiscounted line value."""
        return self.unit_price * self.quantity

    @property
    def product_key(self) -> str:
        """What counts as one "unique product" for `max_applications_per_cart` (B46)."""
        if self.product is not None:
            return f"product:{self.product.product_id}"
        return f"sku:{self.sku}" if self.sku else f"line:{self.id}"


@dataclass(frozen=True)
class Offer:
    """A promotion that may discount the cart, and the code that brings it (its `auto_` code if automatic).

    `remaining_uses` is the code's `uses` (None: unlimited); automatic promotions have no uses to count.
    """

    promotion_id: str
    created_at: datetime
    attributes: PromotionAttributes
    code: str
    remaining_uses: int | None = None
    consume_unit: ConsumeUnit = ConsumeUnit.PER_CART

    @property
    def automatic(self) -> bool:
        """Whether the promotion applies without a code."""
        return self.attributes.automatic

    @property
    def application_budget(self) -> int | None:
        """How many applications the code still allows in one cart (None: no limit), P11 and B18."""
        if self.consume_unit is ConsumeUnit.PER_ITEM and not self.automatic:
            return self.remaining_uses
        return None
