"""The one place money is rounded: half away from zero, and largest-remainder shares (§6.7, B11, B12)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, localcontext


def divide_rounded(numerator: int, denominator: int) -> int:
    """`numerator / denominator` rounded half away from zero, in exact integer arithmetic."""
    if denominator <= 0:
        raise ValueError("the denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def percent_of(amount: int, percent: Decimal) -> int:
    """`amount * percent / 100` rounded half away from zero; exact for any percentage of up to 6 decimals."""
    with localcontext() as context:
        context.prec = 80  # wide enough that the product and the shift by 100 are exact
        exact = Decimal(amount) * percent / 100
        # ROUND_HALF_UP in the decimal module rounds halves away from zero, for negatives too.
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` over `weights` in proportion, exactly: floors first, then the leftover units one by one
    to the largest remainders (ties: the larger weight, then the earlier position)."""
    weight_sum = sum(weights)
    if total < 0 or any(weight < 0 for weight in weights):
        raise ValueError("apportioning needs a non-negative total and weights")
    if total == 0:
        return [0] * len(weights)
    if weight_sum == 0:
        raise ValueError("cannot apportion an amount over nothing")
    shares = [total * weight // weight_sum for weight in weights]
    remainders = [total * weight % weight_sum for weight in weights]
    leftover = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda index: (-remainders[index], -weights[index], index))
    for index in order[:leftover]:
        shares[index] += 1
    return shares
