"""CodeRepository: the conditional use counters checkout takes from, codes added and generated past the
store's other codes, and the codes of one promotion read and deleted by id or key."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from promoforge.domain.identifiers import code_id, code_id_parts
from promoforge.domain.queries import Page
from promoforge.storage.repositories import Database
from seeds import NOW, add_codes, code_row, generate_codes, new_code, new_promotion, new_store


def consume(db: Database, store_id: str, code_id_text: str, uses: int) -> bool:
    """Take uses from a code in a transaction of its own."""
    with db.write() as tx:
        return tx.store(store_id).codes.consume(code_id_text, uses)


def uses_left(db: Database, store_id: str, text: str) -> tuple[int | None, int | None]:
    """A code's (uses left, max_uses)."""
    row = code_row(db, store_id, text)
    return row.uses, row.max_uses


def test_the_last_use_is_taken_once_and_then_every_take_is_refused(db: Database, store_id: str) -> None:
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "TWICE", max_uses=2)
    twice = code_row(db, store_id, "twice")

    assert consume(db, store_id, twice.id, 1)
    assert uses_left(db, store_id, "twice") == (1, 2)
    assert consume(db, store_id, twice.id, 1)
    assert uses_left(db, store_id, "twice") == (0, 2)
    assert not consume(db, store_id, twice.id, 1)
    assert uses_left(db, store_id, "twice") == (0, 2)


def test_taking_more_uses_than_are_left_is_refused_and_leaves_the_row_as_it_was(
    db: Database, store_id: str
) -> None:
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "THRICE", max_uses=3)
    thrice = code_row(db, store_id, "thrice")

    assert not consume(db, store_id, thrice.id, 4)
    assert consume(db, store_id, thrice.id, 2)
    assert not consume(db, store_id, thrice.id, 2)
    assert code_row(db, store_id, "thrice") == replace(thrice, uses=1)
    assert consume(db, store_id, thrice.id, 1)
    assert uses_left(db, store_id, "thrice") == (0, 3)


def test_an_unlimited_code_has_no_counter_to_take_from(db: Database, store_id: str) -> None:
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "ALWAYS")
    always = code_row(db, store_id, "always")

    # Checkout takes uses only from limited codes; the statement finds nothing to count down here.
    assert not consume(db, store_id, always.id, 1)
    assert uses_left(db, store_id, "always") == (None, None)


def test_a_generated_code_is_counted_down_from_the_uses_its_job_gives_it(db: Database, store_id: str) -> None:
    promotion = new_promotion(db, store_id)
    generate_codes(db, store_id, promotion.id, ["aaaa-aaaa", "bbbb-bbbb"], max_uses=2)
    first = code_row(db, store_id, "gen-aaaa-aaaa")

    assert consume(db, store_id, first.id, 2)
    assert uses_left(db, store_id, "gen-aaaa-aaaa") == (0, 2)
    assert not consume(db, store_id, first.id, 1)
    assert uses_left(db, store_id, "gen-aaaa-aaaa") == (0, 2)
    assert uses_left(db, store_id, "gen-bbbb-bbbb") == (2, 2)


def test_a_code_is_counted_down_only_by_its_own_id_in_its_own_store(db: Database, store_id: str) -> None:
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "ONCE", max_uses=1)
    once = code_row(db, store_id, "once")
    other = new_store(db, "other")
    # An id with the code's number but another creation millisecond names no code.
    parts = code_id_parts(once.id)
    assert parts is not None
    forged = code_id(parts[0], once.created_at + timedelta(milliseconds=1))

    assert not consume(db, other, once.id, 1)
    assert not consume(db, store_id, forged, 1)
    assert uses_left(db, store_id, "once") == (1, 1)
    with db.write() as tx:
        assert tx.store(other).codes.lock([once.id]) == {}
        assert tx.store(store_id).codes.lock([once.id, forged]) == {once.id: once}


