"""The typed rules of each promotion type, their stored JSON form, and the rules that span several fields."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar, Final, Literal, TypeVar

from promoforge.domain.errors import FieldProblem, ProblemList
from promoforge.domain.money import Money, decimal_places, exact_decimal, json_number

MAX_PERCENT_DECIMALS = 6
ALL_TARGETS: Final = "all"

Document = dict[str, Any]
AttributeValue = str | int | Decimal | bool
T = TypeVar("T")


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


def check_decimals(value: int | float) -> int | float:
    """Accept a number written with at most six decimals."""
    if decimal_places(exact_decimal(value)) > MAX_PERCENT_DECIMALS:
        raise ValueError("must have at most 6 decimal places")
    return value


# Reading the stored JSON form: each helper checks the JSON type it expects, so a wrong document fails loudly.


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected a whole number, got {type(value).__name__}")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return tuple(_text(item) for item in value)


def _items(value: Any, build: Callable[[Any], T]) -> tuple[T, ...]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return tuple(build(item) for item in value)


def _object(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


def _optional(document: Mapping[str, Any], key: str, build: Callable[[Any], T]) -> T | None:
    value = document.get(key)
    return None if value is None else build(value)


def _attribute_value(value: Any) -> AttributeValue:
    if isinstance(value, bool | str):
        return value
    return exact_decimal(value) if isinstance(value, float) else _whole(value)


def _attribute_value_document(value: AttributeValue) -> Any:
    return json_number(value) if isinstance(value, Decimal) else value


def _money(value: Any) -> Money:
    return Money.from_document(dict(_object(value)))


def _put(document: Document, key: str, value: Any, nulls: frozenset[str]) -> None:
    """Write `value` under `key`; an absent value (None) is left out, unless the document wrote it as null."""
    if value is not None or key in nulls:
        document[key] = value


def _nulls(document: Mapping[str, Any], keys: tuple[str, ...]) -> frozenset[str]:
    return frozenset(key for key in keys if key in document and document[key] is None)


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

    @classmethod
    def from_document(cls, value: Any) -> AttributeMatch:
        """Rebuild from the stored JSON form."""
        document = _object(value)
        return cls(
            template=_text(document["template"]),
            field=_text(document["field"]),
            type=AttributeType(document["type"]),
            value=_optional(document, "value", _attribute_value),
            values=_optional(document, "values", lambda v: _items(v, _attribute_value)),
            nulls=_nulls(document, ("value", "values")),
        )


@dataclass(frozen=True)
class NodeMatch:
    """Matches products in any of these hierarchy nodes."""

    values: tuple[str, ...]

    def to_document(self) -> Document:
        """The stored JSON form."""
        return {"values": list(self.values)}

    @classmethod
    def from_document(cls, value: Any) -> NodeMatch:
        """Rebuild from the stored JSON form."""
        return cls(values=_texts(_object(value)["values"]))


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

    @classmethod
    def from_document(cls, value: Any) -> Condition:
        """Rebuild from the stored JSON form."""
        document = _object(value)
        return cls(
            attribute=_optional(document, "attribute", AttributeMatch.from_document),
            node=_optional(document, "node", NodeMatch.from_document),
            nulls=_nulls(document, ("attribute", "node")),
        )


@dataclass(frozen=True)
class ConditionGroup:
    """Conditions that must all hold (`and`)."""

    all_of: tuple[Condition, ...]

    def to_document(self) -> Document:
        """The stored JSON form."""
        return {"and": [condition.to_document() for condition in self.all_of]}

    @classmethod
    def from_document(cls, value: Any) -> ConditionGroup:
        """Rebuild from the stored JSON form."""
        return cls(all_of=_items(_object(value)["and"], Condition.from_document))


@dataclass(frozen=True)
class Conditions:
    """Groups of which at least one must hold (`or`)."""

    any_of: tuple[ConditionGroup, ...]

    def to_document(self) -> Document:
        """The stored JSON form."""
        return {"or": [group.to_document() for group in self.any_of]}

    @classmethod
    def from_document(cls, value: Any) -> Conditions:
        """Rebuild from the stored JSON form."""
        return cls(any_of=_items(_object(value)["or"], ConditionGroup.from_document))


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

    @classmethod
    def from_document(cls, value: Any) -> Exclusion:
        """Rebuild from the stored JSON form."""
        document = _object(value)
        return cls(
            targets=_optional(document, "targets", _texts),
            nodes=_optional(document, "nodes", _texts),
            attributes=_optional(document, "attributes", lambda v: _items(v, AttributeMatch.from_document)),
            conditions=_optional(document, "conditions", Conditions.from_document),
            nulls=_nulls(document, ("targets", "nodes", "attributes", "conditions")),
        )


_TARGETING_KEYS = (
    "targets",
    "target_nodes",
    "target_attributes",
    "target_conditions",
    "target_catalogs",
    "exclude",
)


def _targets(value: Any) -> tuple[str, ...] | Literal["all"]:
    return ALL_TARGETS if value == ALL_TARGETS else _texts(value)


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

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> ItemTargeting:
        """Rebuild from the stored JSON form."""
        return cls(
            targets=_optional(document, "targets", _targets),
            target_nodes=_optional(document, "target_nodes", _texts),
            target_attributes=_optional(
                document, "target_attributes", lambda v: _items(v, AttributeMatch.from_document)
            ),
            target_conditions=_optional(document, "target_conditions", Conditions.from_document),
            target_catalogs=_optional(document, "target_catalogs", _texts),
            exclude=_optional(document, "exclude", Exclusion.from_document),
            nulls=_nulls(document, _TARGETING_KEYS),
        )


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

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> CartScope:
        """Rebuild from the stored JSON form."""
        return cls(
            target_catalogs=_optional(document, "target_catalogs", _texts),
            exclude=_optional(document, "exclude", Exclusion.from_document),
            conditions=_optional(document, "conditions", Conditions.from_document),
            nulls=_nulls(document, ("target_catalogs", "exclude", "conditions")),
        )


@dataclass(frozen=True)
class Requirement:
    """A bundle requirement: `quantity` units of any of `targets`."""

    targets: tuple[str, ...]
    quantity: int

    def to_document(self) -> Document:
        """The stored JSON form."""
        return {"targets": list(self.targets), "quantity": self.quantity}

    @classmethod
    def from_document(cls, value: Any) -> Requirement:
        """Rebuild from the stored JSON form."""
        document = _object(value)
        return cls(targets=_texts(document["targets"]), quantity=_whole(document["quantity"]))


@dataclass(frozen=True)
class CurrencyPercentage:
    """A percentage that applies in one currency."""

    currency: str
    percentage: Decimal

    def to_document(self) -> Document:
        """The stored JSON form."""
        return {"currency": self.currency, "percentage": json_number(self.percentage)}

    @classmethod
    def from_document(cls, value: Any) -> CurrencyPercentage:
        """Rebuild from the stored JSON form."""
        document = _object(value)
        return cls(currency=_text(document["currency"]), percentage=exact_decimal(document["percentage"]))


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

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> FixedDiscount:
        """Rebuild from the stored JSON form."""
        return cls(currencies=_items(document["currencies"], _money), scope=CartScope.from_document(document))


@dataclass(frozen=True)
class PercentDiscount:
    """Cart: take a percentage, per currency, off every item."""

    promotion_type: ClassVar[PromotionType] = PromotionType.PERCENT_DISCOUNT
    currencies: tuple[CurrencyPercentage, ...]
    scope: CartScope = dataclasses.field(default_factory=CartScope)

    def to_document(self) -> Document:
        """The stored and wire JSON form of the schema."""
        return {**self.scope.to_document(), "currencies": _currencies_document(self.currencies)}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> PercentDiscount:
        """Rebuild from the stored JSON form."""
        return cls(
            currencies=_items(document["currencies"], CurrencyPercentage.from_document),
            scope=CartScope.from_document(document),
        )


@dataclass(frozen=True)
class ItemFixedDiscount:
    """Item: take an amount, per currency, off each eligible unit."""

    promotion_type: ClassVar[PromotionType] = PromotionType.ITEM_FIXED_DISCOUNT
    currencies: tuple[Money, ...]
    targeting: ItemTargeting = dataclasses.field(default_factory=ItemTargeting)

    def to_document(self) -> Document:
        """The stored and wire JSON form of the schema."""
        return {**self.targeting.to_document(), "currencies": _currencies_document(self.currencies)}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> ItemFixedDiscount:
        """Rebuild from the stored JSON form."""
        return cls(
            currencies=_items(document["currencies"], _money),
            targeting=ItemTargeting.from_document(document),
        )


@dataclass(frozen=True)
class ItemPercentDiscount:
    """Item: take a percentage off each eligible unit."""

    promotion_type: ClassVar[PromotionType] = PromotionType.ITEM_PERCENT_DISCOUNT
    percent: Decimal
    targeting: ItemTargeting = dataclasses.field(default_factory=ItemTargeting)

    def to_document(self) -> Document:
        """The stored and wire JSON form of the schema."""
        return {**self.targeting.to_document(), "percent": json_number(self.percent)}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> ItemPercentDiscount:
        """Rebuild from the stored JSON form."""
        return cls(
            percent=exact_decimal(document["percent"]), targeting=ItemTargeting.from_document(document)
        )


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

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> XForY:
        """Rebuild from the stored JSON form."""
        return cls(
            x=_whole(document["x"]), y=_whole(document["y"]), targeting=ItemTargeting.from_document(document)
        )


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

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> XForAmount:
        """Rebuild from the stored JSON form."""
        return cls(
            x=_whole(document["x"]),
            currencies=_items(document["currencies"], _money),
            targeting=ItemTargeting.from_document(document),
        )


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

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> BundleFixedDiscount:
        """Rebuild from the stored JSON form."""
        return cls(
            requirements=_items(document["requirements"], Requirement.from_document),
            currencies=_items(document["currencies"], _money),
            target_catalogs=_optional(document, "target_catalogs", _texts),
            nulls=_nulls(document, ("target_catalogs",)),
        )


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

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> BundleGift:
        """Rebuild from the stored JSON form."""
        auto_add = document.get("auto_add_free_gift")
        if auto_add is not None and not isinstance(auto_add, bool):
            raise TypeError("auto_add_free_gift must be a boolean")
        return cls(
            requirements=_items(document["requirements"], Requirement.from_document),
            gifts=_texts(document["gifts"]),
            auto_add_free_gift=auto_add,
            target_catalogs=_optional(document, "target_catalogs", _texts),
            nulls=_nulls(document, ("target_catalogs",)),
        )


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


def rules_from_document(promotion_type: str, document: Mapping[str, Any]) -> PromotionRules:
    """Rebuild a promotion's typed rules from its stored `schema` document."""
    return RULE_CLASSES[PromotionType(promotion_type)].from_document(_object(document))


