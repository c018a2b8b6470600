"""A stored promotion, its editable attributes and the entries of its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from promoforge.domain.money import Money
from promoforge.domain.promotions.rules import PromotionRules, PromotionType


@dataclass(frozen=True)
class PromotionAttributes:
    """The editable attributes of a promotion, already validated and normalised; `schema` holds its rules."""

    name: str
    description: str
    enabled: bool
    automatic: bool
    schema: PromotionRules
    start: datetime
    end: datetime
    min_cart_value: tuple[Money, ...] | None = None
    max_discount_value: tuple[Money, ...] | None = None
    max_applications_per_cart: int | None = None

    @property
    def promotion_type(self) -> PromotionType:
        """The type, which the rules' class decides."""
        return self.schema.promotion_type


@dataclass(frozen=True)
class Promotion:
    """A stored promotion."""

    id: str
    store_id: str
    attributes: PromotionAttributes
    created_by: str | None
    updated_by: str | None
    code_count: int
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class PromotionVersion:
    """One entry of a promotion's history."""

    promotion_id: str
    version: int
    attributes: PromotionAttributes
    created_by: str | None
    updated_by: str | None
    promotion_created_at: datetime
    created_at: datetime
