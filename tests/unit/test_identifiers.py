"""Bulk identifiers are real version 4 UUIDs; code ids are version 7 UUIDs that sort by time."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promoforge.domain.identifiers import (
    code_id,
    code_id_parts,
    new_id,
    new_ids,
    new_time_ordered_id,
    new_time_ordered_ids,
)


def test_bulk_ids_are_distinct_version_4_uuids_in_canonical_text() -> None:
    ids = new_ids(20_000)
    assert len(ids) == len(set(ids)) == 20_000
    for text in ids[:2000]:
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_bulk_ids_use_every_random_hex_position() -> None:
    ids = new_ids(5000)
    # Positions other than the version digit and the variant digit's top bits vary across ids.
    for position in (0, 9, 15, 20, 35):
        assert len({text[position] for text in ids}) == 16
    assert {text[14] for text in ids} == {"4"}
    assert {text[19] for text in ids} == set("89ab")


def test_no_ids_and_single_id() -> None:
    assert new_ids(0) == []
    assert uuid.UUID(new_id()).version == 4


def test_code_ids_are_version_7_uuids_ordered_by_time() -> None:
    earlier = new_time_ordered_ids(1000, unix_ms=1_700_000_000_000)
    later = new_time_ordered_ids(1000, unix_ms=1_700_000_000_001)
    assert earlier == sorted(earlier)
    assert len(set(earlier + later)) == 2000
    assert max(earlier) < min(later)
    for text in earlier[:200]:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (7, uuid.RFC_4122, text)
        assert parsed.int >> 80 == 1_700_000_000_000
    assert {text[14] for text in earlier} == {"7"}
    assert len({text[20] for text in earlier}) == 16  # the random part varies
    now_ms = uuid.UUID(new_time_ordered_id()).int >> 80
    assert abs(now_ms - time.time() * 1000) < 60_000


@given(
    seq=st.integers(min_value=0, max_value=2**63 - 1),
    moment=st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
    ),
)
def test_a_code_id_is_a_version_7_uuid_carrying_its_seq_and_millisecond(seq: int, moment: datetime) -> None:
    text = code_id(seq, moment)
    parsed = uuid.UUID(text)
    assert (parsed.version, parsed.variant, str(parsed)) == (7, uuid.RFC_4122, text)
    unix_ms = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    assert code_id_parts(text) == (seq, unix_ms)
    assert parsed.int >> 80 == unix_ms
    assert code_id(seq, moment.replace(tzinfo=None)) == text


def test_code_ids_sort_by_time_then_seq_and_other_ids_carry_none() -> None:
    early = datetime(2026, 11, 22, 10, 0, 0, 999, tzinfo=UTC)
    assert code_id(5, early) == code_id(5, early.replace(microsecond=1))
    ordered = [code_id(7, early), code_id(8, early), code_id(2, early + timedelta(milliseconds=1))]
    assert ordered == sorted(ordered)
    assert len(set(ordered)) == 3
    assert code_id_parts(new_id()) is None
    assert code_id_parts("not an id") is None
    # A version 7 id made at random carries the marker only by chance (1 in 1024).
    marked = sum(code_id_parts(text) is not None for text in new_time_ordered_ids(20_000))
    assert marked < 60
    with pytest.raises(ValueError):
        code_id(-1, early)
