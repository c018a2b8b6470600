"""The byte lanes that number a batch's rows in PostgreSQL's COPY binary data."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from promoforge.storage.dialects.postgresql import _counting_lanes


@given(
    first=st.one_of(
        st.integers(min_value=0, max_value=2**63 - 300_000),
        # Near the byte boundaries where the high lanes roll over.
        st.sampled_from([2**16 - 3, 2**24 - 1, 5 * 2**32 + 2**32 - 700, 2**40 - 1]),
    ),
    count=st.integers(min_value=1, max_value=3_000),
)
def test_lanes_are_the_bytes_of_consecutive_big_endian_numbers(first: int, count: int) -> None:
    packed = struct.pack(f">{count}q", *range(first, first + count))
    assert _counting_lanes(first, count, 8) == [packed[place::8] for place in range(8)]
