"""Smoke: the main path on both backends."""

from __future__ import annotations

import pytest

from support import StoreClient

pytestmark = pytest.mark.both_backends


def test_promotion_codes_and_jobs_round_trip(shop: StoreClient, run_jobs) -> None:  # type: ignore[no-untyped-def]
    promotion = shop.create_promotion()
    assert shop.add_codes(promotion["id"], "SUMMER10", {"code": "vip", "uses": 2}).status_code == 201
    response = shop.create_job(promotion["id"], number_of_codes=50, code_prefix="sum")
    assert response.status_code == 201, response.text
    assert run_jobs() == 1
    job = shop.job(promotion["id"], response.json()["data"]["id"])
    assert job["status"] == "completed"
    assert job["result"]["generated"] == 50
    listed = shop.get(f"/v2/promotions/{promotion['id']}/codes", params={"page[limit]": 100}).json()
    assert listed["meta"]["results"]["total"] == 52
