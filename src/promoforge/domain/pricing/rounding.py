"""The one place money is rounded: half away from zero, and the shares of a spread amount (§6.7, B11, B12)."""

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


def apportion(total: int, values: Sequence[int], *, percentage: Decimal | None = None) -> list[int]:
    """Split `total` over lines worth `values`, in their order, so that the shares add up to it exactly (B12).

    Every line but the last gets its own share rounded half away from zero: `value * percentage / 100` when
    the total is that percentage of the lines, else `total * value / sum(values)`; the last line takes what is
    left. No share is below 0 or above its line's value: what the last line cannot take (or give back) moves
    to the line before it, and so on backwards.
    """
    if total < 0 or any(value < 0 for value in values):
        raise ValueError("apportioning needs a non-negative total and values")
    worth = sum(values)
    if total > worth:
        raise ValueError("cannot apportion more than the lines are worth")
    if total == 0:
        return [0] * len(values)
    shares = [
        min(
            value,
            percent_of(value, percentage) if percentage is not None else divide_rounded(total * value, worth),
        )
        for value in values[:-1]
    ]
    shares.append(0)
    rest = total - sum(shares)
    for index in reversed(range(len(values))):
        if rest == 0:
            break
        moved = max(-shares[index], min(rest, values[index] - shares[index]))
        shares[index] += moved
        rest -= moved
    return shares
