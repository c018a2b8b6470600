"""The EP filter language."""

from __future__ import annotations

import pytest

from promoforge.api.jsonapi import (
    COMPARISONS,
    EQ_ONLY,
    FilterOperator,
    Filters,
    FilterTerm,
    parse_filter,
)
from promoforge.domain.errors import InvalidInput

EQ, GT, GE, LT, LE = (FilterOperator(op) for op in ("eq", "gt", "ge", "lt", "le"))
CODES = {"code": EQ_ONLY}
JOBS = {"job_type": EQ_ONLY, "status": EQ_ONLY}
USAGES = {"code": EQ_ONLY, "used_on": COMPARISONS}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("eq(code,SUMMER10)", "SUMMER10"),
        ("eq(code, SUMMER10 )", "SUMMER10"),
        ('eq(code,"A:B,C")', "A:B,C"),
        ("eq(code,'x y')", "x y"),
        ('eq(code,"a)b")', "a)b"),
        ("eq(code,A(B))", "A(B)"),
        (" eq ( code,x) ", "x"),
    ],
)
def test_terms_parse(text: str, value: str) -> None:
    assert parse_filter(text, CODES) == Filters((FilterTerm(EQ, "code", value),))


def test_several_terms_are_joined_with_colons() -> None:
    filters = parse_filter("eq(job_type,code_export):eq(status, complete)", JOBS)
    assert filters.terms == (
        FilterTerm(EQ, "job_type", "code_export"),
        FilterTerm(EQ, "status", "complete"),
    )
    assert filters.equal_to("status") == "complete"
    assert filters.equal_to("job_type") == "code_export"


def test_the_operator_is_kept() -> None:
    filters = parse_filter("gt(used_on,2024-01-01)", USAGES)
    assert filters.terms == (FilterTerm(GT, "used_on", "2024-01-01"),)
    assert filters.equal_to("used_on") is None


def test_a_range_is_two_terms_on_one_field() -> None:
    filters = parse_filter("ge(used_on,2024-01-01):lt(used_on,2024-02-01):eq(code,X)", USAGES)
    assert filters.on("used_on") == [
        FilterTerm(GE, "used_on", "2024-01-01"),
        FilterTerm(LT, "used_on", "2024-02-01"),
    ]
    assert filters.equal_to("code") == "X"


@pytest.mark.parametrize("operator", ["gt", "ge", "lt", "le", "like", "in"])
def test_an_operator_the_field_does_not_declare_is_refused(operator: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_filter(f"{operator}(code,x)", CODES)
    problem = raised.value.problems[0]
    assert problem.source == "filter"
    assert f"operator {operator!r} is not supported for 'code' (supported: eq)" in problem.detail


@pytest.mark.parametrize(
    "text",
    [
        "",
        ":",
        "code=1",
        "eq(name,x)",
        "like(code,x*)",
        "eq(code)",
        "eq(code,)",
        "eq(code, )",
        'eq(code,"")',
        "zz(code,x)",
        "EQ(code,x)",
        "eq(code,a):eq(code,b)",
        "eq(code,x)eq(code,x)",
        "eq(code,x) eq(code,y)",
        "eq(code,x)junk",
        "eq(code,x" * 2,
        'eq(code,"x)',
        "eq(code,x))",
    ],
)
def test_bad_filters_are_refused_naming_the_parameter(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_filter(text, CODES)
    assert raised.value.problems[0].source == "filter"


def test_the_same_comparison_twice_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_filter("gt(used_on,2024-01-01):gt(used_on,2024-02-01)", USAGES)
    assert "gt(used_on,...) is given twice" in raised.value.problems[0].detail


def test_no_filter_means_no_terms() -> None:
    assert parse_filter(None, CODES) == Filters()
    assert parse_filter(None, CODES).equal_to("code") is None


def test_too_many_terms() -> None:
    text = ":".join(f"eq(status,s{i})" for i in range(11))
    with pytest.raises(InvalidInput):
        parse_filter(text, JOBS)
