"""Which lines a promotion reaches: catalogs, targets, nodes, attributes, conditions, exclusions (§6.4)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation

from promoforge.domain.money import exact_decimal
from promoforge.domain.pricing.inputs import CartLine, ProductFacts
from promoforge.domain.promotions import (
    ALL_TARGETS,
    AttributeMatch,
    AttributeType,
    AttributeValue,
    CartScope,
    Condition,
    Conditions,
    Exclusion,
    ItemTargeting,
)


def in_catalogs(line: CartLine, catalogs: tuple[str, ...] | None) -> bool:
    """Whether the line passes a `target_catalogs` check; custom items are in no catalog (P13)."""
    if not catalogs:
        return True
    return line.product is not None and line.product.catalog_id in catalogs


def is_listed(line: CartLine, listed: Iterable[str]) -> bool:
    """Whether the line's SKU or product id is in a `targets` list; exact, case-sensitive (B48)."""
    names = set(listed)
    if line.sku and line.sku in names:
        return True
    return line.product is not None and line.product.product_id in names


def reaches_item(line: CartLine, targeting: ItemTargeting) -> bool:
    """Whether an item-level promotion's targeting takes in the line (its units may still be claimed)."""
    if not in_catalogs(line, targeting.target_catalogs):
        return False
    if not _targeted(line, targeting):
        return False
    return not is_excluded(line, targeting.exclude)


def reaches_for_cart(line: CartLine, scope: CartScope) -> bool:
    """Whether a cart-level promotion counts the line (B34: custom items unless catalogs are set)."""
    if not in_catalogs(line, scope.target_catalogs):
        return False
    if scope.conditions is not None and not _meets_conditions(line.product, scope.conditions):
        return False
    return not is_excluded(line, scope.exclude)


def is_excluded(line: CartLine, exclusion: Exclusion | None) -> bool:
    """Whether the line matches any criterion of an `exclude`."""
    if exclusion is None:
        return False
    if exclusion.targets and is_listed(line, exclusion.targets):
        return True
    product = line.product
    if product is None:
        return False
    if exclusion.nodes and product.node_ids.intersection(exclusion.nodes):
        return True
    if exclusion.attributes and any(_attribute_holds(product, match) for match in exclusion.attributes):
        return True
    return exclusion.conditions is not None and _meets_conditions(product, exclusion.conditions)


def _targeted(line: CartLine, targeting: ItemTargeting) -> bool:
    # At least one of the four targeting forms must take the line in; none given takes in nothing (§6.4).
    if targeting.targets == ALL_TARGETS:
        return True
    if targeting.targets and is_listed(line, targeting.targets):
        return True
    product = line.product
    if product is None:
        return False  # custom items are reached only by `targets` (B34)
    if targeting.target_nodes and product.node_ids.intersection(targeting.target_nodes):
        return True
    if targeting.target_attributes and any(
        _attribute_holds(product, match) for match in targeting.target_attributes
    ):
        return True
    return targeting.target_conditions is not None and _meets_conditions(product, targeting.target_conditions)


def _meets_conditions(product: ProductFacts | None, conditions: Conditions) -> bool:
    if product is None:
        return False
    return any(
        group.all_of and all(_condition_holds(product, condition) for condition in group.all_of)
        for group in conditions.any_of
    )


def _condition_holds(product: ProductFacts, condition: Condition) -> bool:
    if condition.attribute is None and condition.node is None:
        return False
    if condition.attribute is not None and not _attribute_holds(product, condition.attribute):
        return False
    return condition.node is None or bool(product.node_ids.intersection(condition.node.values))


def _attribute_holds(product: ProductFacts, match: AttributeMatch) -> bool:
    fields = product.attributes.get(match.template)
    if fields is None or match.field not in fields:
        return False
    actual = _comparable(fields[match.field], match.type)
    if actual is None:
        return False
    wanted: list[AttributeValue] = [] if match.value is None else [match.value]
    wanted.extend(match.values or ())
    return any(_comparable(value, match.type) == actual for value in wanted)


def _comparable(value: object, kind: AttributeType) -> object:
    """A product or rule value converted to the attribute's type, or None when it has no such reading."""
    try:
        if kind is AttributeType.STRING:
            return value if isinstance(value, str) else None
        if kind is AttributeType.BOOLEAN:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            return None
        if kind in (AttributeType.INTEGER, AttributeType.FLOAT):
            if isinstance(value, bool):
                return None
            number = Decimal(value.strip()) if isinstance(value, str) else exact_decimal(value)
            if not number.is_finite() or (kind is AttributeType.INTEGER and number != number.to_integral()):
                return None
            return number
        if isinstance(value, str):  # dates compare by calendar day
            return date.fromisoformat(value[:10])
        return None
    except (InvalidOperation, TypeError, ValueError):
        return None
