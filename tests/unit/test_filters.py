"""The EP filter language."""

from __future__ import annotations

import pytest

from promoforge.api.jsonapi import parse_filter
from promoforge.domain.errors import InvalidInput

CODES = {"code": frozenset({"eq"})}
JOBS = {"job_type": frozenset({"eq"}), "status": frozenset({"eq"})}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("eq(code,SUMMER10)", {"code": "SUMMER10"}),
        ("eq(code, SUMMER10 )", {"code": "SUMMER10"}),
        ('eq(code,"A:B,C")', {"code": "A:B,C"}),
        ("eq(code,'x y')", {"code": "x y"}),
    ],
)
def test_terms_parse(text: str, expected: dict[str, str]) -> None:
    assert parse_filter(text, CODES) == expected


def test_several_terms_are_joined_with_colons() -> None:
    assert parse_filter("eq(job_type,code_export):eq(status, complete)", JOBS) == {
        "job_type": "code_export",
        "status": "complete",
    }


@pytest.mark.parametrize(
    "text",
    [
        "",
        "code=1",
        "eq(name,x)",
        "like(code,x*)",
        "eq(code)",
        "zz(code,x)",
        "eq(code,a):eq(code,b)",
        "eq(code,x" * 2,
    ],
)
def test_bad_filters_are_refused_naming_the_parameter(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_filter(text, CODES)
    assert raised.value.problems[0].source == "filter"


def test_no_filter_means_no_terms() -> None:
    assert parse_filter(None, CODES) == {}


def test_too_many_terms() -> None:
    text = ":".join(f"eq(status,s{i})" for i in range(11))
    with pytest.raises(InvalidInput):
        parse_filter(text, JOBS)
