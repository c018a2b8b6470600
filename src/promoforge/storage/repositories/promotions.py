"""A store's promotions, their versions and their code counters."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, delete, func, insert, select, update

from promoforge.domain.money import money_documents, money_from_documents
from promoforge.domain.promotions import Promotion, PromotionAttributes, PromotionVersion, rules_from_document
from promoforge.domain.queries import Page
from promoforge.storage.dialects import DialectOps
from promoforge.storage.repositories.codes import promotion_ref_of
from promoforge.storage.repositories.paging import count_and_page
from promoforge.storage.schema import (
    CODE_NUMBER_LIMIT,
    promotion_codes,
    promotion_versions,
    promotions,
    stores,
)


class PromotionsByVersion:
    """A bounded, thread-safe cache of parsed promotions keyed by id and version.

    A version number names one set of attributes for good (every change saves a new version, and nothing
    else changes a promotion but its code counter and its tombstone), so an entry never goes stale.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, int], Promotion] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[tuple[str, int]]) -> list[Promotion | None]:
        """Those versions of those promotions, each None if not parsed before."""
        with self._lock:
            found = [self._entries.get(key) for key in keys]
            for key, promotion in zip(keys, found, strict=True):
                if promotion is not None:
                    self._entries.move_to_end(key)
            return found

    def put(self, promotion: Promotion) -> None:
        """Remember a version, forgetting the least recently used past capacity."""
        with self._lock:
            self._entries[(promotion.id, promotion.version)] = promotion
            self._entries.move_to_end((promotion.id, promotion.version))
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)


_BY_VERSION = PromotionsByVersion(capacity=4096)


@dataclass(frozen=True)
class PricingKey:
    """What pricing reads of a promotion's row each time: its id, version and code counter."""

    id: str
    version: int
    code_count: int


def promotions_by_key(
    connection: Connection,
    keys: Sequence[PricingKey],
    condition: ColumnElement[bool] | Callable[[], ColumnElement[bool]],
) -> dict[str, Promotion]:
    """The promotions with these keys, by id: parsed versions from the cache, with the counter read now;
    versions not parsed before are read (those still meeting `condition`) and remembered."""
    cached = _BY_VERSION.get_many([(key.id, key.version) for key in keys])
    found: dict[str, Promotion] = {}
    missing: list[str] = []
    for key, promotion in zip(keys, cached, strict=True):
        if promotion is None:
            missing.append(key.id)
        elif promotion.code_count == key.code_count:
            found[key.id] = promotion
        else:
            found[key.id] = replace(promotion, code_count=key.code_count)
    if missing:
        where = condition() if callable(condition) else condition
        # Absent here if it changed between the reads and no longer meets the condition.
        for row in connection.execute(select(promotions).where(where, promotions.c.id.in_(missing))):
            found[str(row.id)] = _promotion(row)
            _BY_VERSION.put(found[str(row.id)])
    return found


