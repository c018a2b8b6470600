"""The spec's worked examples (carts.md §4.7, §6.1 P3/P6/P10/P11/P16, §6.6, §6.10), priced by the engine."""

from __future__ import annotations

from decimal import Decimal

from pricing_builders import item_discounts, line_discounts, offer, price, product, usd, usd_percent
from promoforge.domain.pricing import DisplayAmount, LineDisplay


def test_section_4_7_item_percent_then_fixed_cart_discount() -> None:
    shoes = product("A", "SHOE-TR-01", 8999, 2)
    socks = product("B", "SOCK-MER-01", 1299, 3)
    run15 = offer("run15", "item_percent_discount", age=0, code="RUN15", percent=15, targets=["SHOE-TR-01"])
    save10 = offer("save10", "fixed_discount", age=1, code="SAVE10", currencies=usd(1000))

    cart = price([shoes, socks], run15, save10)

    assert item_discounts(cart) == {"A": {"run15": 2700}}
    assert cart.line("A").display() == LineDisplay(
        with_tax=DisplayAmount(7251, 14501),
        without_tax=DisplayAmount(7251, 14501),
        tax=DisplayAmount(0, 0),
        discount=DisplayAmount(-1749, -3497),
        without_discount=DisplayAmount(8999, 17998),
    )
    assert cart.line("B").display() == LineDisplay(
        with_tax=DisplayAmount(1231, 3694),
        without_tax=DisplayAmount(1231, 3694),
        tax=DisplayAmount(0, 0),
        discount=DisplayAmount(-68, -203),
        without_discount=DisplayAmount(1299, 3897),
    )
    assert [(d.promotion_id, d.code, d.amount) for d in cart.cart_promotions] == [("save10", "SAVE10", 1000)]
    totals = cart.totals
    assert (totals.without_discount, totals.discount, totals.with_tax) == (21895, 3700, 18195)


def test_r3_2023_item_percent_with_six_decimals_and_cart_fixed() -> None:
    line = product("L", "sku1", 10000)
    sku1 = offer("sku1", "item_percent_discount", age=0, percent=Decimal("1.123456"), targets=["sku1"])
    cart1off = offer("cart1off", "fixed_discount", age=1, currencies=usd(100))

    cart = price([line], sku1, cart1off)

    assert item_discounts(cart) == {"L": {"sku1": 112}}
    assert cart.line("L").discount == 212
    assert cart.line("L").display().with_tax.value == 9788


def test_r3_2022_item_fixed_then_cart_fixed() -> None:
    line = product("L", "nested-bundle", 9999)
    item = offer("item", "item_fixed_discount", age=0, currencies=usd(1000), targets=["nested-bundle"])
    cart_code = offer("cart", "fixed_discount", age=1, currencies=usd(1000))

    cart = price([line], item, cart_code)

    assert cart.line("L").discount == 2000
    assert cart.line("L").display().with_tax.value == 7999


def test_r3_2021_cart_fixed_line_and_promotion_line() -> None:
    cart = price([product("L", "x", 1500)], offer("5off", "fixed_discount", code="5off", currencies=usd(500)))

    assert cart.totals.with_tax == 1000
    assert [d.amount for d in cart.cart_promotions] == [500]


def test_p3_cart_discount_spread_by_line_value() -> None:
    lines = [product("A", "a", 999, 3), product("B", "b", 3)]

    cart = price(lines, offer("ten", "fixed_discount", currencies=usd(1000)))

    assert line_discounts(cart) == {"A": 999, "B": 1}
    assert cart.line("A").display().discount.unit == -333
    assert cart.line("B").display().discount.unit == -1


def test_section_6_6_ten_percent_screenshot() -> None:
    # Coffee Maker 159.95 and Grinder 99.99, 10 % off the cart: 143.95 and 90.00, 233.95 in all (B12).
    lines = [product("M", "coffee-maker", 15995), product("G", "grinder", 9999)]

    cart = price(lines, offer("ten", "percent_discount", currencies=usd_percent("10")))

    assert line_discounts(cart) == {"M": 1600, "G": 999}
    assert [cart.line(line_id).display().with_tax.value for line_id in ("M", "G")] == [14395, 9000]
    assert cart.totals.with_tax == 23395
    assert [d.amount for d in cart.cart_promotions] == [2599]


