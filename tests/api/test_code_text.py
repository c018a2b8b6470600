"""What a code may hold: no dot segments, no invisible characters; any other text can be named in a URL."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from support import StoreClient


def code_texts(shop: StoreClient, promotion_id: str) -> list[str]:
    return sorted(c["code"] for c in shop.list_codes(promotion_id))


@pytest.mark.parametrize("code", [".", "..", " .. "])
def test_dot_segment_codes_are_refused(shop: StoreClient, code: str) -> None:
    promotion = shop.create_promotion()
    response = shop.add_codes(promotion["id"], "FINE", code)
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["source"] == "data.codes.1.code"
    assert "must not be '.' or '..'" in error["detail"]
    assert code_texts(shop, promotion["id"]) == []


def test_a_code_that_only_differs_by_an_invisible_character_is_refused(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    assert shop.add_codes(promotion["id"], "SUMMER10").status_code == 201
    response = shop.add_codes(promotion["id"], "SUMMER10\u200b")
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["source"] == "data.codes.0.code"
    assert "code contains an invisible character U+200B at position 9" in error["detail"]
    assert code_texts(shop, promotion["id"]) == ["SUMMER10"]


def test_a_generation_prefix_with_an_invisible_character_is_refused(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    response = shop.create_job(promotion["id"], number_of_codes=5, code_prefix="VIP\u2060")
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["source"] == "data.parameters.code_prefix"
    assert "code_prefix contains an invisible character U+2060 at position 4" in error["detail"]


@pytest.mark.both_backends
@pytest.mark.parametrize("code", ["a/b", "/lead", "trail/", "50%/off", "a//b", "über/straße"])
def test_a_code_with_a_slash_is_deleted_by_its_percent_encoded_text(shop: StoreClient, code: str) -> None:
    promotion = shop.create_promotion()
    assert shop.add_codes(promotion["id"], code, "KEEP").status_code == 201
    path = f"/v2/promotions/{promotion['id']}/codes/{quote(code, safe='')}"
    assert shop.delete(path).status_code == 204
    assert code_texts(shop, promotion["id"]) == ["KEEP"]
    assert shop.delete(path).status_code == 404


@pytest.mark.both_backends
def test_an_unencoded_slash_names_no_code(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    assert shop.add_codes(promotion["id"], "a/b", "b").status_code == 201
    response = shop.delete(f"/v2/promotions/{promotion['id']}/codes/a/b")
    assert response.status_code == 404
    assert response.json()["errors"][0]["detail"] == "code not found"
    assert code_texts(shop, promotion["id"]) == ["a/b", "b"]
    assert shop.delete(f"/v2/promotions/{promotion['id']}/codes/").status_code == 404
    assert shop.get(f"/v2/promotions/{promotion['id']}").status_code == 200
