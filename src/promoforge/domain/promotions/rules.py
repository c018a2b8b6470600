"""The typed rules of each promotion type, and how each writes its stored and wire JSON form."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Final, Literal

from promoforge.domain.money import Money, json_number

ALL_TARGETS: Final = "all"

Document = dict[str, Any]
AttributeValue = str | int | Decimal | bool


class PromotionType(StrEnum):
    """The eight Promotions Standard types."""

    FIXED_DISCOUNT = "fixed_discount"
    PERCENT_DISCOUNT = "percent_discount"
    ITEM_FIXED_DISCOUNT = "item_fixed_discount"
    ITEM_PERCENT_DISCOUNT = "item_percent_discount"
    X_FOR_Y = "x_for_y"
    X_FOR_AMOUNT = "x_for_amount"
    BUNDLE_FIXED_DISCOUNT = "bundle_fixed_discount"
    BUNDLE_GIFT = "bundle_gift"


class AttributeType(StrEnum):
    """The type of a product template attribute."""

    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    FLOAT = "float"
    DATE = "date"


def _attribute_value_document(value: AttributeValue) -> Any:
    return json_number(value) if isinstance(value, Decimal) else value


def _put(document: Document, key: str, value: Any, nulls: frozenset[str]) -> None:
    """Write `value` under `key`; an absent value (None) is left out, unless the document wrote it as null."""
    if value is not None or key in nulls:
        document[key] = value


def _no_nulls() -> frozenset[str]:
    # `nulls` on a rule value: the optional fields its document wrote as null, so it renders back unchanged.
    return frozenset()


def _texts_document(values: tuple[str, ...] | None) -> list[str] | None:
    return None if values is None else list(values)


@dataclass(frozen=True)
class AttributeMatch:
    """Matches products whose template attribute equals `value` or one of `values`."""

    template: str
    field: str
    type: AttributeType
    value: AttributeValue | None = None
    values: tuple[AttributeValue, ...] | None = None
    nulls: frozenset[str] = dataclasses.field(default_factory=_no_nulls, compare=False, repr=False)

    def to_document(self) -> Document:
        """The stored JSON form."""
        document: Document = {"template": self.template, "field": self.field, "type": self.type.value}
        _put(
            document,
            "value",
            None if self.value is None else _attribute_value_document(self.value),
            self.nulls,
        )
        values = None if self.values is None else [_attribute_value_document(v) for v in self.values]
        _put(document, "values", values, self.nulls)
        return document


@dataclass(frozen=True)
class NodeMatch:
    """Matches products in any of these hierarchy nodes."""

    values: tuple[str, ...]

    def to_document(self) -> Document:
        """The stored JSON form."""
        return {"values": list(self.values)}


@dataclass(frozen=True)
class Condition:
    """One condition: an attribute match, a node match, or both."""

    attribute: AttributeMatch | None = None
    node: NodeMatch | None = None
    nulls: frozenset[str] = dataclasses.field(default_factory=_no_nulls, compare=False, repr=False)

    def to_document(self) -> Document:
        """The stored JSON form."""
        document: Document = {}
        _put(
            document,
            "attribute",
            None if self.attribute is None else self.attribute.to_document(),
            self.nulls,
        )
        _put(document, "node", None if self.node is None else self.node.to_document(), self.nulls)
        return document


@dataclass(frozen=True)
class ConditionGroup:
    """Conditions that must all hold (`and`)."""

    all_of: tuple[Condition, ...]

    def to_document(self) -> Document:
        """The stored JSON form."""
        return {"and": [condition.to_document() for condition in self.all_of]}


@dataclass(frozen=True)
class Conditions:
    """Groups of which at least one must hold (`or`)."""

    any_of: tuple[ConditionGroup, ...]

    def to_document(self) -> Document:
        """The stored JSON form."""
        return {"or": [group.to_document() for group in self.any_of]}


@dataclass(frozen=True)
class Exclusion:
    """Items that match any of these criteria are left out of the promotion."""

    targets: tuple[str, ...] | None = None
    nodes: tuple[str, ...] | None = None
    attributes: tuple[AttributeMatch, ...] | None = None
    conditions: Conditions | None = None
    nulls: frozenset[str] = dataclasses.field(default_factory=_no_nulls, compare=False, repr=False)

    def to_document(self) -> Document:
        """The stored JSON form."""
        document: Document = {}
        _put(document, "targets", _texts_document(self.targets), self.nulls)
        _put(document, "nodes", _texts_document(self.nodes), self.nulls)
        attributes = None if self.attributes is None else [a.to_document() for a in self.attributes]
        _put(document, "attributes", attributes, self.nulls)
        _put(
            document,
            "conditions",
            None if self.conditions is None else self.conditions.to_document(),
            self.nulls,
        )
        return document


@dataclass(frozen=True)
class ItemTargeting:
    """Which cart items an item-level promotion applies to; nothing given means every item."""

    targets: tuple[str, ...] | Literal["all"] | None = None
    target_nodes: tuple[str, ...] | None = None
    target_attributes: tuple[AttributeMatch, ...] | None = None
    target_conditions: Conditions | None = None
    target_catalogs: tuple[str, ...] | None = None
    exclude: Exclusion | None = None
    nulls: frozenset[str] = dataclasses.field(default_factory=_no_nulls, compare=False, repr=False)

    def to_document(self) -> Document:
        """The stored JSON form (its fields sit at the top of the rule's schema)."""
        document: Document = {}
        targets = self.targets
        _put(
            document,
            "targets",
            targets if targets == ALL_TARGETS else _texts_document(self.targets_list),
            self.nulls,
        )
        _put(document, "target_nodes", _texts_document(self.target_nodes), self.nulls)
        attributes = (
            None if self.target_attributes is None else [a.to_document() for a in self.target_attributes]
        )
        _put(document, "target_attributes", attributes, self.nulls)
        conditions = self.target_conditions
        _put(
            document,
            "target_conditions",
            None if conditions is None else conditions.to_document(),
            self.nulls,
        )
        _put(document, "target_catalogs", _texts_document(self.target_catalogs), self.nulls)
        _put(document, "exclude", None if self.exclude is None else self.exclude.to_document(), self.nulls)
        return document

    @property
    def targets_list(self) -> tuple[str, ...] | None:
        """The listed product ids or SKUs (None when absent or "all")."""
        return None if self.targets is None or self.targets == ALL_TARGETS else self.targets


@dataclass(frozen=True)
class CartScope:
    """Which items a cart-level promotion counts: catalogs, exclusions, and conditions on the items."""

    target_catalogs: tuple[str, ...] | None = None
    exclude: Exclusion | None = None
    conditions: Conditions | None = None
    nulls: frozenset[str] = dataclasses.field(default_factory=_no_nulls, compare=False, repr=False)

    def to_document(self) -> Document:
        """The stored JSON form (its fields sit at the top of the rule's schema)."""
        document: Document = {}
        _put(document, "target_catalogs", _texts_document(self.target_catalogs), self.nulls)
        _put(document, "exclude", None if self.exclude is None else self.exclude.to_document(), self.nulls)
        _put(
            document,
            "conditions",
            None if self.conditions is None else self.conditions.to_document(),
            self.nulls,
        )
        return document


@dataclass(frozen=True)
class Requirement:
    """A bundle requirement: `quantity` units of any of `targets`."""

    targets: tuple[str, ...]
    quantity: int

    def to_document(self) -> Document:
        """The stored JSON form."""
        return {"targets": list(self.targets), "quantity": self.quantity}


@dataclass(frozen=True)
class CurrencyPercentage:
    """A percentage that applies in one currency."""

    currency: str
    percentage: Decimal

    def to_document(self) -> Document:
        """The stored JSON form."""
        return {"currency": self.currency, "percentage": json_number(self.percentage)}


def _currencies_document(values: Sequence[Money | CurrencyPercentage]) -> list[Document]:
    return [dict(value.to_document()) for value in values]


@dataclass(frozen=True)
class FixedDiscount:
    """Cart: subtract an amount, per currency, from the cart total."""

    promotion_type: ClassVar[PromotionType] = PromotionType.FIXED_DISCOUNT
    currencies: tuple[Money, ...]
    scope: CartScope = dataclasses.field(default_factory=CartScope)

    def to_document(self) -> Document:
        """The stored and wire JSON form of the schema."""
        return {**self.scope.to_document(), "currencies": _currencies_document(self.currencies)}


@dataclass(frozen=True)
class PercentDiscount:
    """Cart: take a percentage, per currency, off every item."""

    promotion_type: ClassVar[PromotionType] = PromotionType.PERCENT_DISCOUNT
    currencies: tuple[CurrencyPercentage, ...]
    scope: CartScope = dataclasses.field(default_factory=CartScope)

    def to_document(self) -> Document:
        """The stored and wire JSON form of the schema."""
        return {**self.scope.to_document(), "currencies": _currencies_document(self.currencies)}


@dataclass(frozen=True)
class ItemFixedDiscount:
    """Item: take an amount, per currency, off each eligible unit."""

    promotion_type: ClassVar[PromotionType] = PromotionType.ITEM_FIXED_DISCOUNT
    currencies: tuple[Money, ...]
    targeting: ItemTargeting = dataclasses.field(default_factory=ItemTargeting)

    def to_document(self) -> Document:
        """The stored and wire JSON form of the schema."""
        return {**self.targeting.to_document(), "currencies": _currencies_document(self.currencies)}


@dataclass(frozen=True)
class ItemPercentDiscount:
    """Item: take a percentage off each eligible unit."""

    promotion_type: ClassVar[PromotionType] = PromotionType.ITEM_PERCENT_DISCOUNT
    percent: Decimal
    targeting: ItemTargeting = dataclasses.field(default_factory=ItemTargeting)

    def to_document(self) -> Document:
        """The stored and wire JSON form of the schema."""
        return {**self.targeting.to_document(), "percent": json_number(self.percent)}


@dataclass(frozen=True)
class XForY:
    """Item: take `x` units of a product, pay for `y`."""

    promotion_type: ClassVar[PromotionType] = PromotionType.X_FOR_Y
    x: int
    y: int
    targeting: ItemTargeting = dataclasses.field(default_factory=ItemTargeting)

    def to_document(self) -> Document:
        """The stored and wire JSON form of the schema."""
        return {**self.targeting.to_document(), "x": self.x, "y": self.y}


@dataclass(frozen=True)
class XForAmount:
    """Item: `x` units of a product for a fixed total, per currency."""

    promotion_type: ClassVar[PromotionType] = PromotionType.X_FOR_AMOUNT
    x: int
    currencies: tuple[Money, ...]
    targeting: ItemTargeting = dataclasses.field(default_factory=ItemTargeting)

    def to_document(self) -> Document:
        """The stored and wire JSON form of the schema."""
        return {
            **self.targeting.to_document(),
            "x": self.x,
            "currencies": _currencies_document(self.currencies),
        }


@dataclass(frozen=True)
class BundleFixedDiscount:
    """Item: a bundle of requirements for a fixed total, per currency."""

    promotion_type: ClassVar[PromotionType] = PromotionType.BUNDLE_FIXED_DISCOUNT
    requirements: tuple[Requirement, ...]
    currencies: tuple[Money, ...]
    target_catalogs: tuple[str, ...] | None = None
    nulls: frozenset[str] = dataclasses.field(default_factory=_no_nulls, compare=False, repr=False)

    def to_document(self) -> Document:
        """The stored and wire JSON form of the schema."""
        document: Document = {
            "requirements": [requirement.to_document() for requirement in self.requirements],
            "currencies": _currencies_document(self.currencies),
        }
        _put(document, "target_catalogs", _texts_document(self.target_catalogs), self.nulls)
        return document


@dataclass(frozen=True)
class BundleGift:
    """Item: the gifts become free once the requirements are in the cart.

    `auto_add_free_gift` is None when it was never given (the gifts are then only suggested, as with False).
    """

    promotion_type: ClassVar[PromotionType] = PromotionType.BUNDLE_GIFT
    requirements: tuple[Requirement, ...]
    gifts: tuple[str, ...]
    auto_add_free_gift: bool | None = None
    target_catalogs: tuple[str, ...] | None = None
    nulls: frozenset[str] = dataclasses.field(default_factory=_no_nulls, compare=False, repr=False)

    @property
    def adds_gifts(self) -> bool:
        """Whether the gifts are put in the cart automatically."""
        return self.auto_add_free_gift is True

    def to_document(self) -> Document:
        """The stored and wire JSON form of the schema."""
        document: Document = {
            "requirements": [requirement.to_document() for requirement in self.requirements],
            "gifts": list(self.gifts),
        }
        _put(document, "auto_add_free_gift", self.auto_add_free_gift, self.nulls)
        _put(document, "target_catalogs", _texts_document(self.target_catalogs), self.nulls)
        return document


PromotionRules = (
    FixedDiscount
    | PercentDiscount
    | ItemFixedDiscount
    | ItemPercentDiscount
    | XForY
    | XForAmount
    | BundleFixedDiscount
    | BundleGift
)
RULE_CLASSES: Mapping[PromotionType, type[PromotionRules]] = {
    rule.promotion_type: rule
    for rule in (
        FixedDiscount,
        PercentDiscount,
        ItemFixedDiscount,
        ItemPercentDiscount,
        XForY,
        XForAmount,
        BundleFixedDiscount,
        BundleGift,
    )
}
