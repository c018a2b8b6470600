"""Checks on promotion rules: the decimals of a percentage, and the rules that span several fields."""

from __future__ import annotations

from collections.abc import Sequence

from promoforge.domain.errors import FieldProblem, ProblemList
from promoforge.domain.money import Money, decimal_places, exact_decimal
from promoforge.domain.promotions.rules import (
    ALL_TARGETS,
    CurrencyPercentage,
    ItemTargeting,
    PromotionRules,
    XForY,
)

MAX_PERCENT_DECIMALS = 6


def check_decimals(value: int | float) -> int | float:
    """Accept a number written with at most six decimals."""
    if decimal_places(exact_decimal(value)) > MAX_PERCENT_DECIMALS:
        raise ValueError("must have at most 6 decimal places")
    return value


def schema_rule_problems(rules: PromotionRules) -> list[FieldProblem]:
    """Return problems with rules that span several fields of a well-formed schema."""
    problems = ProblemList()
    base = "data.schema"
    targeting = getattr(rules, "targeting", None)
    if isinstance(targeting, ItemTargeting) and targeting.targets == ALL_TARGETS and targeting.target_nodes:
        problems.add(f"{base}.target_nodes", 'targets "all" cannot be combined with target_nodes')
    if isinstance(rules, XForY) and not rules.y < rules.x:
        problems.add(f"{base}.y", "y (units paid for) must be less than x (units taken)")
    currencies: Sequence[Money | CurrencyPercentage] | None = getattr(rules, "currencies", None)
    if currencies is not None:
        _duplicate_currency_problems(currencies, f"{base}.currencies", problems)
    return problems.problems


def money_list_problems(values: Sequence[Money] | None, source: str) -> list[FieldProblem]:
    """Return problems with a list of per-currency amounts (one entry per currency)."""
    problems = ProblemList()
    if values:
        _duplicate_currency_problems(values, source, problems)
    return problems.problems


def _duplicate_currency_problems(
    entries: Sequence[Money | CurrencyPercentage], source: str, problems: ProblemList
) -> None:
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if entry.currency in seen:
            problems.add(f"{source}.{index}.currency", f"currency {entry.currency} is listed twice")
        seen.add(entry.currency)
