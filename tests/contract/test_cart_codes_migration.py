"""Migration 0012 gives each applied code the seq of its row: carts written before it keep their codes."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import select

from promoforge.bootstrap import Container
from promoforge.storage import migrate
from promoforge.storage.schema import cart_codes
from support import StoreClient


def _cart_discounts(shop: StoreClient, cart: str) -> dict[str, int]:
    response = shop.get(f"/v2/carts/{cart}")
    assert response.status_code == 200, response.text
    discounts = response.json()["data"]["meta"]["display_price"].get("discounts", {})
    return {code.upper(): int(entry["amount"]) for code, entry in discounts.items()}


def test_codes_applied_before_0012_find_their_rows_after_it(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    manual = shop.create_promotion(name="manual")
    assert shop.add_codes(manual["id"], "SAVE5").status_code == 201
    generated = shop.create_promotion(
        name="generated", schema={"currencies": [{"currency": "USD", "amount": 300}]}
    )
    job = shop.create_job(generated["id"], number_of_codes=1, max_uses_per_code=3)
    assert job.status_code == 201, job.text
    run_jobs()
    (code,) = [row["code"] for row in shop.list_codes(generated["id"])]
    line = {"type": "custom_item", "name": "A", "sku": "a", "quantity": 1, "price": {"amount": 5000}}
    entries = [line, {"type": "promotion_item", "code": "save5"}, {"type": "promotion_item", "code": code}]
    assert shop.post("/v2/carts/old/items", json={"data": entries}).status_code == 201
    before = _cart_discounts(shop, "old")
    assert before == {"SAVE5": -500, code.upper(): -300}

    config = migrate._config()
    with container.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
    with container.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    with container.db.read() as tx:
        seqs = list(tx.connection.execute(select(cart_codes.c.code_seq)).scalars())
    assert len(seqs) == 2 and None not in seqs
    assert _cart_discounts(shop, "old") == before
    removed = shop.delete("/v2/carts/old/discounts/save5")
    assert removed.status_code == 204
    assert _cart_discounts(shop, "old") == {code.upper(): -300}
