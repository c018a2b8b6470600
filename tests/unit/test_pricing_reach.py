"""The engine's indexed targeting answers exactly as the per-line checks do, over random carts and rules."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pricing_builders import custom, product
from promoforge.domain.pricing import CartLine
from promoforge.domain.pricing.targeting import (
    CartReach,
    in_catalogs,
    is_listed,
    reaches_for_cart,
    reaches_item,
)
from promoforge.domain.promotions import (
    ALL_TARGETS,
    AttributeMatch,
    AttributeType,
    CartScope,
    Condition,
    ConditionGroup,
    Conditions,
    Exclusion,
    ItemTargeting,
    NodeMatch,
)

NAMES = ("A", "B", "id-A", "id-C", "")
CATALOGS = ("c1", "c2")
NODES = ("n1", "n2", "n3")
TEMPLATES = ("t1", "t2")
FIELDS = ("f", "g")
# Product and rule values of every JSON shape, so conversions that fail or agree across types are covered.
VALUES = st.one_of(
    st.sampled_from(("x", "y", "true", "False", "1", "1.0", " 2 ", "2024-05-01", "2024-05-01T10:00", "nan")),
    st.integers(-2, 2),
    st.sampled_from((Decimal("1.0"), Decimal("2"), Decimal("-0"), Decimal("0.5"))),
    st.sampled_from((1.0, 0.5, 2.5)),
    st.booleans(),
)


@st.composite
def lines(draw: st.DrawFn) -> list[CartLine]:
    """0 to 6 product or custom lines over a few names, catalogs, nodes and attribute values."""
    drawn: list[CartLine] = []
    for index in range(draw(st.integers(0, 6))):
        sku = draw(st.sampled_from(NAMES))
        if draw(st.booleans()):
            attributes = draw(
                st.dictionaries(
                    st.sampled_from(TEMPLATES), st.dictionaries(st.sampled_from(FIELDS), VALUES), max_size=2
                )
            )
            drawn.append(
                product(
                    f"L{index}",
                    sku,
                    100,
                    product_id=draw(st.sampled_from(NAMES[1:4])),
                    catalog_id=draw(st.sampled_from((*CATALOGS, None))),
                    nodes=tuple(draw(st.sets(st.sampled_from(NODES), max_size=2))),
                    attributes=attributes,
                )
            )
        else:
            drawn.append(custom(f"L{index}", sku, 100))
    return drawn


def _optional_texts(draw: st.DrawFn, pool: tuple[str, ...]) -> tuple[str, ...] | None:
    return draw(st.none() | st.lists(st.sampled_from(pool), max_size=3).map(tuple))


@st.composite
def attribute_matches(draw: st.DrawFn) -> AttributeMatch:
    """A match on one template field, with a value, values, both or neither."""
    return AttributeMatch(
        template=draw(st.sampled_from(TEMPLATES)),
        field=draw(st.sampled_from(FIELDS)),
        type=draw(st.sampled_from(AttributeType)),
        value=draw(st.none() | VALUES),
        values=draw(st.none() | st.lists(VALUES, max_size=3).map(tuple)),
    )


@st.composite
def conditions(draw: st.DrawFn) -> Conditions:
    """Or-groups of and-conditions, some of them empty."""
    condition = st.builds(
        Condition,
        attribute=st.none() | attribute_matches(),
        node=st.none() | st.lists(st.sampled_from(NODES), max_size=2).map(lambda v: NodeMatch(tuple(v))),
    )
    groups = st.lists(condition, max_size=3).map(lambda c: ConditionGroup(tuple(c)))
    return Conditions(tuple(draw(st.lists(groups, max_size=3))))


@st.composite
def exclusions(draw: st.DrawFn) -> Exclusion | None:
    """No exclusion, or one with any of its four criteria."""
    if draw(st.booleans()):
        return None
    return Exclusion(
        targets=_optional_texts(draw, NAMES),
        nodes=_optional_texts(draw, NODES),
        attributes=draw(st.none() | st.lists(attribute_matches(), max_size=2).map(tuple)),
        conditions=draw(st.none() | conditions()),
    )


@st.composite
def targetings(draw: st.DrawFn) -> ItemTargeting:
    """Any mix of the four targeting forms, catalogs and an exclusion."""
    return ItemTargeting(
        targets=draw(
            st.none() | st.just(ALL_TARGETS) | st.lists(st.sampled_from(NAMES), max_size=3).map(tuple)
        ),
        target_nodes=_optional_texts(draw, NODES),
        target_attributes=draw(st.none() | st.lists(attribute_matches(), max_size=2).map(tuple)),
        target_conditions=draw(st.none() | conditions()),
        target_catalogs=_optional_texts(draw, CATALOGS),
        exclude=draw(exclusions()),
    )


@st.composite
def scopes(draw: st.DrawFn) -> CartScope:
    """A cart-level scope with catalogs, conditions and an exclusion, each optional."""
    return CartScope(
        target_catalogs=_optional_texts(draw, CATALOGS),
        exclude=draw(exclusions()),
        conditions=draw(st.none() | conditions()),
    )


@settings(max_examples=500, deadline=None)
@given(
    cart=lines(), targeting=targetings(), scope=scopes(), listed=st.lists(st.sampled_from(NAMES), max_size=3)
)
def test_indexed_reach_equals_the_per_line_checks(
    cart: list[CartLine], targeting: ItemTargeting, scope: CartScope, listed: list[str]
) -> None:
    reach = CartReach(cart)
    assert reach.item_lines(targeting) == [i for i, line in enumerate(cart) if reaches_item(line, targeting)]
    assert reach.cart_lines(scope) == [i for i, line in enumerate(cart) if reaches_for_cart(line, scope)]
    catalogs = targeting.target_catalogs
    assert reach.listed_lines(listed, catalogs) == [
        i for i, line in enumerate(cart) if in_catalogs(line, catalogs) and is_listed(line, listed)
    ]
