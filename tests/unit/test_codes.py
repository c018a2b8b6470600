"""Code rules: canonical form, manual codes, prefixes, random parts and the code space."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from promoforge.domain import codes
from promoforge.domain.codes import (
    ALPHABET,
    OrderedCodeDraw,
    canonical_code,
    check_code_space,
    clean_code_prefix,
    clean_manual_code,
    code_space_size,
    generate_random_parts,
    joined_prefix,
)
from promoforge.domain.errors import CodeSpaceTooSmall


def test_alphabet_has_no_look_alikes() -> None:
    assert len(ALPHABET) == 31
    assert not set("01ilo") & set(ALPHABET)
    assert len(set(ALPHABET)) == 31


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("SUMMER10", "summer10"),
        ("  Summer10\t", "summer10"),
        ("Straße", "strasse"),
        ("\uff33\uff35\uff2d\uff2d\uff25\uff32", "summer"),
    ],
)
def test_canonical_code_is_trimmed_case_folded_nfkc(text: str, key: str) -> None:
    assert canonical_code(text) == key


def test_manual_code_is_trimmed() -> None:
    assert clean_manual_code("  SAVE10%  ") == "SAVE10%"


@pytest.mark.parametrize("text", ["", "   ", "a" * 256, "bad\x07code", "tab\tinside\x00"])
def test_manual_code_rejects_empty_long_and_control(text: str) -> None:
    with pytest.raises(ValueError):
        clean_manual_code(text)


INVISIBLE = {
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "left-to-right mark": "\u200e",
    "right-to-left mark": "\u200f",
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "tag letter A": "\U000e0041",
    "cancel tag": "\U000e007f",
    "variation selector 16": "\ufe0f",
    "variation selector 256": "\U000e01ef",
    "Mongolian variation selector": "\u180b",
    "combining grapheme joiner": "\u034f",
    "Hangul filler": "\u3164",
    "private use": "\ue000",
    "unassigned": "\u0378",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "escape": "\x1b",
}


@pytest.mark.parametrize("name", list(INVISIBLE))
def test_manual_code_refuses_invisible_characters_naming_them(name: str) -> None:
    char = INVISIBLE[name]
    with pytest.raises(ValueError) as raised:
        clean_manual_code(f"SUMMER{char}10")
    assert str(raised.value) == f"code contains an invisible character U+{ord(char):04X} at position 7"
    with pytest.raises(ValueError) as raised:
        clean_code_prefix(f"ab{char}")
    assert str(raised.value) == f"code_prefix contains an invisible character U+{ord(char):04X} at position 3"


def test_invisible_position_counts_from_what_was_sent() -> None:
    with pytest.raises(ValueError, match=r"U\+200B at position 11$"):
        clean_manual_code("  SUMMER10\u200b ")


@pytest.mark.parametrize("text", ["caf\u00e9 10", "\u00a1HOLA!", "\u0915\u094d\u0937", "A\u0301", "SAVE 10"])
def test_manual_code_keeps_visible_text_and_spaces(text: str) -> None:
    assert clean_manual_code(text) == text


@pytest.mark.parametrize("text", [".", "..", " .. ", "\uff0e", "\uff0e\uff0e"])
def test_manual_code_refuses_dot_segments(text: str) -> None:
    with pytest.raises(ValueError, match=r"must not be '\.' or '\.\.'"):
        clean_manual_code(text)


@pytest.mark.parametrize("text", ["...", ".a", "a.", "a/b", "%2E%2E"])
def test_dots_and_slashes_within_a_code_are_kept(text: str) -> None:
    assert clean_manual_code(text) == text


@pytest.mark.parametrize(
    ("prefix", "joined"), [(None, ""), ("", ""), ("summer", "summer-"), ("promo-", "promo-")]
)
def test_prefix_joined_with_one_dash(prefix: str | None, joined: str) -> None:
    assert joined_prefix(prefix) == joined


@pytest.mark.parametrize("prefix", ["has space", "x" * 51, "tab\t"])
def test_prefix_rejects_space_and_length(prefix: str) -> None:
    with pytest.raises(ValueError):
        clean_code_prefix(prefix)


@pytest.mark.parametrize(
    ("length", "pattern"),
    [
        (8, r"[a-z2-9]{4}-[a-z2-9]{4}"),
        (10, r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{2}"),
        (12, r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}"),
        (16, r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}"),
    ],
)
def test_random_parts_have_a_dash_every_four_symbols(length: int, pattern: str) -> None:
    parts = generate_random_parts(500, length).codes()
    assert len(parts) == 500
    for part in parts:
        assert re.fullmatch(pattern, part), part
        assert set(part.replace("-", "")) <= set(ALPHABET)


def test_random_parts_reject_lengths_outside_8_to_16() -> None:
    with pytest.raises(ValueError):
        generate_random_parts(1, 7)
    with pytest.raises(ValueError):
        generate_random_parts(1, 17)


def test_zero_parts_is_empty() -> None:
    assert generate_random_parts(0, 8).codes() == []


def test_every_byte_value_maps_evenly_and_high_bytes_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    # Feed every byte value once per round: 248 accepted values must give each symbol exactly 8 times.
    monkeypatch.setattr(codes.os, "urandom", lambda n: bytes(range(256)) * (n // 256 + 1))
    counts = Counter(codes.random_symbols(248 * 4).decode())
    assert set(counts) == set(ALPHABET)
    assert set(counts.values()) == {32}


def test_random_symbols_are_roughly_uniform() -> None:
    sample = codes.random_symbols(31 * 20_000).decode()
    counts = Counter(sample)
    expected = 20_000
    chi_square = sum((counts[s] - expected) ** 2 / expected for s in ALPHABET)
    # 30 degrees of freedom: P(chi2 > 80) is about 2e-6, so a fair source essentially never fails.
    assert chi_square < 80, counts


def test_code_space_refuses_more_than_half_full() -> None:
    half = code_space_size(8) // 2
    check_code_space(existing_codes=half - 10, new_codes=10, length=8)
    with pytest.raises(CodeSpaceTooSmall) as raised:
        check_code_space(existing_codes=half - 10, new_codes=11, length=8)
    assert raised.value.source == "data.parameters.code_length"
    assert code_space_size(8) == 31**8


def test_lead_symbols_start_every_part_and_must_be_fewer_than_four_of_the_alphabet() -> None:
    parts = generate_random_parts(300, 12, b"7k").codes()
    assert all(part.startswith("7k") and len(part) == 14 for part in parts)
    assert len({part[2] for part in parts}) > 10
    for bad in (b"2345", b"1", b"A"):
        with pytest.raises(ValueError):
            generate_random_parts(1, 8, bad)


@pytest.mark.parametrize(("total", "batch"), [(0, 10), (1, 10), (9_999, 25_000), (95_000, 7_000)])
def test_an_ordered_draw_hands_out_ascending_batches_of_distinct_parts(total: int, batch: int) -> None:
    draw = OrderedCodeDraw(total, 8)
    batches = []
    while taken := draw.take(batch):
        assert len(taken) <= batch
        batches.append(taken)
    assert draw.take(batch) == []
    flat = [part for taken in batches for part in taken]
    assert flat == sorted(flat)
    assert len(set(flat)) == len(flat)
    # Only a repeat is dropped: 95,000 parts of 31^8 repeat with probability about 1%.
    assert total - 2 <= len(flat) <= total
    assert all(len(taken) == batch for taken in batches[:-1])
    assert all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}", part) for part in flat)


def test_an_ordered_draw_is_uniform_over_the_leading_symbols() -> None:
    total = 31 * 4_000
    draw = OrderedCodeDraw(total, 8)
    flat = [part for taken in iter(lambda: draw.take(50_000), []) for part in taken]
    for position in (0, 1, 5):
        counts = Counter(part[position] for part in flat)
        expected = len(flat) / 31
        chi_square = sum((counts[s] - expected) ** 2 / expected for s in ALPHABET)
        # 30 degrees of freedom: P(chi2 > 80) is about 2e-6.
        assert chi_square < 80, (position, counts)
    # Not stratified: how many parts start with each symbol varies as it would for independent draws.
    assert len(set(Counter(part[0] for part in flat).values())) > 5
