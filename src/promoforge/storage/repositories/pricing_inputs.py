"""What pricing a store's carts needs, in one statement each: the cart with its store, the lines with their
products' facts, and the applied codes with their rows and promotions beside the running automatic
promotions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    Select,
    and_,
    bindparam,
    null,
    select,
    text,
    union_all,
)

from promoforge.domain.carts import AppliedCode, Cart, CartItem
from promoforge.domain.codes import PromotionCode
from promoforge.domain.pricing import ProductFacts
from promoforge.domain.promotions import Promotion
from promoforge.domain.stores import Store
from promoforge.storage.column_types import UTCDateTime
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


def _cart_read() -> Select[Any]:
    """The cart (its columns NULL when it is not stored) with its store."""
    joined = stores.outerjoin(
        carts, and_(carts.c.store_id == stores.c.id, carts.c.id == bindparam("cart_id"))
    )
    return (
        select(*prefixed_store_columns(), *carts.c)
        .select_from(joined)
        .where(stores.c.id == bindparam("store_id"))
    )


def _cart_lock() -> Select[Any]:
    """The stored cart, locked, with its store."""
    return (
        select(*prefixed_store_columns(), *carts.c)
        .select_from(carts.join(stores, stores.c.id == carts.c.store_id))
        .where(carts.c.store_id == bindparam("store_id"), carts.c.id == bindparam("cart_id"))
        .with_for_update(of=carts)
    )


def _lines() -> Select[Any]:
    """The carts' lines with what targeting reads of their products."""
    joined = cart_items.outerjoin(
        products,
        and_(products.c.store_id == cart_items.c.store_id, products.c.id == cart_items.c.product_id),
    )
    return (
        select(
            *cart_items.c,
            products.c.id.label(_PRODUCT + "id"),
            products.c.catalog_id.label(_PRODUCT + "catalog_id"),
            products.c.node_ids.label(_PRODUCT + "node_ids"),
            products.c.attributes.label(_PRODUCT + "attributes"),
        )
        .select_from(joined)
        .where(
            cart_items.c.store_id == bindparam("store_id"),
            cart_items.c.cart_id.in_(bindparam("cart_ids", expanding=True)),
        )
        .order_by(cart_items.c.cart_id, cart_items.c.created_at, cart_items.c.position)
    )


def _applied_codes() -> Select[Any]:
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
        .where(
            cart_codes.c.store_id == bindparam("store_id"),
            cart_codes.c.cart_id.in_(bindparam("cart_ids", expanding=True)),
        )
    )


def _automatic() -> Select[Any]:
    """The enabled automatic promotions that run at some moment between `:earliest` and `:latest`."""
    names = ("cart_id", "applied_promotion_id", "applied_code_id", "applied_code", "applied_at")
    blanks: list[ColumnElement[Any]] = [null().label(name) for name in names]
    blanks += [null().label(column.name) for column in code_columns(_CODE)]
    return select(*blanks, *_pricing_key()).where(
        promotions.c.store_id == bindparam("store_id"),
        # The partial index's own predicate, word for word: SQLite uses a partial index only when the
        # query repeats its condition.
        text(AUTOMATIC_PROMOTION_CONDITION),
        promotions.c.enabled.is_(True),
        promotions.c.starts_at <= bindparam("latest", type_=UTCDateTime),
        promotions.c.ends_at > bindparam("earliest", type_=UTCDateTime),
    )


def _code_by_key() -> Select[Any]:
    """The code with a canonical key, of a promotion that is not deleted, with its promotion's key."""
    store_ref = select(stores.c.ref).where(stores.c.id == bindparam("store_id")).scalar_subquery()
    return (
        select(
            *code_columns(),
            promotions.c.version.label("promotion_version"),
            promotions.c.code_count.label("promotion_code_count"),
        )
        .select_from(promotion_codes)
        .join(promotions, promotions.c.ref == promotion_ref_of(promotion_codes.c.seq))
        .outerjoin(promotion_jobs, promotion_jobs.c.ref == promotion_codes.c.job_ref)
        .where(
            promotion_codes.c.store_ref == store_ref,
            promotion_codes.c.code_key == bindparam("code_key"),
            promotions.c.deleted_at.is_(None),
        )
    )


