"""The discount engine alone: `price_cart` on a cart of 100 product lines with 10 applied codes, against
those codes' promotions and the store's 200 automatic ones (no loading, no documents).
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from bench.benchmarks.carts.catalog import (
    APPLIED_CODES,
    CURRENCY,
    ID_NAMESPACE,
    product_facts,
    seed_promotions,
    sku,
    unit_price,
)
from bench.harness.timing import BenchError, latency_summary, log, verdict
from promoforge.domain.codes import ConsumeUnit
from promoforge.domain.pricing import CartLine, LineKind, Offer, automatic_code, price_cart

ENGINE_LINES = 100
ENGINE_MEDIAN_TARGET_MS = 2.0


def engine_inputs(now: datetime) -> tuple[list[CartLine], list[Offer]]:
    """A cart of 100 product lines and its candidates: the 10 applied codes' promotions and 200 automatic."""
    coded, automatic = seed_promotions("engine-store", None)
    lines = [
        CartLine(
            id=str(uuid.uuid5(ID_NAMESPACE, f"line-{index}")),
            kind=LineKind.PRODUCT,
            sku=sku(index),
            unit_price=unit_price(index),
            quantity=1 + index % 3,
            product=product_facts(index),
        )
        for index in range(ENGINE_LINES)
    ]
    offers = [
        Offer(
            promotion_id=seed.promotion.id,
            created_at=seed.promotion.created_at,
            attributes=seed.promotion.attributes,
            code=seed.code or "",
            remaining_uses=None,
            consume_unit=ConsumeUnit.PER_CART,
        )
        for seed in coded[:APPLIED_CODES]
    ]
    offers += [
        Offer(
            promotion_id=seed.promotion.id,
            created_at=seed.promotion.created_at,
            attributes=seed.promotion.attributes,
            code=automatic_code(seed.promotion.id),
        )
        for seed in automatic
    ]
    return lines, offers


def measure_engine(runs: int) -> dict[str, Any]:
    """Time `price_cart` alone (no loading, no documents) over many runs."""
    now = datetime(2026, 6, 1, tzinfo=UTC)
    lines, offers = engine_inputs(now)
    priced = price_cart(lines=lines, currency=CURRENCY, offers=offers, now=now)
    applied = {a.promotion_id for a in priced.applications}
    coded_applied = sum(1 for offer in offers[:APPLIED_CODES] if offer.promotion_id in applied)
    if coded_applied != APPLIED_CODES:
        raise BenchError(
            f"engine: only {coded_applied} of the {APPLIED_CODES} applied codes discount the cart"
        )
    for _ in range(min(100, runs)):  # warm-up
        price_cart(lines=lines, currency=CURRENCY, offers=offers, now=now)
    samples: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        price_cart(lines=lines, currency=CURRENCY, offers=offers, now=now)
        samples.append(time.perf_counter() - started)
    summary = latency_summary(samples, 0, (95, 99))
    skipped = Counter(s.reason.value for s in priced.skipped)
    totals = priced.totals
    result = {
        "runs": runs,
        "lines": len(lines),
        "units": sum(line.quantity for line in lines),
        "offers": len(offers),
        "applied_code_offers": APPLIED_CODES,
        "automatic_offers": len(offers) - APPLIED_CODES,
        "applications": len(priced.applications),
        "applied_codes_applied": coded_applied,
        "cart_promotion_lines": len(priced.cart_promotions),
        "skipped": dict(skipped),
        "subtotal": sum(line.value for line in lines),
        "discount": totals.discount,
        "latency": summary,
        "mean_ms": round(statistics.fmean(samples) * 1000, 3),
        "target_median_ms": ENGINE_MEDIAN_TARGET_MS,
        "pass": verdict(summary["median_ms"], ENGINE_MEDIAN_TARGET_MS, strict=False),
    }
    log(
        f"engine: median {summary['median_ms']} ms, p95 {summary['p95_ms']} ms, p99 {summary['p99_ms']} ms "
        f"({len(priced.applications)} applications)"
    )
    return result
