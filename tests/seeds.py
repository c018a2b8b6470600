"""Seed data for the tests below the API: stores, promotions, codes, products and carts, made through the
use cases and repositories, never through HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from promoforge.domain.carts import Cart
from promoforge.domain.codes import ConsumeUnit, NewCode, PromotionCode, canonical_code
from promoforge.domain.jobs import JobType, queued_job
from promoforge.domain.money import Money
from promoforge.domain.products import Product, ProductFields, ProductPrice, ProductStatus
from promoforge.domain.promotions import Promotion, PromotionAttributes, rules_from_document
from promoforge.domain.shoppers import Shopper
from promoforge.services import auth, codes, products, promotions
from promoforge.services.carts import CartView, CodeToApply, NewCustomLine, NewLine, add_lines
from promoforge.storage.repositories.transactions import Transactor
from promoforge.storage.schema import metadata

# Fifteen seconds into a minute, so that a test's attempts all count in one window.
NOW = datetime(2025, 3, 14, 10, 0, 15, tzinfo=UTC)
LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)
FAR_AHEAD = datetime(2099, 12, 31, tzinfo=UTC)

SHOP = Shopper(trusted=True, client="192.0.2.1")
"""A shop's back end (client_credentials), calling from one address."""
GUEST = Shopper(client="198.51.100.7")
"""An anonymous storefront shopper."""


def new_store(db: Transactor, name: str = "shop", **settings: Any) -> str:
    """A store with these settings (store columns, e.g. `code_attempts_per_cart`); its id."""
    store_id = auth.create_store(db, name=name, now=NOW).store.id
    if settings:
        with db.write() as tx:
            tx.stores.update(store_id, **settings)
    return store_id


def attributes(
    *,
    promotion_type: str = "fixed_discount",
    schema: dict[str, Any] | None = None,
    amount: int = 500,
    enabled: bool = True,
    automatic: bool = False,
    start: datetime = LONG_AGO,
    end: datetime = FAR_AHEAD,
    name: str = "Summer sale",
    min_cart_value: int | None = None,
) -> PromotionAttributes:
    """Validated promotion attributes; by default $`amount` off the cart, running from long ago."""
    rules = schema if schema is not None else {"currencies": [{"currency": "USD", "amount": amount}]}
    return PromotionAttributes(
        name=name,
        description="",
        enabled=enabled,
        automatic=automatic,
        schema=rules_from_document(promotion_type, rules),
        start=start,
        end=end,
        min_cart_value=None if min_cart_value is None else (Money("USD", min_cart_value),),
    )


def new_promotion(
    db: Transactor, store_id: str, *, now: datetime = NOW, **attribute_values: Any
) -> Promotion:
    """A promotion created through its use case (see `attributes` for the values)."""
    return promotions.create_promotion(
        db, store_id=store_id, attributes=attributes(**attribute_values), actor="seed", now=now
    )


def new_code(
    text: str,
    *,
    max_uses: int | None = None,
    consume_unit: ConsumeUnit = ConsumeUnit.PER_CART,
    user: str | None = None,
) -> NewCode:
    """A manual code as a request brings it."""
    return NewCode(
        code=text, key=canonical_code(text), max_uses=max_uses, consume_unit=consume_unit.value, user=user
    )


def add_codes(
    db: Transactor,
    store_id: str,
    promotion_id: str,
    *texts: str,
    max_uses: int | None = None,
    consume_unit: ConsumeUnit = ConsumeUnit.PER_CART,
    user: str | None = None,
    now: datetime = NOW,
) -> None:
    """Add manual codes through their use case."""
    codes.add_codes(
        db,
        store_id=store_id,
        promotion_id=promotion_id,
        codes=[new_code(text, max_uses=max_uses, consume_unit=consume_unit, user=user) for text in texts],
        actor="seed",
        now=now,
    )


def code_row(db: Transactor, store_id: str, text: str) -> PromotionCode:
    """The stored code with this text (in any case)."""
    with db.read() as tx:
        found = tx.store(store_id).codes.by_key(canonical_code(text))
    assert found is not None, text
    return found