def test_section_6_6_bundle_screenshot() -> None:
    # The same two products as a 200.00 bundle (P6): 59.94 off, split 36.88 / 23.06 by price.
    lines = [product("M", "coffee-maker", 15995), product("G", "grinder", 9999)]
    bundle = offer(
        "bundle",
        "bundle_fixed_discount",
        requirements=[{"targets": ["coffee-maker"], "quantity": 1}, {"targets": ["grinder"], "quantity": 1}],
        currencies=usd(20000),
    )

    assert item_discounts(price(lines, bundle)) == {"M": {"bundle": 3688}, "G": {"bundle": 2306}}


def test_a_bundle_discount_is_rounded_unit_by_unit() -> None:
    # Three 1.01 units bundled for 2.00: 1.03 off, 0.34333 a unit; the first two units round to 0.34 each
    # and the last takes 0.35. Rounded per line instead, the two-unit line would take 0.69.
    lines = [product("A", "a", 101, 2), product("B", "b", 101)]
    bundle = offer(
        "bundle",
        "bundle_fixed_discount",
        requirements=[{"targets": ["a"], "quantity": 2}, {"targets": ["b"], "quantity": 1}],
        currencies=usd(200),
    )

    assert item_discounts(price(lines, bundle)) == {"A": {"bundle": 68}, "B": {"bundle": 35}}


def test_a_capped_discount_is_scaled_down_and_the_last_line_absorbs() -> None:
    # 50 % off 1.01 and 3.03 gives 0.51 + 1.52 (rounded per line); capped at 1.00: 0.51 * 100 / 203 rounds
    # to 0.25 and the last line takes 0.75, so the promotion gives exactly its cap.
    lines = [product("A", "a", 101), product("B", "b", 303)]
    half = offer("half", "item_percent_discount", percent=50, targets="all", max_discount_value={"USD": 100})

    cart = price(lines, half)

    assert item_discounts(cart) == {"A": {"half": 25}, "B": {"half": 75}}


def test_a_capped_percent_cart_discount_is_spread_like_a_fixed_amount() -> None:
    # 10 % of 259.94 is 25.99, capped at 25.00: shared by value (15.38 + the rest 9.62), not line by line.
    lines = [product("M", "coffee-maker", 15995), product("G", "grinder", 9999)]
    ten = offer("ten", "percent_discount", currencies=usd_percent("10"), max_discount_value={"USD": 2500})

    assert line_discounts(price(lines, ten)) == {"M": 1538, "G": 962}


def test_p6_bundle_discount_split_by_price() -> None:
    lines = [product("M", "maker", 150), product("G", "grinder", 100)]
    bundle = offer(
        "bundle",
        "bundle_fixed_discount",
        requirements=[{"targets": ["maker"], "quantity": 1}, {"targets": ["grinder"], "quantity": 1}],
        currencies=usd(200),
    )

    assert item_discounts(price(lines, bundle)) == {"M": {"bundle": 30}, "G": {"bundle": 20}}


def test_p10_max_applications_per_cart_one_unit_per_product() -> None:
    lines = [product("A", "A", 1000, 2), product("B", "B", 1000, 2)]
    half = offer("half", "item_percent_discount", percent=50, targets=["A", "B"], max_applications_per_cart=1)

    assert item_discounts(price(lines, half)) == {"A": {"half": 500}, "B": {"half": 500}}


def test_p11_per_item_code_discounts_as_many_units_as_uses_left() -> None:
    half = offer("half", "item_percent_discount", percent=50, targets=["SKU1"], uses=2, per_item=True)

    cart = price([product("L", "SKU1", 1000, 3)], half)

    assert item_discounts(cart) == {"L": {"half": 1000}}
    application = cart.application("half")
    assert application is not None and application.applications == 2


def test_p16_three_for_two_with_six_units_takes_two_units_off() -> None:
    three_for_two = offer("x", "x_for_y", x=3, y=2, targets=["S"])

    assert item_discounts(price([product("L", "S", 700, 6)], three_for_two)) == {"L": {"x": 1400}}


def test_section_2_3_display_unit_rounds_half_away_from_zero() -> None:
    # R3: value -667 over 2 units shows unit -334; 19333 over 2 shows 9667.
    lines = [product("A", "a", 10000, 2), product("B", "b", 10000)]

    cart = price(lines, offer("third", "fixed_discount", currencies=usd(1000)))

    assert line_discounts(cart) == {"A": 667, "B": 333}
    assert cart.line("A").display().discount == DisplayAmount(-334, -667)
    assert cart.line("A").display().with_tax == DisplayAmount(9667, 19333)
