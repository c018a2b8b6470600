"""Which lines a promotion reaches: catalogs, targets, nodes, attributes, conditions, exclusions (§6.4)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
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


_AttributeKey = tuple[str, str, AttributeType]


class CartReach:
    """Which of one cart's lines a rule takes in, as line indexes, from indexes built once per pricing.

    Answers exactly as the per-line checks above would, but looks rule values up instead of testing every
    line against every promotion.
    """

    def __init__(self, lines: Sequence[CartLine]) -> None:
        self.lines = lines
        self.everything: frozenset[int] = frozenset(range(len(lines)))
        self._products: list[tuple[int, ProductFacts]] = []
        self._by_name: dict[str, set[int]] = {}
        self._by_catalog: dict[str, set[int]] = {}
        self._by_node: dict[str, set[int]] = {}
        self._by_attribute: dict[_AttributeKey, dict[object, set[int]]] = {}
        for index, line in enumerate(lines):
            if line.sku:
                self._by_name.setdefault(line.sku, set()).add(index)
            product = line.product
            if product is None:
                continue
            self._products.append((index, product))
            self._by_name.setdefault(product.product_id, set()).add(index)
            if product.catalog_id is not None:
                self._by_catalog.setdefault(product.catalog_id, set()).add(index)
            for node in product.node_ids:
                self._by_node.setdefault(node, set()).add(index)

    def item_lines(self, targeting: ItemTargeting) -> list[int]:
        """The lines `reaches_item` takes in, in cart order."""
        reached = self.targeted(targeting)
        if reached and targeting.target_catalogs:
            reached = reached & self.in_catalogs(targeting.target_catalogs)
        if reached and targeting.exclude is not None:
            reached = reached - self.excluded(targeting.exclude)
        return sorted(reached)

    def cart_lines(self, scope: CartScope) -> list[int]:
        """The lines `reaches_for_cart` counts, in cart order."""
        reached = self.in_catalogs(scope.target_catalogs)
        if reached and scope.conditions is not None:
            reached = reached & self.meeting(scope.conditions)
        if reached and scope.exclude is not None:
            reached = reached - self.excluded(scope.exclude)
        return sorted(reached)

    def listed_lines(self, listed: Iterable[str], catalogs: tuple[str, ...] | None) -> list[int]:
        """The lines `is_listed` and `in_catalogs` both take in, in cart order."""
        found = self.listed(listed)
        if found and catalogs:
            found &= self.in_catalogs(catalogs)
        return sorted(found)

    def in_catalogs(self, catalogs: tuple[str, ...] | None) -> AbstractSet[int]:
        """The lines `in_catalogs` takes in."""
        if not catalogs:
            return self.everything
        return self._union(self._by_catalog, catalogs)

    def listed(self, listed: Iterable[str]) -> set[int]:
        """The lines `is_listed` takes in."""
        return self._union(self._by_name, listed)

    def targeted(self, targeting: ItemTargeting) -> AbstractSet[int]:
        """The lines `_targeted` takes in."""
        if targeting.targets == ALL_TARGETS:
            return self.everything
        found: set[int] = set()
        if targeting.targets:
            found |= self.listed(targeting.targets)
        if targeting.target_nodes:
            found |= self._union(self._by_node, targeting.target_nodes)
        for match in targeting.target_attributes or ():
            found |= self.holding(match)
        if targeting.target_conditions is not None:
            found |= self.meeting(targeting.target_conditions)
        return found

    def excluded(self, exclusion: Exclusion) -> set[int]:
        """The lines `is_excluded` takes out."""
        found: set[int] = set()
        if exclusion.targets:
            found |= self.listed(exclusion.targets)
        if exclusion.nodes:
            found |= self._union(self._by_node, exclusion.nodes)
        for match in exclusion.attributes or ():
            found |= self.holding(match)
        if exclusion.conditions is not None:
            found |= self.meeting(exclusion.conditions)
        return found

    def meeting(self, conditions: Conditions) -> set[int]:
        """The product lines `_meets_conditions` holds for."""
        found: set[int] = set()
        for group in conditions.any_of:
            if not group.all_of:
                continue
            members: set[int] | None = None
            for condition in group.all_of:
                held = self._condition_lines(condition)
                members = held if members is None else members & held
                if not members:
                    break
            if members:
                found |= members
        return found

    def holding(self, match: AttributeMatch) -> set[int]:
        """The product lines `_attribute_holds` holds for."""
        key = (match.template, match.field, match.type)
        by_value = self._by_attribute.get(key)
        if by_value is None:
            by_value = self._by_attribute[key] = self._attribute_index(*key)
        wanted: list[AttributeValue] = [] if match.value is None else [match.value]
        wanted.extend(match.values or ())
        found: set[int] = set()
        for value in wanted:
            comparable = _comparable(value, match.type)
            # Rule and product values are converted to one type (str, bool, Decimal or date), whose hash
            # agrees with `==`, so a dict lookup finds exactly the lines the comparison would.
            if comparable is not None and comparable in by_value:
                found |= by_value[comparable]
        return found

    def _condition_lines(self, condition: Condition) -> set[int]:
        if condition.attribute is None and condition.node is None:
            return set()
        held: set[int] | None = None
        if condition.attribute is not None:
            held = self.holding(condition.attribute)
        if condition.node is not None:
            in_nodes = self._union(self._by_node, condition.node.values)
            held = in_nodes if held is None else held & in_nodes
        assert held is not None
        return held

    def _attribute_index(self, template: str, field: str, kind: AttributeType) -> dict[object, set[int]]:
        by_value: dict[object, set[int]] = {}
        for index, product in self._products:
            fields = product.attributes.get(template)
            if fields is None or field not in fields:
                continue
            actual = _comparable(fields[field], kind)
            if actual is not None:
                by_value.setdefault(actual, set()).add(index)
        return by_value

    @staticmethod
    def _union(index: dict[str, set[int]], keys: Iterable[str]) -> set[int]:
        found: set[int] = set()
        for key in keys:
            lines = index.get(key)
            if lines:
                found |= lines
        return found
