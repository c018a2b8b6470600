"""The discount engine (Standard promotions, line calculation method, §6): price a cart with its offers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from promoforge.domain.money import Money
from promoforge.domain.pricing.inputs import CartLine, Offer
from promoforge.domain.pricing.results import (
    Application,
    Discount,
    GiftSuggestion,
    PricedCart,
    PricedLine,
    Skipped,
    SkipReason,
)
from promoforge.domain.pricing.rounding import apportion, percent_of
from promoforge.domain.pricing.targeting import CartReach
from promoforge.domain.promotions import (
    BundleFixedDiscount,
    BundleGift,
    FixedDiscount,
    ItemFixedDiscount,
    ItemPercentDiscount,
    PercentDiscount,
    PromotionRules,
    XForAmount,
    XForY,
)

CartLevelRules = FixedDiscount | PercentDiscount
ItemLevelRules = (
    ItemPercentDiscount | ItemFixedDiscount | XForY | XForAmount | BundleFixedDiscount | BundleGift
)
UnitRules = ItemPercentDiscount | ItemFixedDiscount
GroupRules = XForY | XForAmount
BundleRules = BundleFixedDiscount | BundleGift
# Tuples, not `A | B` unions, so isinstance does not build a union object on every call.
_CART_LEVEL = (FixedDiscount, PercentDiscount)
_UNIT = (ItemPercentDiscount, ItemFixedDiscount)
_GROUP = (XForY, XForAmount)
_TARGETED = (ItemPercentDiscount, ItemFixedDiscount, XForY, XForAmount)
_BUNDLE = (BundleFixedDiscount, BundleGift)
_PRICED_IN_CURRENCIES = (FixedDiscount, ItemFixedDiscount, XForAmount, BundleFixedDiscount, PercentDiscount)


def price_cart(
    *, lines: Sequence[CartLine], currency: str, offers: Sequence[Offer], now: datetime
) -> PricedCart:
    """Price the cart's product and custom lines with every offered promotion that applies.

    Offers are taken oldest promotion first (ties by id), one per promotion: item-level promotions claim
    units (each unit at most one, P4), then cart-level promotions discount what is left (B9).
    """
    pricing = _Pricing(lines, currency)
    if not lines or not currency:
        return pricing.result(skipped=[])
    subtotal = sum(line.value for line in lines)
    skipped: list[Skipped] = []
    usable: list[Offer] = []
    seen: set[str] = set()
    for offer in sorted(offers, key=lambda o: (o.created_at, o.promotion_id)):
        if offer.promotion_id in seen:
            continue
        seen.add(offer.promotion_id)
        reason = _unusable(offer, currency, now, subtotal)
        if reason is None:
            usable.append(offer)
        else:
            skipped.append(Skipped(offer.promotion_id, offer.code, reason))
    cart_level: list[tuple[Offer, CartLevelRules]] = []
    for offer in usable:
        rules = offer.attributes.schema
        if isinstance(rules, _CART_LEVEL):
            cart_level.append((offer, rules))
        else:
            pricing.apply_item_level(offer, skipped)
    for offer, rules in cart_level:
        pricing.apply_cart_level(offer, rules, skipped)
    return pricing.result(skipped=skipped)


def _unusable(offer: Offer, currency: str, now: datetime, subtotal: int) -> SkipReason | None:
    attributes = offer.attributes
    if not attributes.enabled or now < attributes.start or now >= attributes.end:
        return SkipReason.INACTIVE
    if not offer.automatic and offer.remaining_uses is not None and offer.remaining_uses <= 0:
        return SkipReason.EXHAUSTED
    rules = attributes.schema
    if isinstance(rules, _PRICED_IN_CURRENCIES) and all(
        entry.currency != currency for entry in rules.currencies
    ):
        return SkipReason.CURRENCY_MISMATCH

    if attributes.min_cart_value:
        minimum = _amount_in(attributes.min_cart_value, currency)
        if minimum is None or subtotal < minimum:
            return SkipReason.MIN_CART_VALUE
    return None


def _amount_in(amounts: Sequence[Money] | None, currency: str) -> int | None:
    return next((money.amount for money in amounts or () if money.currency == currency), None)


@dataclass
class _Claims:
    """What one item-level promotion takes: discount per line index, units claimed, applications."""

    amounts: dict[int, int]
    units: Counter[int]
    applications: int


class _Pricing:
    """The running state of one pricing: units still unclaimed and the discounts given so far."""

    def __init__(self, lines: Sequence[CartLine], currency: str) -> None:
        self.lines = list(lines)
        self.currency = currency
        self.available = [line.quantity for line in self.lines]
        self.left = [line.value for line in self.lines]  # each line's value after its discounts so far
        self.item_discounts: list[list[Discount]] = [[] for _ in self.lines]
        self.cart_shares: list[list[Discount]] = [[] for _ in self.lines]
        self.cart_promotions: list[Discount] = []
        self.applications: list[Application] = []
        self.suggestions: list[GiftSuggestion] = []
        self.reach = CartReach(self.lines)

    def result(self, *, skipped: list[Skipped]) -> PricedCart:
        """The priced cart as it stands."""
        return PricedCart(
            currency=self.currency,
            lines=tuple(
                PricedLine(
                    line_id=line.id,
                    kind=line.kind,
                    quantity=line.quantity,
                    value=line.value,
                    item_discounts=tuple(self.item_discounts[index]),
                    cart_shares=tuple(self.cart_shares[index]),
                )
                for index, line in enumerate(self.lines)
            ),
            cart_promotions=tuple(self.cart_promotions),
            applications=tuple(self.applications),
            skipped=tuple(skipped),
            suggestions=tuple(self.suggestions),
        )

    # Item level (§6.4, §6.5)

    def apply_item_level(self, offer: Offer, skipped: list[Skipped]) -> None:
        """Let an item-level promotion claim units and discount them."""
        rules = offer.attributes.schema
        if isinstance(rules, _TARGETED):
            reached = self.reach.item_lines(rules.targeting)
            if not reached:
                skipped.append(Skipped(offer.promotion_id, offer.code, SkipReason.NO_DISCOUNT))
                return
            if isinstance(rules, _UNIT):
                claims = self._claim_units(offer, rules, reached)
            else:
                claims = self._claim_groups(offer, rules, reached)
        elif isinstance(rules, _BUNDLE):
            claims = self._claim_bundles(offer, rules)
        else:  # pragma: no cover - cart-level rules never reach here
            raise TypeError(type(rules).__name__)
        amounts = {index: amount for index, amount in claims.amounts.items() if amount > 0}
        if not amounts:
            skipped.append(Skipped(offer.promotion_id, offer.code, SkipReason.NO_DISCOUNT))
            return
        cap = _amount_in(offer.attributes.max_discount_value, self.currency)
        if cap is not None and sum(amounts.values()) > cap:
            # B45: scale every line down in proportion so the promotion gives exactly its cap.
            indexes = sorted(amounts)
            capped = apportion(cap, [amounts[index] for index in indexes])
            amounts = {index: share for index, share in zip(indexes, capped, strict=True) if share > 0}
            if not amounts:
                skipped.append(Skipped(offer.promotion_id, offer.code, SkipReason.NO_DISCOUNT))
                return
        for index, units in claims.units.items():
            self.available[index] -= units
        for index in sorted(amounts):
            self.item_discounts[index].append(
                Discount(offer.promotion_id, offer.code, amounts[index], units=claims.units[index])
            )
            self.left[index] -= amounts[index]

        self.applications.append(
            Application(
                promotion_id=offer.promotion_id,
                code=offer.code,
                amount=sum(amounts.values()),
                applications=claims.applications,
                cart_level=False,
            )
        )

    def _claim_units(self, offer: Offer, rules: UnitRules, reached: list[int]) -> _Claims:
        claims = _Claims({}, Counter(), 0)
        budget = offer.application_budget
        per_product = offer.attributes.max_applications_per_cart or 0
        used: Counter[str] = Counter()
        fixed = _amount_in(rules.currencies, self.currency) if isinstance(rules, ItemFixedDiscount) else None
        for index in reached:
            line = self.lines[index]
            if line.unit_price == 0:
                continue
            units = self.available[index]
            if per_product:
                units = min(units, per_product - used[line.product_key])
            if budget is not None:
                units = min(units, budget - claims.applications)
            if units <= 0:
                continue
            if isinstance(rules, ItemPercentDiscount):
                amount = percent_of(units * line.unit_price, rules.percent)
            else:
                assert fixed is not None
                amount = units * min(fixed, line.unit_price)
            amount = min(amount, units * line.unit_price)
            if amount <= 0:
                continue
            claims.amounts[index] = amount
            claims.units[index] += units
            claims.applications += units
            used[line.product_key] += units
        return claims

    def _claim_groups(self, offer: Offer, rules: GroupRules, reached: list[int]) -> _Claims:
        # P15: the x units of a group come from one line.
        claims = _Claims({}, Counter(), 0)
        budget = offer.application_budget
        per_product = offer.attributes.max_applications_per_cart or 0
        used: Counter[str] = Counter()
        price_of_x = _amount_in(rules.currencies, self.currency) if isinstance(rules, XForAmount) else None
        for index in reached:
            line = self.lines[index]
            if isinstance(rules, XForY):
                per_group = (rules.x - rules.y) * line.unit_price
            else:
                assert price_of_x is not None
                per_group = max(0, rules.x * line.unit_price - price_of_x)
            groups = self.available[index] // rules.x
            if per_product:
                groups = min(groups, per_product - used[line.product_key])
            if budget is not None:
                groups = min(groups, budget - claims.applications)
            if groups <= 0 or per_group <= 0:
                continue
            claims.amounts[index] = groups * per_group
            claims.units[index] += groups * rules.x
            claims.applications += groups
            used[line.product_key] += groups
        return claims

    def _claim_bundles(self, offer: Offer, rules: BundleRules) -> _Claims:
        claims = _Claims({}, Counter(), 0)
        requirements = [
            (requirement.quantity, self.reach.listed_lines(requirement.targets, rules.target_catalogs))
            for requirement in rules.requirements
        ]
        if any(needed and not candidates for needed, candidates in requirements):
            return claims  # no bundle can form, so nothing is claimed or suggested
        budget = offer.application_budget
        per_cart = offer.attributes.max_applications_per_cart or 0  # B46: bundles count per cart
        bundle_price = (
            _amount_in(rules.currencies, self.currency) if isinstance(rules, BundleFixedDiscount) else None
        )
        work = list(self.available)
        gift_lines = (
            {gift: self.reach.listed_lines((gift,), rules.target_catalogs) for gift in rules.gifts}
            if isinstance(rules, BundleGift)
            else {}
        )
        formed = 0
        missing_gifts: Counter[str] = Counter()
        while (not per_cart or formed < per_cart) and (budget is None or formed < budget):
            taken = self._take_requirements(work, requirements)
            if taken is None:
                break
            if isinstance(rules, BundleFixedDiscount):
                assert bundle_price is not None
                # P6 / B12: the bundle's discount is spread over its units, in cart order, by price.
                units = [index for index in sorted(taken) for _ in range(taken[index])]
                prices = [self.lines[index].unit_price for index in units]
                discount = max(0, sum(prices) - bundle_price)
                if discount == 0:
                    continue  # these units cost no more than the bundle price: not an application
                formed += 1
                for index, share in zip(units, apportion(discount, prices), strict=True):
                    claims.amounts[index] = claims.amounts.get(index, 0) + share
            else:
                gifts: Counter[int] = Counter()
                for gift in rules.gifts:
                    found = next((index for index in gift_lines[gift] if work[index]), None)
                    if found is None:
                        missing_gifts[gift] += 1
                        continue
                    work[found] -= 1
                    gifts[found] += 1
                formed += 1
                if not gifts:
                    continue  # the cart qualifies but holds no gift: suggested below, nothing claimed
                for index, count in gifts.items():
                    claims.amounts[index] = (
                        claims.amounts.get(index, 0) + count * self.lines[index].unit_price
                    )
                taken.update(gifts)
            claims.units.update(taken)
            claims.applications += 1
        if isinstance(rules, BundleGift):
            for gift, count in missing_gifts.items():
                self.suggestions.append(
                    GiftSuggestion(
                        promotion_id=offer.promotion_id,
                        code=offer.code,
                        gift=gift,
                        quantity=count,
                        auto_add=offer.automatic and rules.adds_gifts,
                    )
                )
        return claims

    @staticmethod
    def _take_requirements(work: list[int], requirements: list[tuple[int, list[int]]]) -> Counter[int] | None:
        """Take one bundle's units from `work` (requirement lines in cart order), or None if it cannot."""
        trial = list(work)
        taken: Counter[int] = Counter()
        for needed, candidates in requirements:
            for index in candidates:
                if needed == 0:
                    break
                if trial[index] == 0:
                    continue
                units = min(trial[index], needed)
                trial[index] -= units
                taken[index] += units
                needed -= units
            if needed:
                return None
        work[:] = trial
        return taken

    # Cart level (§6.6)

    def apply_cart_level(self, offer: Offer, rules: CartLevelRules, skipped: list[Skipped]) -> None:
        """Discount the value left on the promotion's lines and spread it over them (P2, B9, B12)."""
        eligible = self.reach.cart_lines(rules.scope)
        values = [self.left[index] for index in eligible]
        base = sum(values)
        percentage: Decimal | None = None
        if isinstance(rules, FixedDiscount):
            fixed = _amount_in(rules.currencies, self.currency)
            assert fixed is not None
            discount = fixed
        else:
            percentage = next(
                entry.percentage for entry in rules.currencies if entry.currency == self.currency
            )
            discount = percent_of(base, percentage)
        cap = _amount_in(offer.attributes.max_discount_value, self.currency)
        if cap is not None and cap < discount:
            discount, percentage = cap, None  # B12: a capped percentage is spread like a fixed amount
        discount = min(discount, base)
        if discount <= 0:
            skipped.append(Skipped(offer.promotion_id, offer.code, SkipReason.NO_DISCOUNT))
            return
        shares = apportion(discount, values, percentage=percentage)
        for index, share in zip(eligible, shares, strict=True):
            if share:
                self.cart_shares[index].append(Discount(offer.promotion_id, offer.code, share))
                self.left[index] -= share
        self.cart_promotions.append(Discount(offer.promotion_id, offer.code, discount))
        self.applications.append(
            Application(
                promotion_id=offer.promotion_id,
                code=offer.code,
                amount=discount,
                applications=1,
                cart_level=True,
            )
        )


def is_cart_level(rules: PromotionRules) -> bool:
    """Whether a promotion's discount is on the cart (a `promotion_item` line) rather than on items."""
    return isinstance(rules, FixedDiscount | PercentDiscount)
