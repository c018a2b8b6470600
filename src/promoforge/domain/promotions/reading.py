"""Reading typed rules back from their stored JSON form, checking each JSON type so a wrong document fails."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from promoforge.domain.money import Money, exact_decimal
from promoforge.domain.promotions.rules import (
    ALL_TARGETS,
    AttributeMatch,
    AttributeType,
    AttributeValue,
    BundleFixedDiscount,
    BundleGift,
    CartScope,
    Condition,
    ConditionGroup,
    Conditions,
    CurrencyPercentage,
    Exclusion,
    FixedDiscount,
    ItemFixedDiscount,
    ItemPercentDiscount,
    ItemTargeting,
    NodeMatch,
    PercentDiscount,
    PromotionRules,
    PromotionType,
    Requirement,
    XForAmount,
    XForY,
)

T = TypeVar("T")

_TARGETING_KEYS = (
    "targets",
    "target_nodes",
    "target_attributes",
    "target_conditions",
    "target_catalogs",
    "exclude",
)


def rules_from_document(promotion_type: str, document: Mapping[str, Any]) -> PromotionRules:
    """Rebuild a promotion's typed rules from its stored `schema` document."""
    return _RULE_READERS[PromotionType(promotion_type)](_object(document))


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


def _nulls(document: Mapping[str, Any], keys: tuple[str, ...]) -> frozenset[str]:
    """The optional fields the document wrote as null, so the rules render back unchanged."""
    return frozenset(key for key in keys if key in document and document[key] is None)


def _attribute_value(value: Any) -> AttributeValue:
    if isinstance(value, bool | str):
        return value
    return exact_decimal(value) if isinstance(value, float) else _whole(value)


def _money(value: Any) -> Money:
    return Money.from_document(dict(_object(value)))


def _targets(value: Any) -> tuple[str, ...] | Literal["all"]:
    return ALL_TARGETS if value == ALL_TARGETS else _texts(value)


def _attribute_match(value: Any) -> AttributeMatch:
    document = _object(value)
    return AttributeMatch(
        template=_text(document["template"]),
        field=_text(document["field"]),
        type=AttributeType(document["type"]),
        value=_optional(document, "value", _attribute_value),
        values=_optional(document, "values", lambda v: _items(v, _attribute_value)),
        nulls=_nulls(document, ("value", "values")),
    )


def _attribute_matches(value: Any) -> tuple[AttributeMatch, ...]:
    return _items(value, _attribute_match)


def _node_match(value: Any) -> NodeMatch:
    return NodeMatch(values=_texts(_object(value)["values"]))


def _condition(value: Any) -> Condition:
    document = _object(value)
    return Condition(
        attribute=_optional(document, "attribute", _attribute_match),
        node=_optional(document, "node", _node_match),
        nulls=_nulls(document, ("attribute", "node")),
    )


def _condition_group(value: Any) -> ConditionGroup:
    return ConditionGroup(all_of=_items(_object(value)["and"], _condition))


def _conditions(value: Any) -> Conditions:
    return Conditions(any_of=_items(_object(value)["or"], _condition_group))


def _exclusion(value: Any) -> Exclusion:
    document = _object(value)
    return Exclusion(
        targets=_optional(document, "targets", _texts),
        nodes=_optional(document, "nodes", _texts),
        attributes=_optional(document, "attributes", _attribute_matches),
        conditions=_optional(document, "conditions", _conditions),
        nulls=_nulls(document, ("targets", "nodes", "attributes", "conditions")),
    )


def _item_targeting(document: Mapping[str, Any]) -> ItemTargeting:
    return ItemTargeting(
        targets=_optional(document, "targets", _targets),
        target_nodes=_optional(document, "target_nodes", _texts),
        target_attributes=_optional(document, "target_attributes", _attribute_matches),
        target_conditions=_optional(document, "target_conditions", _conditions),
        target_catalogs=_optional(document, "target_catalogs", _texts),
        exclude=_optional(document, "exclude", _exclusion),
        nulls=_nulls(document, _TARGETING_KEYS),
    )


def _cart_scope(document: Mapping[str, Any]) -> CartScope:
    return CartScope(
        target_catalogs=_optional(document, "target_catalogs", _texts),
        exclude=_optional(document, "exclude", _exclusion),
        conditions=_optional(document, "conditions", _conditions),
        nulls=_nulls(document, ("target_catalogs", "exclude", "conditions")),
    )


def _requirement(value: Any) -> Requirement:
    document = _object(value)
    return Requirement(targets=_texts(document["targets"]), quantity=_whole(document["quantity"]))


def _currency_percentage(value: Any) -> CurrencyPercentage:
    document = _object(value)
    return CurrencyPercentage(
        currency=_text(document["currency"]), percentage=exact_decimal(document["percentage"])
    )


def _fixed_discount(document: Mapping[str, Any]) -> FixedDiscount:
    return FixedDiscount(currencies=_items(document["currencies"], _money), scope=_cart_scope(document))


def _percent_discount(document: Mapping[str, Any]) -> PercentDiscount:
    return PercentDiscount(
        currencies=_items(document["currencies"], _currency_percentage), scope=_cart_scope(document)
    )


def _item_fixed_discount(document: Mapping[str, Any]) -> ItemFixedDiscount:
    return ItemFixedDiscount(
        currencies=_items(document["currencies"], _money), targeting=_item_targeting(document)
    )


def _item_percent_discount(document: Mapping[str, Any]) -> ItemPercentDiscount:
    return ItemPercentDiscount(
        percent=exact_decimal(document["percent"]), targeting=_item_targeting(document)
    )


def _x_for_y(document: Mapping[str, Any]) -> XForY:
    return XForY(x=_whole(document["x"]), y=_whole(document["y"]), targeting=_item_targeting(document))


def _x_for_amount(document: Mapping[str, Any]) -> XForAmount:
    return XForAmount(
        x=_whole(document["x"]),
        currencies=_items(document["currencies"], _money),
        targeting=_item_targeting(document),
    )


def _bundle_fixed_discount(document: Mapping[str, Any]) -> BundleFixedDiscount:
    return BundleFixedDiscount(
        requirements=_items(document["requirements"], _requirement),
        currencies=_items(document["currencies"], _money),
        target_catalogs=_optional(document, "target_catalogs", _texts),
        nulls=_nulls(document, ("target_catalogs",)),
    )


def _bundle_gift(document: Mapping[str, Any]) -> BundleGift:
    auto_add = document.get("auto_add_free_gift")
    if auto_add is not None and not isinstance(auto_add, bool):
        raise TypeError("auto_add_free_gift must be a boolean")
    return BundleGift(
        requirements=_items(document["requirements"], _requirement),
        gifts=_texts(document["gifts"]),
        auto_add_free_gift=auto_add,
        target_catalogs=_optional(document, "target_catalogs", _texts),
        nulls=_nulls(document, ("target_catalogs",)),
    )


_RULE_READERS: Mapping[PromotionType, Callable[[Mapping[str, Any]], PromotionRules]] = {
    PromotionType.FIXED_DISCOUNT: _fixed_discount,
    PromotionType.PERCENT_DISCOUNT: _percent_discount,
    PromotionType.ITEM_FIXED_DISCOUNT: _item_fixed_discount,
    PromotionType.ITEM_PERCENT_DISCOUNT: _item_percent_discount,
    PromotionType.X_FOR_Y: _x_for_y,
    PromotionType.X_FOR_AMOUNT: _x_for_amount,
    PromotionType.BUNDLE_FIXED_DISCOUNT: _bundle_fixed_discount,
    PromotionType.BUNDLE_GIFT: _bundle_gift,
}
