"""Bulk identifiers are real version 4 UUIDs."""

from __future__ import annotations

import uuid

from promoforge.domain.identifiers import new_id, new_ids


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
