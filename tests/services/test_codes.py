"""Code use cases without HTTP: codes added all or none within the store's limit, and deleted by id or text,
with the promotion's codes counter always the number of codes it holds."""

from __future__ import annotations

import pytest

from promoforge.domain.errors import CodeConflict, CodesLimitExceeded, NotFound
from promoforge.domain.queries import Page
from promoforge.services.codes import CodeReference, delete_code, delete_codes, list_codes
from promoforge.services.promotions import delete_promotion, get_promotion
from promoforge.storage.repositories import Database
from seeds import NOW, add_codes, code_row, new_promotion, new_store


def held(db: Database, store_id: str, promotion_id: str) -> tuple[list[str], int]:
    """The promotion's codes in creation order, and the codes its counter holds."""
    codes, total = list_codes(db, store_id=store_id, promotion_id=promotion_id, page=Page(limit=50, offset=0))
    counted = get_promotion(db, store_id=store_id, promotion_id=promotion_id).code_count
    assert total == counted
    return [code.code for code in codes], counted


def test_codes_are_added_all_or_none(db: Database, store_id: str) -> None:
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "Alpha", "Beta")
    other = new_promotion(db, store_id)

    with pytest.raises(CodeConflict) as clash:
        add_codes(db, store_id, other.id, "Gamma", "BETA")

    assert clash.value.meta == {"codes": ["Beta"]}
    assert held(db, store_id, promotion.id) == (["Alpha", "Beta"], 2)
    assert held(db, store_id, other.id) == ([], 0)


def test_no_code_is_added_past_the_stores_limit_per_promotion(db: Database) -> None:
    store_id = new_store(db, max_codes_per_promotion=3)
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "A1", "A2")

    with pytest.raises(CodesLimitExceeded):
        add_codes(db, store_id, promotion.id, "A3", "A4")

    add_codes(db, store_id, promotion.id, "A3")
    assert held(db, store_id, promotion.id) == (["A1", "A2", "A3"], 3)


def test_a_deleted_promotions_codes_make_room_for_the_same_text_at_once(db: Database, store_id: str) -> None:
    doomed = new_promotion(db, store_id)
    add_codes(db, store_id, doomed.id, "SAVE5")
    delete_promotion(db, store_id=store_id, promotion_id=doomed.id, now=NOW)
    successor = new_promotion(db, store_id)

    add_codes(db, store_id, successor.id, "save5", max_uses=3)

    assert held(db, store_id, successor.id) == (["save5"], 1)
    assert code_row(db, store_id, "SAVE5").promotion_id == successor.id


def test_one_code_is_deleted_by_its_id_or_its_text_in_any_case(db: Database, store_id: str) -> None:
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "ById", "ByText", "Kept")
    other = new_promotion(db, store_id)
    add_codes(db, store_id, other.id, "Theirs")

    delete_code(
        db, store_id=store_id, promotion_id=promotion.id, reference=code_row(db, store_id, "byid").id, now=NOW
    )
    delete_code(db, store_id=store_id, promotion_id=promotion.id, reference="BYTEXT", now=NOW)
    for reference in ("unknown", "theirs", code_row(db, store_id, "theirs").id):
        with pytest.raises(NotFound):
            delete_code(db, store_id=store_id, promotion_id=promotion.id, reference=reference, now=NOW)

    assert held(db, store_id, promotion.id) == (["Kept"], 1)
    assert held(db, store_id, other.id) == (["Theirs"], 1)


def test_deleting_many_skips_unknown_codes_and_counts_those_deleted(db: Database, store_id: str) -> None:
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "C1", "C2", "C3", "C4")
    references = [
        CodeReference(code="c1"),
        CodeReference(id=code_row(db, store_id, "c2").id),
        CodeReference(code="unknown"),
        CodeReference(id="0190c3a0-0000-7000-8000-000000000000"),
    ]

    assert delete_codes(db, store_id=store_id, promotion_id=promotion.id, references=references, now=NOW) == 2
    assert held(db, store_id, promotion.id) == (["C3", "C4"], 2)
    with pytest.raises(NotFound):
        delete_codes(
            db,
            store_id=store_id,
            promotion_id="0190c3a0-0000-7000-8000-000000000000",
            references=[CodeReference(code="c3")],
            now=NOW,
        )
