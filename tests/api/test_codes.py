"""Promotion codes: bulk add (all or none), uniqueness per store, limits, listing, deleting."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from promoforge.bootstrap import Container
from support import StoreClient, TestClient, make_store


@pytest.mark.both_backends
def test_add_returns_the_promotion_and_list_shows_uses(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    user = str(uuid.uuid4())
    response = shop.add_codes(
        promotion["id"],
        {"code": "2021LOYALTY", "user": user, "uses": 1, "consume_unit": "per_item"},
        {"code": "OPEN"},
        {"code": "NEVER", "uses": 0},
        {"code": "TEAM", "user": ["a", "b"]},
    )
    assert response.status_code == 201
    assert response.json()["data"]["id"] == promotion["id"]
    assert response.json()["data"]["type"] == "promotion"
    codes = {c["code"]: c for c in shop.list_codes(promotion["id"])}
    assert codes["2021LOYALTY"]["uses"] == 1 and codes["2021LOYALTY"]["max_uses"] == 1
    assert codes["2021LOYALTY"]["user"] == user
    assert codes["2021LOYALTY"]["consume_unit"] == "per_item"
    assert "uses" not in codes["OPEN"] and "max_uses" not in codes["OPEN"]
    assert codes["OPEN"]["consume_unit"] == "per_cart"
    assert codes["NEVER"]["uses"] == 0 and codes["NEVER"]["max_uses"] == 0
    assert codes["TEAM"]["user"] == ["a", "b"]
    for code in codes.values():
        assert code["type"] == "promotion_codes"
        assert uuid.UUID(code["id"])
        assert code["created_by"] == shop.client_id


def test_top_level_consume_unit_is_the_default(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    body = {
        "data": {
            "type": "promotion_codes",
            "consume_unit": "per_item",
            "codes": [{"code": "A1"}, {"code": "B1", "consume_unit": "per_cart"}],
        }
    }
    assert shop.post(f"/v2/promotions/{promotion['id']}/codes", json=body).status_code == 201
    units = {c["code"]: c["consume_unit"] for c in shop.list_codes(promotion["id"])}
    assert units == {"A1": "per_item", "B1": "per_cart"}


def test_codes_are_trimmed_and_keep_their_case(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], "  MiXeD  ")
    assert [c["code"] for c in shop.list_codes(promotion["id"])] == ["MiXeD"]


@pytest.mark.both_backends
def test_clash_in_any_case_is_409_naming_codes_and_adds_none(shop: StoreClient) -> None:
    first = shop.create_promotion()
    second = shop.create_promotion()
    shop.add_codes(first["id"], "SUMMER10", "WINTER")
    response = shop.add_codes(second["id"], "fresh", " summer10 ", "Winter")
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["status"] == 409
    assert sorted(error["meta"]["codes"]) == ["SUMMER10", "WINTER"]
    assert shop.list_codes(second["id"]) == []


def test_same_code_twice_in_a_request_is_refused(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    response = shop.add_codes(promotion["id"], "DUP", "other", "dup")
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"] == "data.codes.2.code"
    assert shop.list_codes(promotion["id"]) == []


@pytest.mark.parametrize(
    ("item", "source"),
    [
        ({"code": ""}, "data.codes.1.code"),
        ({"code": "   "}, "data.codes.1.code"),
        ({"code": "x" * 256}, "data.codes.1.code"),
        ({"code": 12}, "data.codes.1.code"),
        ({"uses": 1}, "data.codes.1.code"),
        ({"code": "ok", "uses": -1}, "data.codes.1.uses"),
        ({"code": "ok", "uses": 1.5}, "data.codes.1.uses"),
        ({"code": "ok", "consume_unit": "per_order"}, "data.codes.1.consume_unit"),
        ({"code": "ok", "user": ""}, "data.codes.1.user"),
    ],
)
def test_any_invalid_code_adds_none(shop: StoreClient, item: dict[str, Any], source: str) -> None:
    promotion = shop.create_promotion()
    response = shop.add_codes(promotion["id"], "valid", item)
    assert response.status_code == 400, response.text
    assert source in [e["source"] for e in response.json()["errors"]]
    assert shop.list_codes(promotion["id"]) == []


def test_request_shape_is_checked(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    path = f"/v2/promotions/{promotion['id']}/codes"
    no_codes = shop.post(path, json={"data": {"type": "promotion_codes", "codes": []}})
    assert no_codes.status_code == 400
    assert no_codes.json()["errors"][0]["source"] == "data.codes"
    wrong_type = shop.post(path, json={"data": {"type": "promotion", "codes": [{"code": "x"}]}})
    assert wrong_type.status_code == 400
    assert wrong_type.json()["errors"][0]["source"] == "data.type"


@pytest.mark.both_backends
def test_store_limit_applies_per_promotion(container: Container, app_client: TestClient) -> None:
    shop = make_store(container, app_client, max_codes=3)
    promotion = shop.create_promotion()
    assert shop.add_codes(promotion["id"], "A", "B").status_code == 201
    over = shop.add_codes(promotion["id"], "C", "D")
    assert over.status_code == 422
    assert "limit" in over.json()["errors"][0]["detail"]
    assert len(shop.list_codes(promotion["id"])) == 2
    assert shop.add_codes(promotion["id"], "C").status_code == 201
    shop.delete(f"/v2/promotions/{promotion['id']}/codes/A")
    assert shop.add_codes(promotion["id"], "D").status_code == 201
    other = shop.create_promotion()
    assert shop.add_codes(other["id"], "E", "F", "G").status_code == 201


@pytest.mark.both_backends
def test_list_filters_by_code_in_any_case(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], "Alpha", "Beta")
    found = shop.get(f"/v2/promotions/{promotion['id']}/codes", params={"filter": "eq(code,ALPHA)"}).json()
    assert [c["code"] for c in found["data"]] == ["Alpha"]
    assert found["meta"]["results"]["total"] == 1


@pytest.mark.both_backends
def test_list_pages(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], *[f"CODE{i:02d}" for i in range(30)])
    page = shop.get(
        f"/v2/promotions/{promotion['id']}/codes", params={"page[limit]": 10, "page[offset]": 20}
    ).json()
    assert [c["code"] for c in page["data"]] == [f"CODE{i:02d}" for i in range(20, 30)]
    assert page["meta"]["results"]["total"] == 30
    assert page["meta"]["page"] == {"limit": 10, "offset": 20, "current": 3, "total": 3}


@pytest.mark.both_backends
def test_delete_one_by_id_or_text(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], "ById", "ByText", "SAVE10%", "Keep")
    by_id = next(c for c in shop.list_codes(promotion["id"]) if c["code"] == "ById")
    base = f"/v2/promotions/{promotion['id']}/codes"
    assert shop.delete(f"{base}/{by_id['id']}").status_code == 204
    assert shop.delete(f"{base}/bytext").status_code == 204
    assert shop.delete(f"{base}/SAVE10%25").status_code == 204
    assert [c["code"] for c in shop.list_codes(promotion["id"])] == ["Keep"]
    missing = shop.delete(f"{base}/nothing")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["detail"] == "code not found"


@pytest.mark.both_backends
def test_a_code_id_deletes_nothing_through_another_promotion(shop: StoreClient) -> None:
    owner, other = shop.create_promotion(), shop.create_promotion()
    shop.add_codes(owner["id"], "Mine")
    (code,) = shop.list_codes(owner["id"])
    assert shop.delete(f"/v2/promotions/{other['id']}/codes/{code['id']}").status_code == 404
    by_id = {"data": {"type": "promotion_codes", "codes": [{"id": code["id"]}]}}
    assert shop.delete(f"/v2/promotions/{other['id']}/codes", json=by_id).status_code == 204
    assert [c["id"] for c in shop.list_codes(owner["id"])] == [code["id"]]


@pytest.mark.both_backends
def test_delete_many_ignores_unknown(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], "ZXY_CBA", "ABC_XYZ", "STAY")
    keep_id = shop.list_codes(promotion["id"])[2]["id"]
    body = {
        "data": {
            "type": "promotion_codes",
            "codes": [{"code": "zxy_cba"}, {"code": "ABC_XYZ"}, {"code": "NOPE"}],
        }
    }
    response = shop.delete(f"/v2/promotions/{promotion['id']}/codes", json=body)
    assert response.status_code == 204
    assert [c["id"] for c in shop.list_codes(promotion["id"])] == [keep_id]
    by_id = {"data": {"type": "promotion_codes", "codes": [{"id": keep_id}]}}
    assert shop.delete(f"/v2/promotions/{promotion['id']}/codes", json=by_id).status_code == 204
    assert shop.list_codes(promotion["id"]) == []
    bad = shop.delete(
        f"/v2/promotions/{promotion['id']}/codes", json={"data": {"type": "promotion_codes", "codes": [{}]}}
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["source"] == "data.codes.0"


@pytest.mark.both_backends
def test_codes_of_unknown_promotion_are_404(shop: StoreClient) -> None:
    missing = str(uuid.uuid4())
    assert shop.get(f"/v2/promotions/{missing}/codes").status_code == 404
    assert shop.add_codes(missing, "X").status_code == 404
    assert shop.delete(f"/v2/promotions/{missing}/codes/X").status_code == 404


@pytest.mark.both_backends
def test_at_most_10000_codes_per_request(container: Container, app_client: TestClient) -> None:
    shop = make_store(container, app_client, max_codes=20_000)
    promotion = shop.create_promotion()
    response = shop.add_codes(promotion["id"], *[f"C{i}" for i in range(10_001)])
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == "data.codes"
    assert shop.add_codes(promotion["id"], *[f"C{i}" for i in range(10_000)]).status_code == 201


@pytest.mark.both_backends
def test_a_clash_found_by_the_index_still_names_the_codes(
    container: Container, shop: StoreClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promoforge.storage.repositories.codes import CodeRepository

    first = shop.create_promotion()
    shop.add_codes(first["id"], "TAKEN")
    second = shop.create_promotion()
    response = shop.add_codes(second["id"], "fresh", "taken")
    assert response.status_code == 409
    assert response.json()["errors"][0]["meta"] == {"codes": ["TAKEN"]}
    assert shop.list_codes(second["id"]) == []

    def existing_finds_nothing(self: CodeRepository, keys: Any) -> list[str]:
        # The clashing code was deleted by another request between the insert and the look-up.
        return []

    monkeypatch.setattr(CodeRepository, "existing", existing_finds_nothing)
    response = shop.add_codes(second["id"], "fresh", "taken")
    assert response.status_code == 409
    assert response.json()["errors"][0]["meta"] == {"codes": ["taken"]}
    assert shop.list_codes(second["id"]) == []
    assert shop.get(f"/v2/promotions/{second['id']}").status_code == 200
