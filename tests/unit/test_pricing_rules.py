"""One table per rule of §6 and the B-decisions it names, each case written from the spec."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from pricing_builders import (
    NOW,
    custom,
    item_discounts,
    line_discounts,
    offer,
    price,
    product,
    usd,
    usd_percent,
)
from promoforge.domain.pricing import (
    CartLine,
    GiftSuggestion,
    SkipReason,
    apportion,
    divide_rounded,
    percent_of,
)

SHOES = {
    "products(shoes)": {"brand": "adidas", "size": 42, "weight": 0.35, "vegan": True, "since": "2024-05-01"}
}


def shoe(line_id: str = "S", quantity: int = 1, **facts: Any) -> CartLine:
    """A 10000 shoe in catalog-1 under node n-shoes of hierarchy h-1, with template attributes."""
    defaults: dict[str, Any] = {"nodes": ("n-shoes", "h-1"), "attributes": SHOES}
    return product(line_id, "SHOE", 10000, quantity, product_id="p-shoe", **{**defaults, **facts})


# §6.4 targeting: each form on its own, for an item-level promotion of 10 %.

TARGETING_CASES = [
    ("sku listed", {"targets": ["SHOE"]}, True),
    ("product id listed", {"targets": ["p-shoe"]}, True),
    ("sku compared case-sensitively (B48)", {"targets": ["shoe"]}, False),
    ("targets all", {"targets": "all"}, True),
    ("other sku", {"targets": ["SOCK"]}, False),
    ("node", {"target_nodes": ["n-shoes"]}, True),
    ("hierarchy id counts as a node", {"target_nodes": ["h-1"]}, True),
    ("other node", {"target_nodes": ["n-socks"]}, False),
    (
        "string attribute",
        {
            "target_attributes": [
                {"template": "products(shoes)", "field": "brand", "type": "string", "value": "adidas"}
            ]
        },
        True,
    ),
    (
        "string attribute is case-sensitive",
        {
            "target_attributes": [
                {"template": "products(shoes)", "field": "brand", "type": "string", "value": "Adidas"}
            ]
        },
        False,
    ),
    (
        "integer attribute",
        {
            "target_attributes": [
                {"template": "products(shoes)", "field": "size", "type": "integer", "value": 42}
            ]
        },
        True,
    ),
    (
        "float attribute, exact decimal",
        {
            "target_attributes": [
                {"template": "products(shoes)", "field": "weight", "type": "float", "value": 0.35}
            ]
        },
        True,
    ),
    (
        "boolean attribute",
        {
            "target_attributes": [
                {"template": "products(shoes)", "field": "vegan", "type": "boolean", "value": True}
            ]
        },
        True,
    ),
    (
        "date attribute",
        {
            "target_attributes": [
                {"template": "products(shoes)", "field": "since", "type": "date", "value": "2024-05-01"}
            ]
        },
        True,
    ),
    (
        "attribute values list",
        {
            "target_attributes": [
                {
                    "template": "products(shoes)",
                    "field": "brand",
                    "type": "string",
                    "values": ["nike", "adidas"],
                }
            ]
        },
        True,
    ),
    (
        "attribute of another template",
        {
            "target_attributes": [
                {"template": "products(hats)", "field": "brand", "type": "string", "value": "adidas"}
            ]
        },
        False,
    ),
    (
        "conditions: one and-group holds",
        {
            "target_conditions": {
                "or": [
                    {"and": [{"node": {"values": ["n-socks"]}}]},
                    {
                        "and": [
                            {"node": {"values": ["n-shoes"]}},
                            {
                                "attribute": {
                                    "template": "products(shoes)",
                                    "field": "brand",
                                    "type": "string",
                                    "value": "adidas",
                                }
                            },
                        ]
                    },
                ]
            }
        },
        True,
    ),
    (
        "conditions: and needs every condition",
        {
            "target_conditions": {
                "or": [
                    {
                        "and": [
                            {"node": {"values": ["n-shoes"]}},
                            {
                                "attribute": {
                                    "template": "products(shoes)",
                                    "field": "brand",
                                    "type": "string",
                                    "value": "nike",
                                }
                            },
                        ]
                    }
                ]
            }
        },
        False,
    ),
    ("no targeting form at all reaches nothing", {}, False),
    ("catalog listed", {"targets": ["SHOE"], "target_catalogs": ["catalog-1"]}, True),
    ("catalog not listed", {"targets": ["SHOE"], "target_catalogs": ["catalog-2"]}, False),
    ("exclude by sku", {"targets": "all", "exclude": {"targets": ["SHOE"]}}, False),
    ("exclude by node", {"targets": "all", "exclude": {"nodes": ["h-1"]}}, False),
    (
        "exclude by attribute",
        {
            "targets": "all",
            "exclude": {
                "attributes": [
                    {"template": "products(shoes)", "field": "size", "type": "integer", "value": 42}
                ]
            },
        },
        False,
    ),
    (
        "exclude by conditions",
        {"targets": "all", "exclude": {"conditions": {"or": [{"and": [{"node": {"values": ["n-shoes"]}}]}]}}},
        False,
    ),
    (
        "exclude that matches nothing",
        {"targets": "all", "exclude": {"targets": ["SOCK"], "nodes": ["x"]}},
        True,
    ),
]


@pytest.mark.parametrize(
    ("targeting", "reached"),
    [case[1:] for case in TARGETING_CASES],
    ids=[case[0] for case in TARGETING_CASES],
)
def test_item_targeting(targeting: dict[str, Any], reached: bool) -> None:
    cart = price([shoe()], offer("ten", "item_percent_discount", percent=10, **targeting))
    assert item_discounts(cart) == ({"S": {"ten": 1000}} if reached else {})


# B34 / P13: custom items.

CUSTOM_ITEM_CASES = [
    ("item-level, sku listed", "item_percent_discount", {"percent": 10, "targets": ["WRAP"]}, 50),
    ("item-level, targets all", "item_percent_discount", {"percent": 10, "targets": "all"}, 50),
    ("item-level, nodes never", "item_percent_discount", {"percent": 10, "target_nodes": ["n-shoes"]}, 0),
    (
        "item-level, catalogs set",
        "item_percent_discount",
        {"percent": 10, "targets": ["WRAP"], "target_catalogs": ["catalog-1"]},
        0,
    ),
    ("cart-level reaches custom items", "percent_discount", {"currencies": usd_percent("10")}, 50),
    (
        "cart-level with catalogs does not",
        "percent_discount",
        {"currencies": usd_percent("10"), "target_catalogs": ["catalog-1"]},
        0,
    ),
    (
        "cart-level exclude by custom sku",
        "percent_discount",
        {"currencies": usd_percent("10"), "exclude": {"targets": ["WRAP"]}},
        0,
    ),
]


@pytest.mark.parametrize(
    ("promotion_type", "schema", "discount"),
    [case[1:] for case in CUSTOM_ITEM_CASES],
    ids=[case[0] for case in CUSTOM_ITEM_CASES],
)
def test_custom_items(promotion_type: str, schema: dict[str, Any], discount: int) -> None:
    cart = price([custom("W", "WRAP", 500)], offer("p", promotion_type, **schema))
    assert line_discounts(cart) == {"W": discount}


# §6.5 item-level amounts per type.

ITEM_AMOUNT_CASES = [
    ("percent, rounded once per line", "item_percent_discount", {"percent": 15}, 3, 333, {"L": 150}),
    ("percent, half rounds away from zero", "item_percent_discount", {"percent": 50}, 1, 333, {"L": 167}),
    ("percent 100 makes the line free", "item_percent_discount", {"percent": 100}, 2, 999, {"L": 1998}),
    ("fixed per unit", "item_fixed_discount", {"currencies": usd(200)}, 3, 1000, {"L": 600}),
    (
        "fixed clamped to the unit price",
        "item_fixed_discount",
        {"currencies": usd(5000)},
        2,
        1000,
        {"L": 2000},
    ),
    ("x for y, one group", "x_for_y", {"x": 3, "y": 2}, 4, 1000, {"L": 1000}),
    ("x for y, not enough units", "x_for_y", {"x": 3, "y": 2}, 2, 1000, {}),
    ("x for amount, two groups", "x_for_amount", {"x": 3, "currencies": usd(2000)}, 7, 1000, {"L": 2000}),
    ("x for amount dearer than the units", "x_for_amount", {"x": 2, "currencies": usd(3000)}, 2, 1000, {}),
]


@pytest.mark.parametrize(
    ("promotion_type", "schema", "quantity", "unit_price", "expected"),
    [case[1:] for case in ITEM_AMOUNT_CASES],
    ids=[case[0] for case in ITEM_AMOUNT_CASES],
)
def test_item_level_amounts(
    promotion_type: str, schema: dict[str, Any], quantity: int, unit_price: int, expected: dict[str, int]
) -> None:
    line = product("L", "S", unit_price, quantity)
    cart = price([line], offer("p", promotion_type, targets=["S"], **schema))
    assert {line_id: amounts["p"] for line_id, amounts in item_discounts(cart).items()} == expected


def test_x_for_y_needs_the_units_on_one_line() -> None:
    # P15: two lines of the same product (different custom inputs) do not make one group.
    lines = [product("A", "S", 1000, 2), product("B", "S", 1000, 2)]
    assert item_discounts(price(lines, offer("p", "x_for_y", x=3, y=2, targets=["S"]))) == {}


def test_bundle_takes_units_across_lines_in_cart_order() -> None:
    lines = [product("A", "tea", 400, 1), product("B", "tea", 500, 1), product("C", "cup", 600, 2)]
    bundle = offer(
        "b",
        "bundle_fixed_discount",
        requirements=[{"targets": ["tea"], "quantity": 2}, {"targets": ["cup"], "quantity": 1}],
        currencies=usd(1000),
    )
    # One bundle: both teas and one cup (1500) for 1000; 500 split 400 : 500 : 600.
    cart = price(lines, bundle)
    assert item_discounts(cart) == {"A": {"b": 133}, "B": {"b": 167}, "C": {"b": 200}}
    assert cart.application("b") is not None and cart.application("b").applications == 1  # type: ignore[union-attr]


def test_bundle_gift_makes_one_gift_free_per_bundle_and_suggests_the_rest() -> None:
    lines = [product("R", "racket", 9000, 2), product("B", "balls", 500, 1)]
    gift = offer(
        "g",
        "bundle_gift",
        automatic=True,
        requirements=[{"targets": ["racket"], "quantity": 1}],
        gifts=["balls"],
        auto_add_free_gift=True,
    )
    cart = price(lines, gift)
    assert item_discounts(cart) == {"B": {"g": 500}}
    assert cart.suggestions == (GiftSuggestion("g", "auto_g", "balls", 1, auto_add=True),)


def test_bundle_gift_without_the_gift_in_the_cart_gives_nothing_but_a_suggestion() -> None:
    gift = offer(
        "g",
        "bundle_gift",
        requirements=[{"targets": ["racket"], "quantity": 1}],
        gifts=["balls"],
        code="GIFT",
    )
    cart = price([product("R", "racket", 9000, 1)], gift)
    assert item_discounts(cart) == {}
    assert cart.suggestions == (GiftSuggestion("g", "GIFT", "balls", 1, auto_add=False),)
    assert [s.reason for s in cart.skipped] == [SkipReason.NO_DISCOUNT]


def test_bundle_gift_gift_unit_is_not_a_requirement_unit() -> None:
    # Buy two, get a third free: the gift must be a unit the requirement did not use.
    gift = offer("g", "bundle_gift", requirements=[{"targets": ["S"], "quantity": 2}], gifts=["S"])
    assert item_discounts(price([product("L", "S", 300, 2)], gift)) == {}
    assert item_discounts(price([product("L", "S", 300, 3)], gift)) == {"L": {"g": 300}}


# P4: each unit carries at most one item-level promotion, oldest promotion first.


def test_older_item_promotion_claims_units_first_and_the_next_gets_the_rest() -> None:
    line = product("L", "S", 1000, 3)
    older = offer("older", "item_percent_discount", age=0, percent=10, targets=["S"], uses=2, per_item=True)
    newer = offer("newer", "item_percent_discount", age=5, percent=50, targets=["S"])
    cart = price([line], newer, older)  # the order offered does not matter, creation does
    assert item_discounts(cart) == {"L": {"older": 200, "newer": 500}}
    assert [d.promotion_id for d in cart.line("L").item_discounts] == ["older", "newer"]


# B9: cart-level promotions apply oldest first, each on what is left.


def test_cart_level_promotions_stack_on_the_remaining_value() -> None:
    line = product("L", "S", 10000)
    first = offer("first", "percent_discount", age=0, currencies=usd_percent("10"))
    second = offer("second", "fixed_discount", age=1, currencies=usd(1000))
    third = offer("third", "percent_discount", age=2, currencies=usd_percent("50"))
    cart = price([line], third, second, first)
    assert [(d.promotion_id, d.amount) for d in cart.cart_promotions] == [
        ("first", 1000),
        ("second", 1000),
        ("third", 4000),
    ]


def test_fixed_cart_discount_is_clamped_to_the_base() -> None:
    cart = price([product("L", "S", 700)], offer("p", "fixed_discount", currencies=usd(1000)))
    assert [d.amount for d in cart.cart_promotions] == [700]
    assert cart.totals.with_tax == 0


def test_cart_percentage_with_decimals_rounds_half_away_from_zero() -> None:
    # 333 * 12.5 % = 41.625 -> 42
    cart = price([product("L", "S", 333)], offer("p", "percent_discount", currencies=usd_percent("12.5")))
    assert [d.amount for d in cart.cart_promotions] == [42]


# B10: min_cart_value against the undiscounted subtotal.

MIN_CART_CASES = [
    ("reached exactly", {"USD": 2000}, True),
    ("not reached", {"USD": 2001}, False),
    ("no entry for the cart currency", {"EUR": 1}, False),
]


@pytest.mark.parametrize(
    ("minimum", "applies"), [case[1:] for case in MIN_CART_CASES], ids=[case[0] for case in MIN_CART_CASES]
)
def test_min_cart_value(minimum: dict[str, int], applies: bool) -> None:
    lines = [product("A", "a", 1000), product("B", "b", 1000)]
    # An item discount on A must not lower the subtotal compared with the minimum.
    item = offer("item", "item_percent_discount", age=0, percent=50, targets=["a"])
    cart_level = offer("cart", "fixed_discount", age=1, currencies=usd(100), min_cart_value=minimum)
    cart = price(lines, item, cart_level)
    assert (cart.application("cart") is not None) is applies
    if not applies:
        assert [(s.promotion_id, s.reason) for s in cart.skipped] == [("cart", SkipReason.MIN_CART_VALUE)]


# B45: max_discount_value caps the promotion's total for the cart.


def test_max_discount_value_scales_item_discounts_to_the_cap_exactly() -> None:
    lines = [product("A", "S", 1000, 2), product("B", "T", 3000, 1)]
    half = offer(
        "half", "item_percent_discount", percent=50, targets=["S", "T"], max_discount_value={"USD": 1001}
    )
    cart = price(lines, half)
    # 1000 and 1500 scaled to 1001 in proportion: 400.4 and 600.6 -> 400 and 601.
    assert item_discounts(cart) == {"A": {"half": 400}, "B": {"half": 601}}


def test_max_discount_value_caps_a_cart_percentage() -> None:
    cart = price(
        [product("L", "S", 10000)],
        offer("p", "percent_discount", currencies=usd_percent("50"), max_discount_value={"USD": 1234}),
    )
    assert [d.amount for d in cart.cart_promotions] == [1234]


def test_max_discount_value_in_another_currency_is_no_cap() -> None:
    cart = price(
        [product("L", "S", 10000)],
        offer("p", "percent_discount", currencies=usd_percent("50"), max_discount_value={"EUR": 1}),
    )
    assert [d.amount for d in cart.cart_promotions] == [5000]


# B46: max_applications_per_cart for group and bundle types.


def test_max_applications_counts_groups_per_product() -> None:
    lines = [product("A", "S", 1000, 6), product("B", "S", 1000, 3, product_id="id-S")]
    cart = price(lines, offer("p", "x_for_y", x=3, y=2, targets=["S"], max_applications_per_cart=2))
    # The same product on two lines: two groups in all, taken in line order.
    assert item_discounts(cart) == {"A": {"p": 2000}}


def test_max_applications_counts_bundles_per_cart() -> None:
    bundle = offer(
        "b",
        "bundle_fixed_discount",
        requirements=[{"targets": ["S"], "quantity": 1}],
        currencies=usd(500),
        max_applications_per_cart=2,
    )
    assert item_discounts(price([product("L", "S", 1000, 5)], bundle)) == {"L": {"b": 1000}}


# P11 / B18: per_item codes are capped by their remaining uses; groups count one use each.

PER_ITEM_CASES = [
    ("units", "item_fixed_discount", {"currencies": usd(100)}, 5, 3, 300, 3),
    ("groups", "x_for_y", {"x": 2, "y": 1}, 8, 3, 3000, 3),
    ("uses beyond what the cart holds", "item_fixed_discount", {"currencies": usd(100)}, 2, 9, 200, 2),
]


@pytest.mark.parametrize(
    ("promotion_type", "schema", "quantity", "uses", "discount", "applications"),
    [case[1:] for case in PER_ITEM_CASES],
    ids=[case[0] for case in PER_ITEM_CASES],
)
def test_per_item_uses_cap_applications(
    promotion_type: str, schema: dict[str, Any], quantity: int, uses: int, discount: int, applications: int
) -> None:
    cart = price(
        [product("L", "S", 1000, quantity)],
        offer("p", promotion_type, targets=["S"], uses=uses, per_item=True, **schema),
    )
    application = cart.application("p")
    assert application is not None
    assert (application.amount, application.applications) == (discount, applications)


def test_per_item_budget_is_taken_in_line_order_across_lines() -> None:
    lines = [product("A", "S", 1000, 2), product("B", "T", 1000, 2)]
    cart = price(
        lines, offer("p", "item_fixed_discount", currencies=usd(100), targets="all", uses=3, per_item=True)
    )
    assert item_discounts(cart) == {"A": {"p": 200}, "B": {"p": 100}}


def test_per_cart_code_discounts_every_unit_with_one_use_left() -> None:
    cart = price(
        [product("L", "S", 1000, 4)],
        offer("p", "item_fixed_discount", currencies=usd(100), targets="all", uses=1),
    )
    application = cart.application("p")
    assert application is not None and application.amount == 400


# §6.3: which offers are candidates.

SKIP_CASES = [
    ("disabled", {"enabled": False}, SkipReason.INACTIVE),
    ("not started", {"start": NOW + timedelta(seconds=1)}, SkipReason.INACTIVE),
    ("ended: end is exclusive", {"end": NOW}, SkipReason.INACTIVE),
    ("code with no uses left", {"uses": 0}, SkipReason.EXHAUSTED),
    (
        "no amount in the cart currency",
        {"currencies": [{"currency": "EUR", "amount": 100}]},
        SkipReason.CURRENCY_MISMATCH,
    ),
    ("nothing eligible", {"exclude": {"targets": ["S"]}}, SkipReason.NO_DISCOUNT),
]


@pytest.mark.parametrize(
    ("changes", "reason"), [case[1:] for case in SKIP_CASES], ids=[case[0] for case in SKIP_CASES]
)
def test_offers_that_give_nothing_say_why(changes: dict[str, Any], reason: SkipReason) -> None:
    arguments: dict[str, Any] = {"currencies": usd(100), **changes}
    cart = price([product("L", "S", 1000)], offer("p", "fixed_discount", code="CODE", **arguments))
    assert cart.applications == ()
    assert [(s.promotion_id, s.code, s.reason) for s in cart.skipped] == [("p", "CODE", reason)]
    assert cart.totals.discount == 0


def test_a_currency_mismatch_skips_only_that_promotion() -> None:
    euro = offer("euro", "fixed_discount", age=0, currencies=[{"currency": "EUR", "amount": 100}])
    dollar = offer("dollar", "fixed_discount", age=1, currencies=usd(100))
    cart = price([product("L", "S", 1000)], euro, dollar)
    assert [d.promotion_id for d in cart.cart_promotions] == ["dollar"]


def test_percentage_promotions_need_no_currency() -> None:
    cart = price(
        [product("L", "S", 1000)],
        offer("p", "item_percent_discount", percent=10, targets="all"),
        currency="JPY",
    )
    assert item_discounts(cart) == {"L": {"p": 100}}


def test_an_empty_cart_has_nothing_to_price() -> None:
    cart = price([], offer("p", "fixed_discount", currencies=usd(100)), currency="")
    assert cart.lines == () and cart.applications == () and cart.totals.with_tax == 0


# The one rounding module (§6.7, B11, B12).

ROUNDING_CASES = [
    (divide_rounded(-667, 2), -334),
    (divide_rounded(19333, 2), 9667),
    (divide_rounded(5, 2), 3),
    (divide_rounded(-5, 2), -3),
    (divide_rounded(7, 3), 2),
    (percent_of(17998, Decimal(15)), 2700),
    (percent_of(10000, Decimal("1.123456")), 112),
    (percent_of(1, Decimal(50)), 1),
    (percent_of(3, Decimal("0.000001")), 0),
]


@pytest.mark.parametrize(("computed", "expected"), ROUNDING_CASES)
def test_rounding_half_away_from_zero(computed: int, expected: int) -> None:
    assert computed == expected


APPORTION_CASES = [
    # (total, line values, percentage or None, shares): each line but the last rounds its own share half
    # away from zero, the last takes the rest, no share leaves [0, its line's value] (B12, §6.6).
    pytest.param(2599, [15995, 9999], Decimal(10), [1600, 999], id="10 % screenshot: 1599.5 rounds up"),
    pytest.param(2599, [15995, 9999], None, [1599, 1000], id="the same amount as a fixed discount"),
    pytest.param(5994, [15995, 9999], None, [3688, 2306], id="bundle screenshot"),
    pytest.param(1000, [20000, 10000], None, [667, 333], id="R3 2022 sample"),
    pytest.param(1000, [2997, 3], None, [999, 1], id="P3"),
    pytest.param(1000, [15298, 3897], None, [797, 203], id="section 4.7"),
    pytest.param(1, [500, 500], None, [1, 0], id="0.5 rounds away from zero"),
    pytest.param(2, [250, 750], None, [1, 1], id="0.5 rounds up, the last line takes the rest"),
    pytest.param(1, [300, 700], None, [0, 1], id="0.3 rounds down"),
    pytest.param(2, [1, 1, 1], None, [1, 1, 0], id="the last line may take nothing"),
    pytest.param(
        2, [5, 5, 5, 5], Decimal(10), [1, 1, 0, 0], id="too much rounded up: the line before gives back"
    ),
    pytest.param(
        2, [4, 4, 4, 4, 4, 1], Decimal(10), [0, 0, 0, 0, 1, 1], id="too little: the line before takes"
    ),
    pytest.param(5, [49, 49, 0], Decimal(5), [2, 3, 0], id="a last line worth nothing takes nothing"),
    pytest.param(0, [5, 5], None, [0, 0], id="nothing to split"),
    pytest.param(7, [7], None, [7], id="one line takes everything"),
]


@pytest.mark.parametrize(("total", "values", "percentage", "expected"), APPORTION_CASES)
def test_apportioning_rounds_every_line_but_the_last(
    total: int, values: list[int], percentage: Decimal | None, expected: list[int]
) -> None:
    assert apportion(total, values, percentage=percentage) == expected


@pytest.mark.parametrize(("total", "values"), [(-1, [5]), (1, [-1, 5]), (11, [5, 5]), (1, [])])
def test_apportioning_refuses_what_cannot_be_split(total: int, values: list[int]) -> None:
    with pytest.raises(ValueError):
        apportion(total, values)
