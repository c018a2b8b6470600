"""Carts: the discount engine alone, then `POST /v2/carts/:id/items` and `GET /v2/carts/:id?include=items`.

The engine prices a cart of 100 product lines with 10 applied codes against the candidates a real cart gets
(those 10 codes' promotions plus the store's 200 running automatic ones). The API part runs against a store
with 200 automatic and 10,000 code-based promotions, at concurrency 1 and 16, beside a plain DB-API baseline
doing the same reads and writes; and it checks which promotions the service reads for one cart.

Modules: `catalog` (the products, promotions and codes), `engine` (the engine alone), `store` (seeding
the store and filling the carts on a backend), `senders` (one request of each kind, service and
baseline), `reads` (what a pricing reads), `levels` (one backend run, level by level), `report` (the
table) and `options`.
"""

from __future__ import annotations

from bench.benchmarks.carts.catalog import product_document, product_id
from bench.benchmarks.carts.levels import run_backend
from bench.benchmarks.carts.options import add_arguments, check_arguments, parameters
from bench.benchmarks.carts.report import render
from bench.harness.benchmark import Benchmark

__all__ = ["BENCHMARK", "product_document", "product_id"]

BENCHMARK = Benchmark(
    name="carts",
    description="promoforge discount engine, and POST .../items and GET /v2/carts/:id vs plain DB-API",
    add_arguments=add_arguments,
    check_arguments=check_arguments,
    parameters=parameters,
    run_backend=run_backend,
    render=render,
)
