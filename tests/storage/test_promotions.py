"""PromotionRepository: the codes counter held against the store's limit in one conditional statement, the
code numbers handed out, and the promotion that owns a code."""

from __future__ import annotations

from datetime import timedelta

from promoforge.domain.queries import Page
from promoforge.services.promotions import delete_promotion
from promoforge.storage.repositories import Database
from seeds import NOW, add_codes, new_promotion, new_store


def code_count(db: Database, store_id: str, promotion_id: str) -> int:
    """The codes counted against a promotion."""
    with db.read() as tx:
        promotion = tx.store(store_id).promotions.get(promotion_id)
    assert promotion is not None
    return promotion.code_count


def test_codes_are_counted_against_the_store_limit_or_not_at_all(db: Database) -> None:
    store_id = new_store(db, max_codes_per_promotion=3)
    promotion = new_promotion(db, store_id)

    with db.write() as tx:
        reserved = tx.store(store_id).promotions.reserve_codes(promotion.id, 2)
    with db.write() as tx:
        assert tx.store(store_id).promotions.reserve_codes(promotion.id, 2) is None
    assert reserved is not None and (reserved.id, reserved.code_count) == (promotion.id, 2)
    assert code_count(db, store_id, promotion.id) == 2
    with db.write() as tx:
        filled = tx.store(store_id).promotions.reserve_codes(promotion.id, 1)
        tx.store(store_id).promotions.release_codes(promotion.id, 2)
    assert filled is not None and filled.code_count == 3
    assert code_count(db, store_id, promotion.id) == 1


def test_a_deleted_promotion_counts_no_codes_and_hands_out_no_numbers(db: Database, store_id: str) -> None:
    promotion = new_promotion(db, store_id)
    delete_promotion(db, store_id=store_id, promotion_id=promotion.id, now=NOW)
    with db.write() as tx:
        assert tx.store(store_id).promotions.reserve_codes(promotion.id, 1) is None
        assert tx.store(store_id).promotions.take_code_numbers(promotion.id, 1) is None


def test_code_numbers_are_handed_out_once_each_in_each_promotions_own_range(
    db: Database, store_id: str
) -> None:
    first = new_promotion(db, store_id)
    second = new_promotion(db, new_store(db, "other"))
    with db.write() as tx:
        numbers = [
            tx.store(store_id).promotions.take_code_numbers(first.id, 3),
            tx.store(store_id).promotions.take_code_numbers(first.id, 2),
        ]
    with db.write() as tx:
        theirs = tx.store(second.store_id).promotions.take_code_numbers(second.id, 1)
        # Another store's promotion is not this store's to number.
        assert tx.store(store_id).promotions.take_code_numbers(second.id, 1) is None

    assert numbers[0] is not None and numbers[1] is not None and theirs is not None
    (ref, start), (same_ref, next_start) = numbers[0], numbers[1]
    assert (same_ref, next_start) == (ref, start + 3)
    assert theirs[0] != ref


def test_the_promotion_owning_a_code_is_found_by_its_key_in_the_store(db: Database, store_id: str) -> None:
    owner = new_promotion(db, store_id, name="owner", now=NOW - timedelta(minutes=1))
    add_codes(db, store_id, owner.id, "SAVE5")
    new_promotion(db, store_id, name="bystander")
    other = new_store(db, "other")
    theirs = new_promotion(db, other, name="theirs")
    add_codes(db, other, theirs.id, "SAVE5")

    with db.read() as tx:
        promotions = tx.store(store_id).promotions
        found, total = promotions.list_page(Page(limit=10, offset=0), code_key="save5")
        unknown = promotions.list_page(Page(limit=10, offset=0), code_key="nothing")
        everything = promotions.list_page(Page(limit=10, offset=0))

    assert ([p.attributes.name for p in found], total) == (["owner"], 1)
    assert unknown == ([], 0)
    # Oldest first.
    assert ([p.attributes.name for p in everything[0]], everything[1]) == (["owner", "bystander"], 2)
