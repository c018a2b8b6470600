"""Promotion use cases without HTTP: create and read, partial updates recorded as versions, re-enabling an
expired promotion, and deletion."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from promoforge.domain.errors import CodeNotApplicable, NotFound, SemanticError
from promoforge.domain.promotions import PromotionAttributes
from promoforge.domain.queries import Page
from promoforge.services.codes import list_codes
from promoforge.services.promotions import (
    delete_promotion,
    get_promotion,
    list_promotions,
    promotion_history,
    update_promotion,
)
from promoforge.storage.repositories import Database
from seeds import GUEST, NOW, add_codes, apply_code, custom_line, fill_cart, new_promotion

LATER = NOW + timedelta(hours=1)


def changed(current: PromotionAttributes, changes: dict[str, Any]) -> PromotionAttributes:
    """The attributes with the changes made (the wire layer's parser validates them; these are trusted)."""
    return replace(current, **{name: value for name, value in changes.items() if name != "promotion_type"})


def update(db: Database, store_id: str, promotion_id: str, actor: str = "editor", **changes: Any) -> Any:
    """A partial update through the use case, an hour after the promotion was made."""
    return update_promotion(
        db,
        store_id=store_id,
        promotion_id=promotion_id,
        changes=changes,
        parse_changes=changed,
        actor=actor,
        now=LATER,
    )


def test_a_created_promotion_is_read_back_and_listed(db: Database, store_id: str) -> None:
    created = new_promotion(db, store_id, name="Summer")

    assert get_promotion(db, store_id=store_id, promotion_id=created.id) == created
    assert (created.version, created.code_count, created.created_by) == (1, 0, "seed")
    listed, total = list_promotions(db, store_id=store_id, page=Page(limit=10, offset=0))
    assert ([promotion.id for promotion in listed], total) == ([created.id], 1)


def test_each_update_is_a_version_and_the_history_reads_newest_first(db: Database, store_id: str) -> None:
    created = new_promotion(db, store_id, name="Summer")
    update(db, store_id, created.id, name="Summer sale")
    current = update(db, store_id, created.id, actor="another editor", enabled=False)

    versions, total, number = promotion_history(
        db, store_id=store_id, promotion_id=created.id, page=Page(limit=10, offset=0)
    )

    assert (current.version, current.updated_by, current.updated_at) == (3, "another editor", LATER)
    assert (current.attributes.name, current.attributes.enabled) == ("Summer sale", False)
    assert get_promotion(db, store_id=store_id, promotion_id=created.id) == current
    assert (total, number) == (3, 3)
    assert [(v.version, v.attributes.name, v.attributes.enabled) for v in versions] == [
        (3, "Summer sale", False),
        (2, "Summer sale", True),
        (1, "Summer", True),
    ]
    assert versions[-1].attributes == created.attributes
    assert [v.updated_by for v in versions] == ["another editor", "editor", "seed"]
    newest, _, _ = promotion_history(
        db, store_id=store_id, promotion_id=created.id, page=Page(limit=1, offset=1)
    )
    assert [v.version for v in newest] == [2]


def test_the_type_of_a_promotion_never_changes(db: Database, store_id: str) -> None:
    created = new_promotion(db, store_id)

    with pytest.raises(SemanticError):
        update(db, store_id, created.id, promotion_type="percent_discount", name="Renamed")

    assert get_promotion(db, store_id=store_id, promotion_id=created.id) == created


def test_re_enabling_an_expired_promotion_wipes_its_codes(db: Database, store_id: str) -> None:
    expired = new_promotion(db, store_id, end=NOW - timedelta(days=1))
    add_codes(db, store_id, expired.id, "OLD1", "OLD2")
    running = new_promotion(db, store_id)
    add_codes(db, store_id, running.id, "KEPT")

    update(db, store_id, expired.id, end=NOW + timedelta(days=30))
    update(db, store_id, running.id, end=NOW + timedelta(days=60))

    assert get_promotion(db, store_id=store_id, promotion_id=expired.id).code_count == 0
    assert list_codes(db, store_id=store_id, promotion_id=expired.id, page=Page(limit=10, offset=0)) == (
        [],
        0,
    )
    assert get_promotion(db, store_id=store_id, promotion_id=running.id).code_count == 1
    kept, total = list_codes(db, store_id=store_id, promotion_id=running.id, page=Page(limit=10, offset=0))
    assert ([code.code for code in kept], total) == (["KEPT"], 1)


def test_a_deleted_promotion_is_gone_for_every_reader_and_its_codes_apply_no_more(
    db: Database, store_id: str
) -> None:
    doomed = new_promotion(db, store_id)
    add_codes(db, store_id, doomed.id, "SAVE5")
    kept = new_promotion(db, store_id)
    fill_cart(db, store_id, "c1", custom_line("Shirt", 1500), shopper=GUEST)

    delete_promotion(db, store_id=store_id, promotion_id=doomed.id, now=NOW)

    with pytest.raises(NotFound):
        get_promotion(db, store_id=store_id, promotion_id=doomed.id)
    with pytest.raises(NotFound):
        list_codes(db, store_id=store_id, promotion_id=doomed.id, page=Page(limit=10, offset=0))
    with pytest.raises(NotFound):
        update(db, store_id, doomed.id, name="Back")
    with pytest.raises(NotFound):
        delete_promotion(db, store_id=store_id, promotion_id=doomed.id, now=NOW)
    with pytest.raises(CodeNotApplicable):
        apply_code(db, store_id, "c1", "SAVE5", shopper=GUEST)
    listed, total = list_promotions(db, store_id=store_id, page=Page(limit=10, offset=0))
    assert ([promotion.id for promotion in listed], total) == ([kept.id], 1)
    assert list_promotions(db, store_id=store_id, page=Page(limit=10, offset=0), code="save5") == ([], 0)