class PromotionRepository:
    """Promotions of one store. A deleted promotion stays as a tombstone that no query here returns."""

    def __init__(self, connection: Connection, ops: DialectOps, store_id: str) -> None:
        self.connection = connection
        self.ops = ops
        self.store_id = store_id

    def _live(self, promotion_id: str) -> ColumnElement[bool]:
        return and_(
            promotions.c.store_id == self.store_id,
            promotions.c.id == promotion_id,
            promotions.c.deleted_at.is_(None),
        )

    def add(self, promotion: Promotion) -> None:
        """Insert a promotion and its first version."""
        self.connection.execute(
            insert(promotions).values(**_promotion_values(promotion), **self.ops.new_ref(promotions))
        )
        self._add_version(promotion)

    def get(self, promotion_id: str, *, for_update: bool = False) -> Promotion | None:
        """Return one promotion; `for_update` locks it until the transaction ends."""
        query = select(promotions).where(self._live(promotion_id))
        if for_update:
            query = query.with_for_update(key_share=True)
        row = self.connection.execute(query).first()
        return _promotion(row) if row else None

    def exists(self, promotion_id: str) -> bool:
        """Tell whether the store has this promotion."""
        return (
            self.connection.execute(select(promotions.c.id).where(self._live(promotion_id))).first()
            is not None
        )

    def lock(self, promotion_id: str) -> bool:
        """Lock the promotion until the transaction ends; tell whether it exists.

        First in the lock order (docs/adr/0007): every transaction that changes the promotion, its jobs or
        its codes counter takes this lock before any job row. It is FOR NO KEY UPDATE, which does not
        block the foreign-key checks (FOR KEY SHARE) that writes to the promotion's jobs make.
        """
        query = select(promotions.c.id).where(self._live(promotion_id)).with_for_update(key_share=True)
        return self.connection.execute(query).first() is not None

    def many(self, promotion_ids: Sequence[str]) -> list[Promotion]:
        """The live promotions among these ids."""
        if not promotion_ids:
            return []
        # By id alone (the store is checked on each row): with the store in the WHERE too, planners walk
        # the store's whole created_at index.
        return self._priced(and_(promotions.c.id.in_(list(promotion_ids)), promotions.c.deleted_at.is_(None)))

    def _priced(self, condition: ColumnElement[bool]) -> list[Promotion]:
        """Promotions for pricing: versions and counters read now, each version parsed once."""
        rows = self.connection.execute(
            select(
                promotions.c.id, promotions.c.store_id, promotions.c.version, promotions.c.code_count
            ).where(condition)
        ).all()
        found = [
            PricingKey(str(row.id), int(row.version), int(row.code_count))
            for row in rows
            if str(row.store_id) == self.store_id
        ]
        parsed = promotions_by_key(self.connection, found, condition)
        return [parsed[key.id] for key in found if key.id in parsed]

    def list_page(self, page: Page, *, code_key: str | None = None) -> tuple[list[Promotion], int]:
        """Return a page of the store's promotions, oldest first, optionally only the one owning a code."""
        condition = and_(promotions.c.store_id == self.store_id, promotions.c.deleted_at.is_(None))
        if code_key is not None:
            store_ref = select(stores.c.ref).where(stores.c.id == self.store_id).scalar_subquery()
            owner = select(promotion_ref_of(promotion_codes.c.seq)).where(
                promotion_codes.c.store_ref == store_ref, promotion_codes.c.code_key == code_key
            )
            condition = and_(condition, promotions.c.ref.in_(owner.scalar_subquery()))
        return count_and_page(
            self.connection,
            promotions,
            condition,
            (promotions.c.created_at, promotions.c.id),
            page,
            _promotion,
        )

    def save(self, promotion: Promotion) -> None:
        """Write new attributes and record them as a new version."""
        values = _promotion_values(promotion)
        for fixed in ("id", "store_id", "created_at", "created_by", "code_count", "deleted_at"):
            values.pop(fixed)
        self.connection.execute(update(promotions).where(self._live(promotion.id)).values(**values))
        self._add_version(promotion)

    def mark_deleted(self, promotion_id: str, now: datetime) -> bool:
        """Turn a promotion into a tombstone that no reader sees; tell whether it existed."""
        result = self.connection.execute(
            update(promotions).where(self._live(promotion_id)).values(deleted_at=now, updated_at=now)
        )
        return result.rowcount == 1

    def forget_history(self, promotion_id: str) -> None:
        """Delete the versions of a deleted promotion and zero its counter (the last step of its purge)."""
        self.connection.execute(
            delete(promotion_versions).where(
                promotion_versions.c.store_id == self.store_id,
                promotion_versions.c.promotion_id == promotion_id,
            )
        )
        self.connection.execute(
            update(promotions)
            .where(promotions.c.store_id == self.store_id, promotions.c.id == promotion_id)
            .values(code_count=0)
        )

    def history(self, promotion_id: str, page: Page) -> tuple[list[PromotionVersion], int]:
        """Return a page of a promotion's versions, newest first."""
        condition = and_(
            promotion_versions.c.store_id == self.store_id, promotion_versions.c.promotion_id == promotion_id
        )
        return count_and_page(
            self.connection,
            promotion_versions,
            condition,
            (promotion_versions.c.version.desc(),),
            page,
            _version,
        )

    def reserve_codes(self, promotion_id: str, count: int) -> Promotion | None:
        """Count `count` more codes against the live promotion if the store limit allows; return it if so."""
        limit = select(stores.c.max_codes_per_promotion).where(stores.c.id == self.store_id).scalar_subquery()
        row = self.connection.execute(
            update(promotions)
            .where(self._live(promotion_id), promotions.c.code_count + count <= limit)
            .values(code_count=promotions.c.code_count + count)
            .returning(*promotions.c)
        ).first()
        return _promotion(row) if row else None

    def take_code_numbers(self, promotion_id: str, count: int) -> tuple[int, int] | None:
        """Hand out `count` new code numbers of the live promotion: (its ref, the first number), or None
        if it is gone (or, in theory, out of numbers). Locks the promotion until the transaction ends."""
        row = self.connection.execute(
            update(promotions)
            .where(self._live(promotion_id), promotions.c.code_numbers + count <= CODE_NUMBER_LIMIT)
            .values(code_numbers=promotions.c.code_numbers + count)
            .returning(promotions.c.ref, promotions.c.code_numbers)
        ).first()
        return None if row is None else (int(row.ref), int(row.code_numbers) - count)

    def release_codes(self, promotion_id: str, count: int) -> None:
        """Stop counting `count` codes against the promotion."""
        if count:
            self.connection.execute(
                update(promotions)
                .where(promotions.c.store_id == self.store_id, promotions.c.id == promotion_id)
                .values(code_count=promotions.c.code_count - count)
            )

    def code_total(self) -> int:
        """Return the codes counted against all of the store's live promotions."""
        total = self.connection.execute(
            select(func.coalesce(func.sum(promotions.c.code_count), 0)).where(
                promotions.c.store_id == self.store_id, promotions.c.deleted_at.is_(None)
            )
        ).scalar_one()
        return int(total)

    def _add_version(self, promotion: Promotion) -> None:
        self.connection.execute(
            insert(promotion_versions).values(
                promotion_id=promotion.id,
                version=promotion.version,
                store_id=promotion.store_id,
                attributes=_version_document(promotion),
                created_at=promotion.updated_at,
            )
        )