def schema_rule_problems(rules: PromotionRules) -> list[FieldProblem]:
    """Return problems with rules that span several fields of a well-formed schema."""
    problems = ProblemList()
    base = "data.schema"
    targeting = getattr(rules, "targeting", None)
    if isinstance(targeting, ItemTargeting) and targeting.targets == ALL_TARGETS and targeting.target_nodes:
        problems.add(f"{base}.target_nodes", 'targets "all" cannot be combined with target_nodes')
    if isinstance(rules, XForY) and not rules.y < rules.x:
        problems.add(f"{base}.y", "y (units paid for) must be less than x (units taken)")
    currencies: Sequence[Money | CurrencyPercentage] | None = getattr(rules, "currencies", None)
    if currencies is not None:
        _duplicate_currency_problems(currencies, f"{base}.currencies", problems)
    return problems.problems


def money_list_problems(values: Sequence[Money] | None, source: str) -> list[FieldProblem]:
    """Return problems with a list of per-currency amounts (one entry per currency)."""
    problems = ProblemList()
    if values:
        _duplicate_currency_problems(values, source, problems)
    return problems.problems


def _duplicate_currency_problems(
    entries: Sequence[Money | CurrencyPercentage], source: str, problems: ProblemList
) -> None:
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if entry.currency in seen:
            problems.add(f"{source}.{index}.currency", f"currency {entry.currency} is listed twice")
        seen.add(entry.currency)
