"""Requests a fuzzer found mishandled: each gets a precise 4xx."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest

from promoforge.api.documents.codes.requests import MAX_CODES_PER_REQUEST
from promoforge.api.errors import MAX_ERROR_ITEMS
from promoforge.bootstrap import Container
from support import StoreClient, app_over


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


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/v2/promotions/{id}", "DELETE, GET, PUT"),
        ("POST", "/v2/promotions/{id}", "DELETE, GET, PUT"),
        ("PUT", "/v2/promotions", "GET, POST"),
        ("PUT", "/v2/promotions/{id}/codes", "DELETE, GET, POST"),
        ("PUT", "/v2/promotions/attributes", "GET"),
        ("DELETE", "/v2/promotions/attributes", "GET"),
        ("POST", "/v2/promotions/attributes", "GET"),
        ("GET", "/v2/promotions/{id}/codes/SOME", "DELETE"),
        ("DELETE", "/v2/promotions/{id}/jobs/{id}", "GET"),
    ],
)
def test_a_405_names_every_method_allowed_on_the_path(
    shop: StoreClient, method: str, path: str, allowed: str
) -> None:
    promotion = shop.create_promotion()
    response = shop.request(method, path.replace("{id}", promotion["id"]))
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allowed
    assert response.json()["errors"][0]["status"] == 405
    assert shop.get(f"/v2/promotions/{promotion['id']}").status_code == 200


def test_attributes_is_no_promotion_id(shop: StoreClient) -> None:
    assert shop.get("/v2/promotions/attributes").status_code == 200
    for path in ("/v2/promotions/attributes/history", "/v2/promotions/attributes/codes"):
        response = shop.get(path)
        assert response.status_code == 404
    assert shop.get("/v2/promotions/attributes2").json()["errors"][0]["detail"] == "promotion not found"


def test_thousands_of_bad_codes_give_a_capped_error_document(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    codes = [{"code": f"BAD{i}\u200b", "uses": -1} for i in range(MAX_CODES_PER_REQUEST)]
    response = shop.add_codes(promotion["id"], *codes)
    assert response.status_code == 400
    assert len(response.content) < 64 * 1024
    document = response.json()
    assert len(document["errors"]) == MAX_ERROR_ITEMS
    assert document["meta"] == {"total_errors": 2 * MAX_CODES_PER_REQUEST}
    assert [e["source"] for e in document["errors"][:4]] == [
        "data.codes.0.code",
        "data.codes.0.uses",
        "data.codes.1.code",
        "data.codes.1.uses",
    ]


def test_a_short_error_list_has_no_meta(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    document = shop.add_codes(promotion["id"], "..").json()
    assert len(document["errors"]) == 1
    assert "meta" not in document


def test_a_client_that_goes_away_mid_body_is_one_quiet_line(
    container: Container, shop: StoreClient, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_over(container)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v2/promotions",
        "raw_path": b"/v2/promotions",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", b"900"),
            (b"authorization", f"Bearer {shop.token}".encode()),
        ],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }
    messages: list[dict[str, Any]] = [{"type": "http.request", "body": b'{"data": {"na', "more_body": True}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with caplog.at_level(logging.DEBUG):
        anyio.run(app, scope, receive, send)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert [r.getMessage() for r in caplog.records if "went away" in r.getMessage()] == [
        "client went away before sending its whole request: POST /v2/promotions"
    ]
    assert sent[0]["status"] == 400
