"""The pricing inputs of carts, loaded once (the cart with its store, lines with their products' facts,
applied codes with their rows and promotions, the running automatic promotions), and the carts priced in
memory by the engine as often as a use case needs, with no further read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from promoforge.domain.carts import AppliedCode, Cart, CartItem
from promoforge.domain.codes import ConsumeUnit, PromotionCode
from promoforge.domain.pricing import Offer, PricedCart, ProductFacts, automatic_code, price_cart
from promoforge.domain.products import Product
from promoforge.domain.promotions import Promotion
from promoforge.domain.shoppers import Shopper
from promoforge.domain.stores import Store
from promoforge.storage.repositories.pricing_inputs import Offers
from promoforge.storage.repositories.transactions import StoreScope

Priced = tuple[PricedCart, dict[str, Promotion]]


@dataclass
class PricingInputs:
    """What pricing some carts reads, loaded once: the products' facts, the applied codes' rows and
    promotions, and the enabled automatic promotions that may run at the carts' pricing times."""

    shopper: Shopper
    facts: dict[str, ProductFacts] = field(default_factory=dict)
    rows: dict[str, PromotionCode] = field(default_factory=dict)
    promotions: dict[str, Promotion] = field(default_factory=dict)
    automatic: list[Promotion] = field(default_factory=list)
    _running: dict[datetime, tuple[list[Offer], dict[str, Promotion]]] = field(default_factory=dict)

    @classmethod
    def of(cls, shopper: Shopper, facts: dict[str, ProductFacts], offers: Offers) -> PricingInputs:
        """The inputs read for some carts."""
        return cls(shopper, facts, offers.rows, offers.promotions, offers.automatic)

    def learn_product(self, product: Product) -> None:
        """Know a product added to a cart during the change being priced."""
        self.facts[product.id] = ProductFacts(
            product_id=product.id,
            catalog_id=product.catalog_id,
            node_ids=frozenset(product.node_ids),
            attributes=product.attributes,
        )

    def learn_code(self, row: PromotionCode, promotion: Promotion | None) -> None:
        """Know a code (and its promotion) applied during the change being priced."""
        self.rows[row.id] = row
        if promotion is not None:
            self.promotions[promotion.id] = promotion

    def price(
        self, cart: Cart, items: Sequence[CartItem], codes: Sequence[AppliedCode], now: datetime
    ) -> Priced:
        """The cart with these lines and codes, priced now; with the promotions the pricing could show."""
        if not items:
            return price_cart(lines=[], currency=cart.currency or "", offers=[], now=now), {}
        at = pricing_time(cart, self.shopper, now)
        offers: list[Offer] = []
        shown: dict[str, Promotion] = {}
        if not cart.discount_settings.custom_discounts_enabled:
            offers, shown = self._offers(codes, at)
        lines = [item.pricing_line(self.facts.get(item.product_id or "")) for item in items]
        return price_cart(lines=lines, currency=cart.currency or "", offers=offers, now=at), shown

    def _offers(self, codes: Sequence[AppliedCode], at: datetime) -> tuple[list[Offer], dict[str, Promotion]]:
        """The promotions that may discount the cart: the applied codes' and the running automatic ones."""
        coded = {
            c.promotion_id: self.promotions[c.promotion_id]
            for c in codes
            if c.promotion_id in self.promotions
        }
        offers: list[Offer] = []
        for applied in codes:
            row, promotion = self.rows.get(applied.code_id), coded.get(applied.promotion_id)
            if (
                row is None
                or promotion is None
                or row.promotion_id != promotion.id
                or promotion.attributes.automatic
            ):
                continue  # deleted since, or moved: it gives nothing and is dropped at the next change
            if not self.shopper.may_use(row):
                continue
            offers.append(
                Offer(
                    promotion_id=promotion.id,
                    created_at=promotion.created_at,
                    attributes=promotion.attributes,
                    code=applied.code,
                    remaining_uses=row.uses,
                    consume_unit=ConsumeUnit(row.consume_unit),
                )
            )
        running, automatic = self._running_at(at)
        return offers + running, {**coded, **automatic}

    def _running_at(self, at: datetime) -> tuple[list[Offer], dict[str, Promotion]]:
        """The automatic promotions running at `at`, as offers (made once for every pricing at `at`)."""
        if at not in self._running:
            automatic = {p.id: p for p in self.automatic if p.attributes.start <= at < p.attributes.end}
            offers = [
                Offer(
                    promotion_id=promotion.id,
                    created_at=promotion.created_at,
                    attributes=promotion.attributes,
                    code=automatic_code(promotion.id),
                )
                for promotion in automatic.values()
            ]
            self._running[at] = (offers, automatic)
        return self._running[at]


def pricing_time(cart: Cart, shopper: Shopper, now: datetime) -> datetime:
    """When a cart's promotions are evaluated: a preview date shows promotions before they start, but only
    to a shop's back end."""
    return cart.pricing_time(now) if shopper.trusted else now


@dataclass
class LoadedCart:
    """A cart as stored (or the empty cart an unknown id reads as), its store, and its pricing inputs."""

    cart: Cart
    store: Store
    items: list[CartItem]
    codes: list[AppliedCode]
    inputs: PricingInputs

    def price(self, now: datetime) -> Priced:
        """The cart as loaded, priced now."""
        return self.inputs.price(self.cart, self.items, self.codes, now)


def load_contents(
    repos: StoreScope, cart: Cart, store: Store, shopper: Shopper, now: datetime, *, changing: bool = False
) -> LoadedCart:
    """A cart read with its store, with its lines and codes and what pricing them reads."""
    items, codes, inputs = load_inputs(repos, cart, shopper, now, changing=changing)
    return LoadedCart(cart, store, items, codes, inputs)


def load_inputs(
    repos: StoreScope, cart: Cart, shopper: Shopper, now: datetime, *, changing: bool = False
) -> tuple[list[CartItem], list[AppliedCode], PricingInputs]:
    """A stored cart's lines and codes with what pricing them reads, in two statements; the automatic
    promotions only where the cart has lines, or will have if `changing` it adds some."""
    if not cart.stored:
        return [], [], PricingInputs(shopper)
    lines, facts = repos.pricing.lines([cart.id])
    items = lines.get(cart.id, [])
    at = pricing_time(cart, shopper, now)
    offers = repos.pricing.offers([cart.id], (at, at) if items or changing else None)
    return items, offers.applied.get(cart.id, []), PricingInputs.of(shopper, facts, offers)


def load_many(
    repos: StoreScope, found: Sequence[Cart], shopper: Shopper, now: datetime
) -> tuple[dict[str, list[CartItem]], dict[str, list[AppliedCode]], PricingInputs]:
    """The lines and codes of several carts and what pricing them all reads: two statements, whatever
    the number of carts."""
    ids = [cart.id for cart in found]
    lines, facts = repos.pricing.lines(ids)
    times = [pricing_time(cart, shopper, now) for cart in found if lines.get(cart.id)]
    offers = repos.pricing.offers(ids, (min(times), max(times)) if times else None)
    return lines, offers.applied, PricingInputs.of(shopper, facts, offers)