def _attribute_values(a: PromotionAttributes) -> dict[str, Any]:
    """The attributes stored the same way in a promotion row and in a version document."""
    return {
        "name": a.name,
        "description": a.description,
        "enabled": a.enabled,
        "automatic": a.automatic,
        "promotion_type": a.promotion_type.value,
        "schema": a.schema.to_document(),
        "min_cart_value": money_documents(a.min_cart_value),
        "max_discount_value": money_documents(a.max_discount_value),
        "max_applications_per_cart": a.max_applications_per_cart,
    }


def _promotion_values(promotion: Promotion) -> dict[str, Any]:
    a = promotion.attributes
    return {
        "id": promotion.id,
        "store_id": promotion.store_id,
        **_attribute_values(a),
        "starts_at": a.start,
        "ends_at": a.end,
        "created_by": promotion.created_by,
        "updated_by": promotion.updated_by,
        "code_count": promotion.code_count,
        "version": promotion.version,
        "created_at": promotion.created_at,
        "updated_at": promotion.updated_at,
        "deleted_at": None,
    }


def _attributes(m: Any) -> PromotionAttributes:
    return PromotionAttributes(
        name=m["name"],
        description=m["description"],
        enabled=bool(m["enabled"]),
        automatic=bool(m["automatic"]),
        schema=rules_from_document(m["promotion_type"], m["schema"]),
        start=m["starts_at"],
        end=m["ends_at"],
        min_cart_value=money_from_documents(m["min_cart_value"]),
        max_discount_value=money_from_documents(m["max_discount_value"]),
        max_applications_per_cart=m["max_applications_per_cart"],
    )


def _promotion(row: Row[Any]) -> Promotion:
    m = row._mapping
    return Promotion(
        id=str(m["id"]),
        store_id=str(m["store_id"]),
        attributes=_attributes(m),
        created_by=m["created_by"],
        updated_by=m["updated_by"],
        code_count=int(m["code_count"]),
        version=int(m["version"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _version_document(promotion: Promotion) -> dict[str, Any]:
    a = promotion.attributes
    return {
        **_attribute_values(a),
        "starts_at": a.start.isoformat(),
        "ends_at": a.end.isoformat(),
        "created_by": promotion.created_by,
        "updated_by": promotion.updated_by,
        "promotion_created_at": promotion.created_at.isoformat(),
    }


def _version(row: Row[Any]) -> PromotionVersion:
    m = row._mapping
    doc = dict(m["attributes"])
    doc["starts_at"] = datetime.fromisoformat(doc["starts_at"])
    doc["ends_at"] = datetime.fromisoformat(doc["ends_at"])
    return PromotionVersion(
        promotion_id=str(m["promotion_id"]),
        version=int(m["version"]),
        attributes=_attributes(doc),
        created_by=doc.get("created_by"),
        updated_by=doc.get("updated_by"),
        promotion_created_at=datetime.fromisoformat(doc["promotion_created_at"]),
        created_at=m["created_at"],
    )
