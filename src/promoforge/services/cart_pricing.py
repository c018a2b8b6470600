"""The pricing inputs of carts, loaded once (lines, applied codes with their rows and promotions, the running
automatic promotions, the products' facts), and the carts priced in memory by the engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from promoforge.domain.carts import AppliedCode, Cart, CartItem
from promoforge.domain.codes import ConsumeUnit, PromotionCode
from promoforge.domain.pricing import Offer, PricedCart, ProductFacts, automatic_code, price_cart
from promoforge.domain.promotions import Promotion
from promoforge.domain.shoppers import Shopper
from promoforge.storage.repositories.transactions import StoreScope


def price_stored(
    repos: StoreScope,
    cart: Cart,
    items: Sequence[CartItem],
    codes: Sequence[AppliedCode],
    shopper: Shopper,
    now: datetime,
    code_rows: Mapping[str, PromotionCode] | None = None,
) -> tuple[PricedCart, dict[str, Promotion]]:
    """Price a stored cart with its applied codes and the store's running automatic promotions; the codes'
    rows are read unless given (as checkout gives the rows it locked)."""
    return price_carts(repos, [(cart, items, codes)], shopper, now, code_rows=code_rows)[0]


StoredCart = tuple[Cart, Sequence[CartItem], Sequence[AppliedCode]]


def price_carts(
    repos: StoreScope,
    stored: Sequence[StoredCart],
    shopper: Shopper,
    now: datetime,
    code_rows: Mapping[str, PromotionCode] | None = None,
) -> list[tuple[PricedCart, dict[str, Promotion]]]:
    """Price carts (each with its lines and applied codes), reading what pricing needs once for all of
    them: the codes' rows (unless given), their promotions, the running automatic promotions and the
    products' facts. A list of carts then costs a few queries, whatever its length."""
    coded = [
        codes
        for cart, items, codes in stored
        if items and not cart.discount_settings.custom_discounts_enabled
    ]
    code_ids = [c.code_id for codes in coded for c in codes]
    promotion_ids = list(dict.fromkeys(c.promotion_id for codes in coded for c in codes))
    rows = code_rows if code_rows is not None else repos.codes.many(code_ids) if code_ids else {}
    automatic: dict[datetime, dict[str, Promotion]] = {}
    promotions = {p.id: p for p in repos.promotions.many(promotion_ids)} if coded else {}
    facts = _product_facts(repos, [item for _, items, _ in stored for item in items])
    priced: list[tuple[PricedCart, dict[str, Promotion]]] = []
    for cart, items, codes in stored:
        if not items:
            priced.append((price_cart(lines=[], currency=cart.currency or "", offers=[], now=now), {}))
            continue
        # A preview date shows promotions before they start: only to a shop's back end.
        at = cart.pricing_time(now) if shopper.trusted else now
        offers: list[Offer] = []
        shown: dict[str, Promotion] = {}
        if not cart.discount_settings.custom_discounts_enabled:
            if at not in automatic:
                automatic[at] = {p.id: p for p in repos.promotions.automatic_at(at)}
            offers, shown = _offers(codes, rows, promotions, automatic[at], shopper)
        lines = [item.pricing_line(facts.get(item.product_id or "")) for item in items]
        priced.append((price_cart(lines=lines, currency=cart.currency or "", offers=offers, now=at), shown))
    return priced


def _offers(
    codes: Sequence[AppliedCode],
    rows: Mapping[str, PromotionCode],
    promotions: Mapping[str, Promotion],
    automatic: Mapping[str, Promotion],
    shopper: Shopper,
) -> tuple[list[Offer], dict[str, Promotion]]:
    """The promotions that may discount the cart: the applied codes' and the running automatic ones only."""
    coded = {c.promotion_id: promotions[c.promotion_id] for c in codes if c.promotion_id in promotions}
    offers: list[Offer] = []
    for applied in codes:
        row, promotion = rows.get(applied.code_id), coded.get(applied.promotion_id)
        if (
            row is None
            or promotion is None
            or row.promotion_id != promotion.id
            or promotion.attributes.automatic
        ):
            continue  # deleted since, or moved: it gives nothing and is dropped at the next change
        if not shopper.may_use(row):
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
    for promotion in automatic.values():
        offers.append(
            Offer(
                promotion_id=promotion.id,
                created_at=promotion.created_at,
                attributes=promotion.attributes,
                code=automatic_code(promotion.id),
            )
        )
    return offers, {**coded, **automatic}


def _product_facts(repos: StoreScope, items: Sequence[CartItem]) -> dict[str, ProductFacts]:
    """What targeting reads of the cart's products now: catalog, nodes, template attributes."""
    ids = sorted({item.product_id for item in items if item.product_id is not None})
    if not ids:
        return {}
    return {
        product.id: ProductFacts(
            product_id=product.id,
            catalog_id=product.catalog_id,
            node_ids=frozenset(product.node_ids),
            attributes=product.attributes,
        )
        for product in repos.products.many(ids)
    }
