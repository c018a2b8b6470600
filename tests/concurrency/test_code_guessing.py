"""Code guessing through a real `promoforge serve`: forwarded headers, IPv6 networks, new carts and the
store-wide budget cannot be used to get more guesses than the store allows."""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx

from promoforge.bootstrap import Container
from support import ServeApi, server_store

PROXY = ["--forwarded-allow-ips", "127.0.0.1"]
LOOSE = 1_000_000


def guess(base: str, headers: dict[str, str], *, forwarded_for: str | None = None, code: str = "") -> Any:
    """One failing code application on a new cart, optionally claiming another client address."""
    extra = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    cart = uuid.uuid4().hex
    entry = {"type": "promotion_item", "code": code or f"guess-{uuid.uuid4().hex[:8]}"}
    return httpx.post(
        f"{base}/v2/carts/{cart}/items",
        json={"data": entry},
        headers={**headers, **extra},
        timeout=60,
    )


def limited_store(base: str, container: Container, *, per_address: int) -> dict[str, str]:
    """Admin headers of a new store whose only binding guess limit is the per-address one."""
    return server_store(
        base,
        container,
        code_attempts_per_cart=LOOSE,
        code_attempts_per_address=per_address,
        code_attempts_per_store=LOOSE,
    )


def statuses(responses: list[Any]) -> list[int]:
    return [response.status_code for response in responses]


def within_one_minute() -> None:
    """Wait, if need be, for a calendar minute with 15 s left: attempts count per minute, and guesses that
    straddled two would have two budgets."""
    while datetime.now(UTC).second >= 45:
        time.sleep(0.2)


def test_forwarded_addresses_are_not_trusted_unless_the_operator_names_the_proxy(
    container: Container, serve_api: ServeApi
) -> None:
    base = serve_api()
    headers = limited_store(base, container, per_address=3)

    within_one_minute()
    rotating = [guess(base, headers, forwarded_for=f"198.51.100.{i}") for i in range(5)]

    # Every guess came from 127.0.0.1 whatever the header said: the address limit holds across new carts.
    assert statuses(rotating) == [404, 404, 404, 429, 429]


def test_behind_a_named_proxy_clients_count_apart_and_an_ipv6_slash_64_counts_once(
    container: Container, serve_api: ServeApi
) -> None:
    base = serve_api(options=PROXY)
    headers = limited_store(base, container, per_address=2)

    within_one_minute()
    apart = [guess(base, headers, forwarded_for=f"198.51.100.{i}") for i in range(4)]
    one_network = [guess(base, headers, forwarded_for=f"2001:db8:5:6::{i:x}") for i in range(1, 5)]
    next_network = guess(base, headers, forwarded_for="2001:db8:5:7::1")

    assert statuses(apart) == [404, 404, 404, 404]
    assert statuses(one_network) == [404, 404, 429, 429]
    assert next_network.status_code == 404


def test_the_store_wide_budget_caps_guesses_from_any_number_of_carts_and_addresses_at_once(
    container: Container, serve_api: ServeApi
) -> None:
    base = serve_api(workers=2, options=PROXY)
    budget = 12
    headers = server_store(
        base,
        container,
        code_attempts_per_cart=LOOSE,
        code_attempts_per_address=LOOSE,
        code_attempts_per_store=budget,
    )
    addresses = [f"203.0.113.{i % 250}" if i % 2 else f"2001:db8:{i:x}::1" for i in range(48)]

    within_one_minute()
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda address: guess(base, headers, forwarded_for=address), addresses))

    assert sorted(statuses(answers)) == [404] * budget + [429] * (len(addresses) - budget)
    assert all(int(a.headers["Retry-After"]) >= 1 for a in answers if a.status_code == 429)


def test_a_throttled_answer_is_the_same_for_a_real_code_and_a_guess(
    container: Container, serve_api: ServeApi
) -> None:
    base = serve_api()
    headers = limited_store(base, container, per_address=1)
    promotion = httpx.post(
        f"{base}/v2/promotions",
        headers=headers,
        json={
            "data": {
                "type": "promotion",
                "name": "Five off",
                "description": "",
                "enabled": True,
                "promotion_type": "fixed_discount",
                "schema": {"currencies": [{"currency": "USD", "amount": 500}]},
                "start": "2024-01-01",
                "end": "2099-12-31",
            }
        },
    ).json()["data"]
    added = httpx.post(
        f"{base}/v2/promotions/{promotion['id']}/codes",
        headers=headers,
        json={"data": {"type": "promotion_codes", "codes": [{"code": "REAL5"}]}},
    )
    assert added.status_code == 201, added.text
    assert guess(base, headers).status_code == 404

    real, unknown = guess(base, headers, code="REAL5"), guess(base, headers, code="NOPE5")

    def without_seconds(response: Any) -> str:
        # The seconds to wait may tick between the two requests; nothing else may differ.
        return re.sub(r"\d+ s\b", "N s", response.text)

    assert real.status_code == unknown.status_code == 429
    assert without_seconds(real) == without_seconds(unknown)
    assert real.headers.keys() == unknown.headers.keys()
    assert abs(int(real.headers["Retry-After"]) - int(unknown.headers["Retry-After"])) <= 1
