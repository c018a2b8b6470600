"""Bulk identifiers are real version 4 UUIDs; code ids are version 7 UUIDs that sort by time."""

from __future__ import annotations

import time
import uuid

from promoforge.domain.identifiers import new_id, new_ids, new_time_ordered_id, new_time_ordered_ids


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
