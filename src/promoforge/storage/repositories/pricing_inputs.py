"""What pricing a store's carts needs, in one statement each: the cart with its store, the lines with their
products' facts, and the applied codes with their rows and promotions beside the running automatic
promotions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Executable, Select, and_, null, select, text, union_all

from promoforge.domain.carts import AppliedCode, Cart, CartItem
from promoforge.domain.codes import PromotionCode
from promoforge.domain.pricing import ProductFacts
from promoforge.domain.promotions import Promotion
from promoforge.domain.stores import Store
from promoforge.storage.dialects import DialectOps
from promoforge.storage.repositories.carts import cart_from, item_from
from promoforge.storage.repositories.codes import code_columns, code_from, promotion_ref_of
from promoforge.storage.repositories.promotions import PricingKey, promotions_by_key
from promoforge.storage.repositories.stores import STORE_PREFIX, prefixed_store_columns, store_from
from promoforge.storage.schema import (
    AUTOMATIC_PROMOTION_CONDITION,
    cart_codes,
    cart_items,
    carts,
    products,
    promotion_codes,
    promotion_jobs,
    promotions,
    stores,
)

_CODE = "code__"
_PRODUCT = "product__"


@dataclass
class Offers:
    """The codes applied to some carts with their rows and promotions, and the store's enabled automatic
    promotions that may be running at the times asked about."""

    applied: dict[str, list[AppliedCode]] = field(default_factory=dict)
    rows: dict[str, PromotionCode] = field(default_factory=dict)
    promotions: dict[str, Promotion] = field(default_factory=dict)
    automatic: list[Promotion] = field(default_factory=list)


class PricingInputRepository:
    """The pricing inputs of one store's carts."""

    def __init__(self, connection: Connection, ops: DialectOps, store_id: str) -> None:
        self.connection = connection
        self.ops = ops
        self.store_id = store_id

    def cart(self, cart_id: str) -> tuple[Cart | None, Store | None]:
        """The cart (None if it is not stored) and its store, read together."""
        query = (
            select(*prefixed_store_columns(), *carts.c)
            .select_from(
                stores.outerjoin(carts, and_(carts.c.store_id == stores.c.id, carts.c.id == cart_id))
            )
            .where(stores.c.id == self.store_id)
        )
        row = self.connection.execute(query).first()
        if row is None:
            return None, None
        m = row._mapping
        return (cart_from(m) if m["id"] is not None else None), store_from(m, STORE_PREFIX)

    def locked_cart(self, cart_id: str) -> tuple[Cart, Store] | None:
        """Lock the stored cart until the transaction ends and read it with its store; None if not stored."""
        query = (
            select(*prefixed_store_columns(), *carts.c)
            .select_from(carts.join(stores, stores.c.id == carts.c.store_id))
            .where(carts.c.store_id == self.store_id, carts.c.id == cart_id)
            .with_for_update(of=carts)
        )
        row = self.connection.execute(query).first()
        return None if row is None else (cart_from(row._mapping), store_from(row._mapping, STORE_PREFIX))

    def lines(self, cart_ids: Sequence[str]) -> tuple[dict[str, list[CartItem]], dict[str, ProductFacts]]:
        """The carts' lines (each cart's oldest first) and what targeting reads of their products now."""
        if not cart_ids:
            return {}, {}
        query = (
            select(
                *cart_items.c,
                products.c.id.label(_PRODUCT + "id"),
                products.c.catalog_id.label(_PRODUCT + "catalog_id"),
                products.c.node_ids.label(_PRODUCT + "node_ids"),
                products.c.attributes.label(_PRODUCT + "attributes"),
            )
            .select_from(
                cart_items.outerjoin(
                    products,
                    and_(
                        products.c.store_id == cart_items.c.store_id, products.c.id == cart_items.c.product_id
                    ),
                )
            )
            .where(cart_items.c.store_id == self.store_id, cart_items.c.cart_id.in_(list(cart_ids)))
            .order_by(cart_items.c.cart_id, cart_items.c.created_at, cart_items.c.position)
        )
        lines: dict[str, list[CartItem]] = {}
        facts: dict[str, ProductFacts] = {}
        for row in self.connection.execute(query):
            m = row._mapping
            lines.setdefault(m["cart_id"], []).append(item_from(m))
            product_id = m[_PRODUCT + "id"]
            if product_id is not None and str(product_id) not in facts:
                facts[str(product_id)] = ProductFacts(
                    product_id=str(product_id),
                    catalog_id=m[_PRODUCT + "catalog_id"],
                    node_ids=frozenset(m[_PRODUCT + "node_ids"]),
                    attributes=m[_PRODUCT + "attributes"],
                )
        return lines, facts

    def offers(self, cart_ids: Sequence[str], running: tuple[datetime, datetime] | None) -> Offers:
        """The carts' applied codes with their rows and promotions and, when `running` gives the earliest
        and latest pricing times, the enabled automatic promotions that may run at one of them (the
        caller checks each time against the promotion's window)."""
        if not cart_ids and running is None:
            return Offers()
        parts: list[Select[Any]] = []
        if cart_ids:
            parts.append(self._applied_codes(cart_ids))
        if running is not None:
            parts.append(self._automatic(*running))
        query: Executable = parts[0] if len(parts) == 1 else union_all(*parts)
        offers = Offers()
        keys: dict[str, PricingKey] = {}
        automatic: list[str] = []
        applied: list[tuple[str, AppliedCode]] = []
        for row in self.connection.execute(query):
            m = row._mapping
            if m["promotion_id"] is not None:
                keys[str(m["promotion_id"])] = PricingKey(
                    str(m["promotion_id"]), int(m["promotion_version"]), int(m["promotion_code_count"])
                )
            if m["cart_id"] is None:
                automatic.append(str(m["promotion_id"]))
                continue
            code = AppliedCode(
                promotion_id=str(m["applied_promotion_id"]),
                code_id=str(m["applied_code_id"]),
                code=m["applied_code"],
                applied_at=m["applied_at"],
            )
            applied.append((m["cart_id"], code))
            if m[_CODE + "seq"] is not None:
                row_code = code_from(m, _CODE)
                if row_code.id == code.code_id:  # the seq is the row's; the id tells it is still the code
                    offers.rows[code.code_id] = row_code
        applied.sort(key=lambda entry: (entry[0], entry[1].applied_at, entry[1].promotion_id))
        for cart_id, code in applied:
            offers.applied.setdefault(cart_id, []).append(code)
        live = and_(promotions.c.store_id == self.store_id, promotions.c.deleted_at.is_(None))
        parsed = promotions_by_key(self.connection, list(keys.values()), live)
        offers.automatic = [parsed[pid] for pid in dict.fromkeys(automatic) if pid in parsed]
        coded = {code.promotion_id for _, code in applied}
        offers.promotions = {pid: promotion for pid, promotion in parsed.items() if pid in coded}
        return offers

    def code(self, code_key: str) -> tuple[PromotionCode, Promotion | None] | None:
        """The code with this canonical key, of a promotion that is not deleted, with that promotion."""
        query = (
            select(
                *code_columns(),
                promotions.c.version.label("promotion_version"),
                promotions.c.code_count.label("promotion_code_count"),
            )
            .select_from(promotion_codes)
            .join(promotions, promotions.c.ref == promotion_ref_of(promotion_codes.c.seq))
            .outerjoin(promotion_jobs, promotion_jobs.c.ref == promotion_codes.c.job_ref)
            .where(
                promotion_codes.c.store_ref
                == select(stores.c.ref).where(stores.c.id == self.store_id).scalar_subquery(),
                promotion_codes.c.code_key == code_key,
                promotions.c.deleted_at.is_(None),
            )
        )
        row = self.connection.execute(query).first()
        if row is None:
            return None
        m = row._mapping
        key = PricingKey(str(m["promotion_id"]), int(m["promotion_version"]), int(m["promotion_code_count"]))
        live = and_(promotions.c.store_id == self.store_id, promotions.c.deleted_at.is_(None))
        return code_from(m), promotions_by_key(self.connection, [key], live).get(key.id)

    def _applied_codes(self, cart_ids: Sequence[str]) -> Select[Any]:
        """The carts' codes, each with its row (if it still exists) and its promotion (if live)."""
        code = promotion_codes.c
        source = (
            cart_codes.outerjoin(
                promotions,
                and_(
                    promotions.c.id == cart_codes.c.promotion_id,
                    promotions.c.store_id == cart_codes.c.store_id,
                    promotions.c.deleted_at.is_(None),
                ),
            )
            .outerjoin(
                promotion_codes,
                and_(code.seq == cart_codes.c.code_seq, promotion_ref_of(code.seq) == promotions.c.ref),
            )
            .outerjoin(promotion_jobs, promotion_jobs.c.ref == code.job_ref)
        )
        return (
            select(
                cart_codes.c.cart_id,
                cart_codes.c.promotion_id.label("applied_promotion_id"),
                cart_codes.c.code_id.label("applied_code_id"),
                cart_codes.c.code.label("applied_code"),
                cart_codes.c.applied_at,
                *code_columns(_CODE),
                *_pricing_key(),
            )
            .select_from(source)
            .where(cart_codes.c.store_id == self.store_id, cart_codes.c.cart_id.in_(list(cart_ids)))
        )

    def _automatic(self, earliest: datetime, latest: datetime) -> Select[Any]:
        """The enabled automatic promotions that run at some moment between `earliest` and `latest`."""
        names = ("cart_id", "applied_promotion_id", "applied_code_id", "applied_code", "applied_at")
        blanks: list[ColumnElement[Any]] = [null().label(name) for name in names]
        blanks += [null().label(column.name) for column in code_columns(_CODE)]
        return select(*blanks, *_pricing_key()).where(
            promotions.c.store_id == self.store_id,
            # The partial index's own predicate, word for word: SQLite uses a partial index only when the
            # query repeats its condition.
            text(AUTOMATIC_PROMOTION_CONDITION),
            promotions.c.enabled.is_(True),
            promotions.c.starts_at <= latest,
            promotions.c.ends_at > earliest,
        )


def _pricing_key() -> list[ColumnElement[Any]]:
    return [
        promotions.c.id.label("promotion_id"),
        promotions.c.version.label("promotion_version"),
        promotions.c.code_count.label("promotion_code_count"),
    ]
