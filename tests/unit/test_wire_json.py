"""Documents go out with the text Python's `json` writes, numbers included; timestamps as EP writes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from promoforge.api.documents.common import encode, timestamp, timestamp_in_seconds, with_python_floats

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def python_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


@settings(max_examples=500, deadline=None)
@given(JSON_VALUES)
def test_stored_json_keeps_its_text(value: Any) -> None:
    assert encode(with_python_floats(value)) == python_json(value)


def test_numbers_keep_their_text() -> None:
    values = [1e-05, 1.5e-07, 9.99e-10, 1e-4, 12.5, 10.0, 100, 2**63 - 1, -(2**63), 10**30, 1e16, 5e-324]
    assert encode(with_python_floats(values)) == python_json(values)


@settings(max_examples=300, deadline=None)
@given(st.datetimes(timezones=st.just(UTC)))
def test_timestamps_are_rfc3339_utc(value: datetime) -> None:
    assert timestamp(value) == f"{value.year:04d}-{value:%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"
    assert timestamp_in_seconds(value) == f"{value.year:04d}-{value:%m-%dT%H:%M:%S}Z"
