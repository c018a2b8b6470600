"""Requests a fuzzer found mishandled: each gets a precise 4xx."""

from __future__ import annotations

import pytest

from support import StoreClient


@pytest.mark.parametrize(
    "text",
    ["eq(code,x)eq(code,x)", "eq(code,)", 'eq(code,"")', "eq(code,x)junk", "gt(code,x)"],
)
def test_malformed_filters_are_400_naming_filter(shop: StoreClient, text: str) -> None:
    promotion = shop.create_promotion()
    lists = [
        ("/v2/promotions", text),
        (f"/v2/promotions/{promotion['id']}/codes", text),
        (f"/v2/promotions/{promotion['id']}/jobs", text.replace("code", "status")),
    ]
    for path, filter_text in lists:
        response = shop.get(path, params={"filter": filter_text})
        assert response.status_code == 400, (path, filter_text, response.text)
        assert [e["source"] for e in response.json()["errors"]] == ["filter"]
