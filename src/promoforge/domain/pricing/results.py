"""What the discount engine returns: every number the wire shows, with the discounts that make them up."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from promoforge.domain.pricing.inputs import LineKind
from promoforge.domain.pricing.rounding import divide_rounded


@dataclass(frozen=True)
class Discount:
    """One promotion's discount on a line or on the cart, as a positive amount of minor units.

    `units` is how many of the line's units an item-level promotion claimed (0 for cart-level shares).
    """

    promotion_id: str
    code: str
    amount: int
    units: int = 0


@dataclass(frozen=True)
class DisplayAmount:
    """A per-line display block: the line total and the per-unit figure rounded from it (§2.3)."""

    unit: int
    value: int


@dataclass(frozen=True)
class LineDisplay:
    """The five display blocks of a product or custom line, signed as the wire shows them."""

    with_tax: DisplayAmount
    without_tax: DisplayAmount
    tax: DisplayAmount
    discount: DisplayAmount
    without_discount: DisplayAmount


def display_amount(value: int, quantity: int) -> DisplayAmount:
    """A display block for a line value: `unit` is value / quantity rounded half away from zero."""
    return DisplayAmount(unit=divide_rounded(value, quantity), value=value)


@dataclass(frozen=True)
class PricedLine:
    """A product or custom line after pricing.

    `item_discounts` are the item-level promotions on it (shown in `discounts[]`), oldest promotion first;
    `cart_shares` are its shares of cart-level promotions, which only show in its display totals.
    """

    line_id: str
    kind: LineKind
    quantity: int
    value: int
    item_discounts: tuple[Discount, ...] = ()
    cart_shares: tuple[Discount, ...] = ()

    @property
    def discount(self) -> int:
        """Everything taken off the line, as a positive amount."""
        return sum(d.amount for d in self.item_discounts) + sum(d.amount for d in self.cart_shares)

    @property
    def discounted_value(self) -> int:
        """The line value after every discount."""
        return self.value - self.discount

    def display(self) -> LineDisplay:
        """The line's display blocks; no tax items, so with and without tax are equal and tax is 0 (§6.8)."""
        discounted = display_amount(self.discounted_value, self.quantity)
        return LineDisplay(
            with_tax=discounted,
            without_tax=discounted,
            tax=DisplayAmount(0, 0),
            discount=display_amount(-self.discount, self.quantity),
            without_discount=display_amount(self.value, self.quantity),
        )


class SkipReason(StrEnum):
    """Why an offered promotion gives the cart nothing."""

    INACTIVE = "inactive"  # disabled, not started or ended
    EXHAUSTED = "exhausted"  # the code has no uses left
    CURRENCY_MISMATCH = "currency_mismatch"  # no amount for the cart currency (P14)
    MIN_CART_VALUE = "min_cart_value"  # B10
    NO_DISCOUNT = "no_discount"  # nothing eligible, or a discount of 0


@dataclass(frozen=True)
class Skipped:
    """An offered promotion that gave nothing, and why."""

    promotion_id: str
    code: str
    reason: SkipReason


@dataclass(frozen=True)
class Application:
    """A promotion that discounted the cart: its code, its total, and how many uses checkout consumes.

    `applications` counts units (item percent and fixed), groups or bundles (the four group types), or 1
    (cart-level promotions) — what a `per_item` code loses; a `per_cart` code loses 1 (B18, B19).
    """

    promotion_id: str
    code: str
    amount: int
    applications: int
    cart_level: bool


@dataclass(frozen=True)
class GiftSuggestion:
    """Gifts a `bundle_gift` promotion makes free that the cart does not hold yet (§5.4)."""

    promotion_id: str
    code: str
    gift: str
    quantity: int
    auto_add: bool


@dataclass(frozen=True)
class Totals:
    """The cart's totals over its product and custom lines (§2.2), discount as a positive amount."""

    without_discount: int
    discount: int

    @property
    def with_tax(self) -> int:
        """Total after discounts; equal to `without_tax` without tax items."""
        return self.without_discount - self.discount

    @property
    def without_tax(self) -> int:
        """Total after discounts before tax."""
        return self.with_tax


@dataclass(frozen=True)
class PricedCart:
    """A priced cart: lines in cart order, cart-level promotion lines and applications in promotion order."""

    currency: str
    lines: tuple[PricedLine, ...]
    cart_promotions: tuple[Discount, ...]
    applications: tuple[Application, ...]
    skipped: tuple[Skipped, ...]
    suggestions: tuple[GiftSuggestion, ...]

    @property
    def totals(self) -> Totals:
        """Sums over the product and custom lines; promotion lines are already inside them."""
        return Totals(
            without_discount=sum(line.value for line in self.lines),
            discount=sum(line.discount for line in self.lines),
        )

    def line(self, line_id: str) -> PricedLine:
        """The priced line with this id."""
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise KeyError(line_id)

    def application(self, promotion_id: str) -> Application | None:
        """The application of this promotion, if it discounted the cart."""
        return next((a for a in self.applications if a.promotion_id == promotion_id), None)
