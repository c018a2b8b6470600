"""Invariants of the discount engine over random carts and promotions (Hypothesis)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pricing_builders import custom, offer, price, product, usd, usd_percent
from promoforge.domain.pricing import CartLine, Offer, PricedCart
from promoforge.domain.promotions import FixedDiscount, ItemFixedDiscount

SKUS = ("A", "B", "C", "D")


@st.composite
def cart_lines(draw: st.DrawFn, *, distinct_skus: bool = False) -> list[CartLine]:
    """1 to 6 product or custom lines over a few SKUs, prices from 0 to 200.00."""
    count = draw(st.integers(1, len(SKUS) if distinct_skus else 6))
    skus = draw(st.permutations(SKUS)) if distinct_skus else None
    lines: list[CartLine] = []
    for index in range(count):
        sku = skus[index] if skus is not None else draw(st.sampled_from(SKUS))
        unit_price = draw(st.integers(0, 20000))
        quantity = draw(st.integers(1, 6))
        if draw(st.booleans()):
            lines.append(
                product(
                    f"L{index}",
                    sku,
                    unit_price,
                    quantity,
                    catalog_id=draw(st.sampled_from(("c1", "c2"))),
                    nodes=tuple(draw(st.sets(st.sampled_from(("n1", "n2", "n3")), max_size=2))),
                )
            )
        else:
            lines.append(custom(f"L{index}", sku, unit_price, quantity))
    return lines


def _targeting(draw: st.DrawFn) -> dict[str, Any]:
    form = draw(st.sampled_from(("targets", "all", "nodes", "catalogs")))
    targeting: dict[str, Any]
    if form == "targets":
        targeting = {"targets": sorted(draw(st.sets(st.sampled_from(SKUS), min_size=1)))}
    elif form == "all":
        targeting = {"targets": "all"}
    elif form == "nodes":
        targeting = {"target_nodes": sorted(draw(st.sets(st.sampled_from(("n1", "n2", "n3")), min_size=1)))}
    else:
        targeting = {"targets": "all", "target_catalogs": ["c1"]}
    if draw(st.booleans()):
        targeting["exclude"] = {"targets": [draw(st.sampled_from(SKUS))]}
    return targeting


@st.composite
def offers(draw: st.DrawFn, *, order_free: bool = False) -> list[Offer]:
    """0 to 5 promotions of every type with random caps, uses and ages.

    `order_free` leaves out what the spec makes depend on line order: per-item budgets, per-product
    application caps, bundles and caps spread by largest remainder.
    """
    types = [
        "fixed_discount",
        "percent_discount",
        "item_fixed_discount",
        "item_percent_discount",
        "x_for_y",
        "x_for_amount",
    ]
    if not order_free:
        types += ["bundle_fixed_discount", "bundle_gift"]
    chosen: list[Offer] = []
    for index in range(draw(st.integers(0, 5))):
        promotion_type = draw(st.sampled_from(types))
        schema: dict[str, Any] = {}
        if promotion_type == "fixed_discount":
            schema = {"currencies": usd(draw(st.integers(1, 30000)))}
        elif promotion_type == "percent_discount":
            schema = {
                "currencies": usd_percent(str(draw(st.decimals(Decimal("0.000001"), Decimal(100), places=6))))
            }
        elif promotion_type == "item_fixed_discount":
            schema = {"currencies": usd(draw(st.integers(1, 5000))), **_targeting(draw)}
        elif promotion_type == "item_percent_discount":
            schema = {
                "percent": draw(st.decimals(Decimal("0.000001"), Decimal(100), places=6)),
                **_targeting(draw),
            }
        elif promotion_type == "x_for_y":
            x = draw(st.integers(2, 4))
            schema = {"x": x, "y": draw(st.integers(1, x - 1)), **_targeting(draw)}
        elif promotion_type == "x_for_amount":
            schema = {
                "x": draw(st.integers(2, 4)),
                "currencies": usd(draw(st.integers(0, 20000))),
                **_targeting(draw),
            }
        else:
            requirements = [
                {
                    "targets": sorted(draw(st.sets(st.sampled_from(SKUS), min_size=1))),
                    "quantity": draw(st.integers(1, 3)),
                }
                for _ in range(draw(st.integers(1, 2)))
            ]
            schema = {"requirements": requirements}
            if promotion_type == "bundle_fixed_discount":
                schema["currencies"] = usd(draw(st.integers(0, 20000)))
            else:
                schema["gifts"] = sorted(draw(st.sets(st.sampled_from(SKUS), min_size=1, max_size=2)))
        extra: dict[str, Any] = {}
        if not order_free:
            if draw(st.booleans()):
                extra["max_discount_value"] = {"USD": draw(st.integers(1, 20000))}
            if draw(st.booleans()):
                extra["max_applications_per_cart"] = draw(st.integers(0, 3))
            if draw(st.booleans()):
                extra["uses"] = draw(st.integers(1, 5))
                extra["per_item"] = True
        if draw(st.booleans()):
            extra["min_cart_value"] = {"USD": draw(st.integers(0, 50000))}
        chosen.append(offer(f"p{index}", promotion_type, age=draw(st.integers(0, 1000)), **extra, **schema))
    return chosen


def _claimed_units(cart: PricedCart) -> Counter[str]:
    units: Counter[str] = Counter()
    for line in cart.lines:
        units[line.line_id] += sum(d.units for d in line.item_discounts)
    return units


@settings(max_examples=300, deadline=None)
@given(lines=cart_lines(), offered=offers())
def test_totals_shares_caps_and_bounds_hold(lines: list[CartLine], offered: list[Offer]) -> None:
    cart = price(lines, *offered)

    totals = cart.totals
    assert totals.without_discount == sum(line.value for line in lines)
    assert totals.discount == sum(line.discount for line in cart.lines)
    assert totals.with_tax == totals.without_discount - totals.discount >= 0
    for priced, line in zip(cart.lines, lines, strict=True):
        assert priced.discounted_value >= 0
        display = priced.display()
        assert display.with_tax.value >= 0 and display.discount.value <= 0
        # Each unit carries at most one item-level promotion.
        assert _claimed_units(cart)[line.id] <= line.quantity
        assert len({d.promotion_id for d in priced.item_discounts}) == len(priced.item_discounts)

    by_id = {o.promotion_id: o for o in offered}
    for application in cart.applications:
        given_on_lines = sum(
            d.amount
            for line in cart.lines
            for d in (*line.item_discounts, *line.cart_shares)
            if d.promotion_id == application.promotion_id
        )
        assert given_on_lines == application.amount > 0  # shares add up to the promotion's discount exactly
        attributes = by_id[application.promotion_id].attributes
        for cap in attributes.max_discount_value or ():
            assert application.amount <= cap.amount
        rules = attributes.schema
        if isinstance(rules, FixedDiscount):
            assert application.amount <= rules.currencies[0].amount
        if isinstance(rules, ItemFixedDiscount):
            for line in cart.lines:
                for d in line.item_discounts:
                    if d.promotion_id == application.promotion_id:
                        assert d.amount <= d.units * rules.currencies[0].amount
        budget = by_id[application.promotion_id].application_budget
        if budget is not None:
            assert application.applications <= budget
    for promotion_line in cart.cart_promotions:
        shares = sum(
            d.amount
            for line in cart.lines
            for d in line.cart_shares
            if d.promotion_id == promotion_line.promotion_id
        )
        assert shares == promotion_line.amount


@settings(max_examples=200, deadline=None)
@given(lines=cart_lines(), offered=offers(), pick=st.integers(0, 4))
def test_removing_the_only_applied_code_restores_the_undiscounted_total(
    lines: list[CartLine], offered: list[Offer], pick: int
) -> None:
    if not offered:
        return
    single = offered[pick % len(offered)]
    with_code = price(lines, single)
    without = price(lines)
    assert without.totals.discount == 0
    assert without.totals.with_tax == with_code.totals.without_discount
    assert with_code.totals.with_tax + with_code.totals.discount == without.totals.with_tax


@settings(max_examples=200, deadline=None)
@given(lines=cart_lines(distinct_skus=True), offered=offers(order_free=True), data=st.data())
def test_the_order_lines_were_added_in_does_not_change_the_discounts(
    lines: list[CartLine], offered: list[Offer], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(lines))
    first, second = price(lines, *offered), price(list(shuffled), *offered)

    assert sorted((a.promotion_id, a.amount) for a in first.applications) == sorted(
        (a.promotion_id, a.amount) for a in second.applications
    )
    item_level = {line.line_id: line.item_discounts for line in first.lines}
    assert item_level == {line.line_id: line.item_discounts for line in second.lines}
    # Cart-level shares differ only where the spec's tie-break (earlier line) decides between equal lines.
    values = [line.value - sum(d.amount for d in line.item_discounts) for line in first.lines]
    if len(first.cart_promotions) <= 1 and len(set(values)) == len(values):
        assert {line.line_id: line.cart_shares for line in first.lines} == {
            line.line_id: line.cart_shares for line in second.lines
        }