def test_adding_skips_keys_the_store_holds_in_any_promotion_and_names_those_added(
    db: Database, store_id: str
) -> None:
    first = new_promotion(db, store_id)
    add_codes(db, store_id, first.id, "SAVE5")
    second = new_promotion(db, store_id)
    other = new_store(db, "other")
    theirs = new_promotion(db, other)

    with db.write() as tx:
        repos = tx.store(store_id)
        numbers = repos.promotions.take_code_numbers(second.id, 2)
        assert numbers is not None
        ref, number = numbers
        added = repos.codes.add(
            promotion_ref=ref,
            codes=[(number, new_code("Save5")), (number + 1, new_code("Fresh"))],
            created_by="someone",
            now=NOW,
        )
    with db.write() as tx:
        repos = tx.store(other)
        numbers = repos.promotions.take_code_numbers(theirs.id, 1)
        assert numbers is not None
        added_elsewhere = repos.codes.add(
            promotion_ref=numbers[0], codes=[(numbers[1], new_code("SAVE5"))], created_by=None, now=NOW
        )

    assert added == {"fresh"}
    assert added_elsewhere == {"save5"}
    assert code_row(db, store_id, "save5").promotion_id == first.id
    fresh = code_row(db, store_id, "fresh")
    assert (fresh.code, fresh.promotion_id, fresh.created_by, fresh.created_at) == (
        "Fresh",
        second.id,
        "someone",
        NOW,
    )


def test_generated_codes_that_clash_with_the_stores_codes_are_skipped_and_the_rest_go_in(
    db: Database, store_id: str
) -> None:
    manual = new_promotion(db, store_id)
    add_codes(db, store_id, manual.id, "GEN-BBBB-BBBB")
    generated = new_promotion(db, store_id)

    _, inserted = generate_codes(
        db, store_id, generated.id, ["cccc-cccc", "bbbb-bbbb", "aaaa-aaaa"], max_uses=1
    )

    assert inserted == 2
    with db.read() as tx:
        listed, total = tx.store(store_id).codes.list_page(generated.id, Page(limit=10, offset=0))
    assert [(code.code, code.uses, code.max_uses) for code in listed] == [
        ("gen-aaaa-aaaa", 1, 1),
        ("gen-cccc-cccc", 1, 1),
    ]
    assert total == 2
    assert code_row(db, store_id, "gen-bbbb-bbbb").promotion_id == manual.id


def test_a_promotions_codes_are_listed_in_creation_order_a_page_or_one_key_at_a_time(
    db: Database, store_id: str
) -> None:
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "C1", "C2", "C3")
    add_codes(db, store_id, promotion.id, "C4")
    other = new_promotion(db, store_id)
    add_codes(db, store_id, other.id, "THEIRS")

    with db.read() as tx:
        codes = tx.store(store_id).codes
        page, total = codes.list_page(promotion.id, Page(limit=2, offset=1))
        one, one_total = codes.list_page(promotion.id, Page(limit=10, offset=0), code_key="c3")
        none, none_total = codes.list_page(promotion.id, Page(limit=10, offset=0), code_key="theirs")

    assert ([code.code for code in page], total) == (["C2", "C3"], 4)
    assert ([code.code for code in one], one_total) == (["C3"], 1)
    assert (none, none_total) == ([], 0)


def test_deleting_by_id_or_key_removes_only_the_promotions_own_codes(db: Database, store_id: str) -> None:
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "MINE1", "MINE2", "MINE3")
    other = new_promotion(db, store_id)
    add_codes(db, store_id, other.id, "THEIRS")
    theirs = code_row(db, store_id, "theirs")

    with db.write() as tx:
        codes = tx.store(store_id).codes
        by_id = codes.delete_by_ids(promotion.id, [code_row(db, store_id, "mine1").id, theirs.id])
        by_key = codes.delete_by_keys(promotion.id, ["mine2", "theirs", "unknown"])

    assert (by_id, by_key) == (1, 1)
    with db.read() as tx:
        codes = tx.store(store_id).codes
        assert [code.code for code in codes.list_page(promotion.id, Page(limit=10, offset=0))[0]] == ["MINE3"]
        assert codes.by_key("theirs") == theirs