def _pricing_key() -> list[ColumnElement[Any]]:
    return [
        promotions.c.id.label("promotion_id"),
        promotions.c.version.label("promotion_version"),
        promotions.c.code_count.label("promotion_code_count"),
    ]


# Built once: a statement object keeps its compiled form's cache key, so running it again costs no
# construction and no key computation.
_CART_READ = _cart_read()
_CART_LOCK = _cart_lock()
_LINES = _lines()
_CODES = _applied_codes()
_AUTOMATIC = _automatic()
_CODES_AND_AUTOMATIC = union_all(_CODES, _AUTOMATIC)
_CODE_BY_KEY = _code_by_key()


class PricingInputRepository:
    """The pricing inputs of one store's carts."""

    def __init__(self, connection: Connection, ops: DialectOps, store_id: str) -> None:
        self.connection = connection
        self.ops = ops
        self.store_id = store_id

    def _live(self) -> ColumnElement[bool]:
        """Promotions of the store that are not deleted (read only for versions not parsed before)."""
        return and_(promotions.c.store_id == self.store_id, promotions.c.deleted_at.is_(None))

    def cart(self, cart_id: str) -> tuple[Cart | None, Store | None]:
        """The cart (None if it is not stored) and its store, read together."""
        row = self.connection.execute(_CART_READ, {"store_id": self.store_id, "cart_id": cart_id}).first()
        if row is None:
            return None, None
        m = row._mapping
        return (cart_from(m) if m["id"] is not None else None), store_from(m, STORE_PREFIX)

    def locked_cart(self, cart_id: str) -> tuple[Cart, Store] | None:
        """Lock the stored cart until the transaction ends and read it with its store; None if not stored."""
        row = self.connection.execute(_CART_LOCK, {"store_id": self.store_id, "cart_id": cart_id}).first()
        return None if row is None else (cart_from(row._mapping), store_from(row._mapping, STORE_PREFIX))

    def lines(self, cart_ids: Sequence[str]) -> tuple[dict[str, list[CartItem]], dict[str, ProductFacts]]:
        """The carts' lines (each cart's oldest first) and what targeting reads of their products now."""
        if not cart_ids:
            return {}, {}
        lines: dict[str, list[CartItem]] = {}
        facts: dict[str, ProductFacts] = {}
        rows = self.connection.execute(_LINES, {"store_id": self.store_id, "cart_ids": list(cart_ids)})
        for row in rows:
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
        parameters: dict[str, Any] = {"store_id": self.store_id}
        if cart_ids:
            parameters["cart_ids"] = list(cart_ids)
        if running is not None:
            parameters["earliest"], parameters["latest"] = running
        if cart_ids and running is not None:
            query: Executable = _CODES_AND_AUTOMATIC
        elif cart_ids:
            query = _CODES
        elif running is not None:
            query = _AUTOMATIC
        else:
            return Offers()
        offers = Offers()
        keys: dict[str, PricingKey] = {}
        automatic: list[str] = []
        applied: list[tuple[str, AppliedCode]] = []
        for row in self.connection.execute(query, parameters):
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
        parsed = promotions_by_key(self.connection, list(keys.values()), self._live)
        offers.automatic = [parsed[pid] for pid in dict.fromkeys(automatic) if pid in parsed]
        coded = {code.promotion_id for _, code in applied}
        offers.promotions = {pid: promotion for pid, promotion in parsed.items() if pid in coded}
        return offers

    def code(self, code_key: str) -> tuple[PromotionCode, Promotion | None] | None:
        """The code with this canonical key, of a promotion that is not deleted, with that promotion."""
        parameters = {"store_id": self.store_id, "code_key": code_key}
        row = self.connection.execute(_CODE_BY_KEY, parameters).first()
        if row is None:
            return None
        m = row._mapping
        key = PricingKey(str(m["promotion_id"]), int(m["promotion_version"]), int(m["promotion_code_count"]))
        return code_from(m), promotions_by_key(self.connection, [key], self._live).get(key.id)