def generate_codes(
    db: Transactor,
    store_id: str,
    promotion_id: str,
    bodies: list[str],
    *,
    max_uses: int | None,
    prefix: str = "gen-",
    now: datetime = NOW,
) -> tuple[str, int]:
    """Insert generated codes as a generation job's batch does (PostgreSQL leaves their uses to the job's
    row); the job's id and how many codes went in."""
    parameters: dict[str, Any] = {"number_of_codes": len(bodies), "code_prefix": prefix}
    if max_uses is not None:
        parameters["max_uses_per_code"] = max_uses
    job = queued_job(
        job_id=str(uuid.uuid4()),
        store_id=store_id,
        promotion_id=promotion_id,
        job_type=JobType.CODE_GENERATE,
        parameters=parameters,
        progress_total=len(bodies),
        now=now,
    )
    with db.write() as tx:
        repos = tx.store(store_id)
        repos.jobs.add(job)
        numbers = repos.promotions.take_code_numbers(promotion_id, len(bodies))
        assert numbers is not None
        promotion_ref, first_number = numbers
        inserted = repos.codes.add_random(
            promotion_ref=promotion_ref,
            first_number=first_number,
            job_id=job.id,
            prefix=prefix,
            key_prefix=canonical_code(prefix),
            bodies=bodies,
            max_uses=max_uses,
            consume_unit=ConsumeUnit.PER_CART.value,
            created_at=now,
        )
        repos.promotions.reserve_codes(promotion_id, inserted)
    return job.id, inserted


def new_product(
    db: Transactor,
    store_id: str,
    sku: str,
    amount: int,
    *,
    catalog_id: str | None = None,
    node_ids: tuple[str, ...] = (),
    attributes: dict[str, dict[str, object]] | None = None,
) -> Product:
    """A live product priced in USD, put through its use case."""
    fields = ProductFields(
        sku=sku,
        name=sku.title(),
        status=ProductStatus.LIVE,
        prices={"USD": ProductPrice(amount=amount)},
        catalog_id=catalog_id,
        node_ids=node_ids,
        attributes=attributes or {},
    )
    product, _ = products.put_product(
        db, store_id=store_id, product_id=str(uuid.uuid4()), fields=fields, now=NOW
    )
    return product


def custom_line(name: str, unit_price: int, quantity: int = 1, sku: str = "") -> NewCustomLine:
    """A custom item priced by the caller (tax included)."""
    return NewCustomLine(name=name, quantity=quantity, unit_price=unit_price, sku=sku)


def fill_cart(
    db: Transactor,
    store_id: str,
    cart_id: str,
    *entries: NewLine,
    shopper: Shopper = SHOP,
    now: datetime = NOW,
) -> CartView:
    """Add lines (and codes) to a cart through the use case, as one request; the first write creates it."""
    return add_lines(
        db,
        store_id=store_id,
        cart_id=cart_id,
        entries=list(entries),
        bulk=len(entries) > 1,
        all_or_nothing=True,
        shopper=shopper,
        currency="USD",
        now=now,
    )


def apply_code(db: Transactor, store_id: str, cart_id: str, text: str, **kwargs: Any) -> CartView:
    """Apply one code to a cart through the use case."""
    return fill_cart(db, store_id, cart_id, CodeToApply(text), **kwargs)


def new_cart(
    db: Transactor, store_id: str, cart_id: str, *, updated_at: datetime = NOW, **fields: Any
) -> Cart:
    """A stored cart without lines, written straight through the cart repository."""
    cart = Cart(id=cart_id, store_id=store_id, created_at=updated_at, updated_at=updated_at, **fields)
    with db.write() as tx:
        assert tx.store(store_id).carts.add(cart)
    return cart


def row_counts(db: Transactor) -> dict[str, int]:
    """How many rows each table holds, for checking that something wrote nothing."""
    with db.read() as tx:
        return {
            table.name: int(tx.connection.execute(select(func.count()).select_from(table)).scalar_one())
            for table in metadata.sorted_tables
        }
