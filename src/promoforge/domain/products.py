"""Products of a store's registry: what a cart line copies and what promotion targeting reads (§9)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ProductStatus(StrEnum):
    """Only `live` products can be added to a cart."""

    LIVE = "live"
    DRAFT = "draft"


@dataclass(frozen=True)
class ProductPrice:
    """A product's price in one currency, in minor units."""

    amount: int
    includes_tax: bool = False


@dataclass(frozen=True)
class Product:
    """A product of one store.

    `node_ids` are every node and hierarchy id the product sits under (flattened, §9.2); `attributes` are its
    template attributes keyed by template (`"products(shoes)"`) and field, as in EP's `extensions`.
    """

    id: str
    store_id: str
    sku: str
    name: str
    description: str
    slug: str
    status: ProductStatus
    prices: Mapping[str, ProductPrice]
    catalog_id: str | None = None
    node_ids: tuple[str, ...] = ()
    attributes: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    image_href: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_live(self) -> bool:
        """Whether the product may be added to a cart."""
        return self.status is ProductStatus.LIVE

    def price_in(self, currency: str) -> ProductPrice | None:
        """The price in a currency, if the product has one (B30)."""
        return self.prices.get(currency)
