"""Time `GET /v2/carts` for a customer with many full carts against reading one of them (the baseline).

    .venv/bin/python -m bench.cart_list [--carts 100] [--lines 100] [--rounds 7]

In one process on a new SQLite file: a store, a customer with `--carts` carts of `--lines` custom lines each,
then, `--rounds` times in turn, one cart read with its lines (`GET /v2/carts/:id?include=items`) and the
customer's list at page sizes 25 and 100. Prints the median of each and the list's cost in cart reads: a
list should cost about what reading its carts' lines costs, never a full read per cart on top.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import jwt
from fastapi.testclient import TestClient

from promoforge.api.app import create_app
from promoforge.bootstrap import build, open_database
from promoforge.config import Settings
from promoforge.services import auth
from promoforge.storage import migrate

SECRET = "a-shared-secret-of-at-least-32-bytes!"
PAGES = (25, 100)


def main() -> None:
    """Seed, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--carts", type=int, default=100)
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-cart-list-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    db = open_database(Settings(database_url=url))
    migrate.upgrade_to_head(db.engine)
    db.dispose()
    container = build(Settings(database_url=url, data_dir=folder, run_worker=False))
    with TestClient(create_app(container)) as client:
        store = auth.create_store(container.db, name="bench", now=container.clock())
        with container.db.write() as tx:
            tx.stores.update(store.store.id, customer_token_key=SECRET, carts_per_customer_per_hour=10**6)
        token = client.post(
            "/oauth/access_token",
            data={
                "grant_type": "client_credentials",
                "client_id": store.store.client_id,
                "client_secret": store.client_secret,
            },
        ).json()["access_token"]
        customer = jwt.encode({"sub": "bench-customer", "exp": int(time.time()) + 86_400}, SECRET, "HS256")
        headers = {"Authorization": f"Bearer {token}", "X-Moltin-Customer-Token": customer}
        for cart in range(options.carts):
            lines = [
                {
                    "type": "custom_item",
                    "name": f"n{i}",
                    "sku": f"s{i}",
                    "quantity": 1,
                    "price": {"amount": 100},
                }
                for i in range(options.lines)
            ]
            added = client.post(f"/v2/carts/cart{cart}/items", json={"data": lines}, headers=headers)
            assert added.status_code == 201, added.text
        seconds: dict[str, list[float]] = {"one cart with its lines": []}
        seconds.update({f"list, page of {page}": [] for page in PAGES})
        for _ in range(options.rounds):
            for name in seconds:
                path, params = ("/v2/carts/cart0", {"include": "items"})
                if name.startswith("list"):
                    path, params = ("/v2/carts", {"page[limit]": name.rsplit(" ", 1)[1]})
                started = time.perf_counter()
                answer = client.get(path, params=params, headers=headers)
                seconds[name].append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
    container.close()
    baseline = statistics.median(seconds["one cart with its lines"])
    print(f"{options.carts} carts of {options.lines} lines (SQLite, in process), median of {options.rounds}:")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"  {name:<24} {median * 1000:8.1f} ms  {median / baseline:6.1f} cart reads")


if __name__ == "__main__":
    main()
