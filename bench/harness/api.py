"""Talking to the server under test: checked responses, a token, a promotion."""

from __future__ import annotations

from typing import Any

import httpx

from bench.harness.timing import BenchError

HTTP_TIMEOUT_SECONDS = 120.0

PROMOTION_BODY: dict[str, Any] = {
    "data": {
        "type": "promotion",
        "name": "bench",
        "description": "bench",
        "enabled": True,
        "promotion_type": "fixed_discount",
        "schema": {"currencies": [{"currency": "USD", "amount": 100}]},
        "start": "2024-01-01",
        "end": "2099-01-01",
    }
}


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    """Return the JSON body of a response, or fail if it does not have the expected status."""
    if response.status_code != status:
        raise BenchError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code} "
            f"(expected {status}): {response.text[:500]}"
        )
    body: dict[str, Any] = response.json()
    return body


def access_token(client: httpx.Client, client_id: str, client_secret: str) -> str:
    """Get a bearer token for the bench store."""
    body = expect(
        client.post(
            "/oauth/access_token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
            },
        ),
        200,
    )
    return str(body["access_token"])


def create_promotion(client: httpx.Client) -> str:
    """Create a promotion through the API; return its id."""
    return str(expect(client.post("/v2/promotions", json=PROMOTION_BODY), 201)["data"]["id"])
