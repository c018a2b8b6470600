"""The per-process cache of parsed promotions: keyed by id and version, bounded, least recently used out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from promoforge.api.documents.promotions.requests import validate_promotion
from promoforge.domain.promotions import Promotion
from promoforge.storage.repositories.promotions import PromotionsByVersion
from support import promotion_body

AT = datetime(2026, 1, 1, tzinfo=UTC)


def promotion(promotion_id: str, version: int) -> Promotion:
    return Promotion(
        id=promotion_id,
        store_id="store",
        attributes=validate_promotion(promotion_body(name=f"{promotion_id} v{version}")),
        created_by=None,
        updated_by=None,
        code_count=0,
        version=version,
        created_at=AT,
        updated_at=AT,
    )


def test_a_version_is_found_only_under_its_own_number() -> None:
    cache = PromotionsByVersion(capacity=10)
    first = promotion("a", 1)
    cache.put(first)
    assert cache.get_many([("a", 1), ("a", 2), ("b", 1)]) == [first, None, None]
    second = replace(first, version=2)
    cache.put(second)
    assert cache.get_many([("a", 2), ("a", 1)]) == [second, first]


def test_the_least_recently_used_goes_past_capacity() -> None:
    cache = PromotionsByVersion(capacity=2)
    a, b, c = promotion("a", 1), promotion("b", 1), promotion("c", 1)
    cache.put(a)
    cache.put(b)
    cache.get_many([("a", 1)])  # a is now the most recently used
    cache.put(c)
    assert cache.get_many([("a", 1), ("b", 1), ("c", 1)]) == [a, None, c]
