"""Planning a write of products: which id each takes, which SKUs clash, which must be released first."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promoforge.domain.products import (
    ClashKind,
    ProductFields,
    StoredSku,
    check_sku,
    plan_write,
)


def ids_from(*values: str) -> Callable[[], str]:
    """A new-id source that hands out `values` in order."""
    pending = iter(values)
    return lambda: next(pending)


def fields(sku: str, product_id: str | None = None) -> ProductFields:
    return ProductFields(sku=sku, name=sku, id=product_id)


def test_products_without_ids_take_the_id_of_their_sku_or_a_new_one() -> None:
    plan = plan_write(
        [fields("KNOWN"), fields("NEW"), fields("MINE", "p-3")],
        [StoredSku("p-1", "KNOWN")],
        ids_from("new-1"),
    )
    assert plan.ids == ("p-1", "new-1", "p-3")
    assert plan.created == {"new-1", "p-3"}
    assert plan.clashes == () and plan.release_skus_of == ()


def test_a_sku_kept_by_a_stored_product_clashes() -> None:
    plan = plan_write([fields("TAKEN", "p-2")], [StoredSku("p-1", "TAKEN")], ids_from())
    assert [(c.kind, c.index, c.sku, c.other_id) for c in plan.clashes] == [
        (ClashKind.SKU_TAKEN, 0, "TAKEN", "p-1")
    ]


def test_duplicates_within_the_write_clash_with_the_first_occurrence() -> None:
    plan = plan_write(
        [fields("A", "p-1"), fields("B", "p-1"), fields("A"), fields("C")],
        [],
        ids_from("n-1", "n-2"),
    )
    assert [(c.kind, c.index, c.other_index) for c in plan.clashes] == [
        (ClashKind.DUPLICATE_ID, 1, 0),
        (ClashKind.DUPLICATE_SKU, 2, 0),
    ]


def test_a_swap_releases_both_skus_first() -> None:
    stored = [StoredSku("p-1", "LEFT"), StoredSku("p-2", "RIGHT")]
    plan = plan_write([fields("RIGHT", "p-1"), fields("LEFT", "p-2")], stored, ids_from())
    assert plan.clashes == ()
    assert set(plan.release_skus_of) == {"p-1", "p-2"}
    assert plan.created == frozenset()


def test_a_sku_handed_on_is_free_for_a_product_without_an_id() -> None:
    plan = plan_write(
        [fields("RENAMED", "p-1"), fields("HANDED-ON")], [StoredSku("p-1", "HANDED-ON")], ids_from("n-1")
    )
    assert plan.ids == ("p-1", "n-1")
    assert plan.release_skus_of == ("p-1",)
    assert plan.clashes == ()


def test_a_rename_to_a_free_sku_needs_no_release() -> None:
    plan = plan_write([fields("FRESH", "p-1")], [StoredSku("p-1", "OLD")], ids_from())
    assert plan.release_skus_of == () and plan.clashes == ()


@settings(max_examples=300, deadline=None)
@given(
    stored=st.dictionaries(st.sampled_from("abcdef"), st.sampled_from("STUVWX"), max_size=4),
    write=st.lists(
        st.tuples(st.one_of(st.none(), st.sampled_from("abcdefgh")), st.sampled_from("STUVWXYZ")), max_size=6
    ),
)
def test_a_plan_without_clashes_leaves_every_sku_with_one_product(
    stored: dict[str, str], write: list[tuple[str | None, str]]
) -> None:
    """A clash-free plan, applied row by row as the database does, never gives two products one SKU."""
    unique_rows: dict[str, StoredSku] = {}
    for product_id, sku in stored.items():
        unique_rows.setdefault(sku, StoredSku(product_id, sku))
    counter = iter(range(1000))
    plan = plan_write(
        [fields(sku, product_id) for product_id, sku in write],
        list(unique_rows.values()),
        lambda: f"new-{next(counter)}",
    )
    if plan.clashes:
        return
    assert len(set(plan.ids)) == len(plan.ids)
    after = {row.id: row.sku for row in unique_rows.values()}
    for product_id in plan.release_skus_of:
        after[product_id] = " " + product_id
    for product_id, (_, sku) in zip(plan.ids, write, strict=True):
        after[product_id] = sku
        assert len(set(after.values())) == len(after), (plan, after)


@pytest.mark.parametrize("sku", ["", " A", "A ", "A\u200bB", "A\x07", "S" * 256, "\ufeffA"])
def test_unusable_skus_are_refused(sku: str) -> None:
    with pytest.raises(ValueError, match="sku"):
        check_sku(sku)


@pytest.mark.parametrize("sku", ["A", "shoe-tr-01", "Größe 42", "S" * 255, "a b"])
def test_usable_skus_are_kept_as_they_are(sku: str) -> None:
    assert check_sku(sku) == sku
