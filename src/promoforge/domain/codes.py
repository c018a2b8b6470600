"""Promotion codes: the stored code, canonical form, manual code checks, random generation, the code space."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from promoforge.domain.errors import CodeSpaceTooSmall
from promoforge.domain.text import refuse_invisible

ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
MIN_CODE_LENGTH = 8
MAX_CODE_LENGTH = 16
DEFAULT_CODE_LENGTH = 8
GROUP_SIZE = 4
MAX_MANUAL_CODE_CHARS = 255
MAX_PREFIX_CHARS = 50
MAX_SAFE_INTEGER = 2**53 - 1
# Most codes one promotion may hold in a new store (a store setting).
DEFAULT_MAX_CODES_PER_PROMOTION = 1000
EXPIRED_REENABLE_CODE_LIMIT = 1000

# Bytes below 248 (= 8 * 31) map onto the alphabet eight to a symbol; the other eight byte values are
# dropped, so every symbol is exactly equally likely (rejection sampling, no modulo bias).
_ACCEPTED_BYTES = 256 - 256 % len(ALPHABET)
_BYTE_TO_SYMBOL = bytes.maketrans(
    bytes(range(_ACCEPTED_BYTES)),
    bytes(ord(ALPHABET[b % len(ALPHABET)]) for b in range(_ACCEPTED_BYTES)),
)
_REJECTED_BYTES = bytes(range(_ACCEPTED_BYTES, 256))
_RECORD_END = b"\n"
_ALPHABET_BYTES = ALPHABET.encode("ascii")
# A job's draw is split by leading symbols until a part holds at most this many codes (or three symbols
# lead): each part is drawn, sorted and handed out whole.
_DRAW_PART_CODES = 10_000


class ConsumeUnit(StrEnum):
    """How uses of a code are counted at checkout."""

    PER_CART = "per_cart"
    PER_ITEM = "per_item"


@dataclass(frozen=True)
class PromotionCode:
    """A stored promotion code; `uses` counts the uses left, `max_uses` the limit (None = unlimited)."""

    id: str
    promotion_id: str
    code: str
    max_uses: int | None
    uses: int | None
    consume_unit: str
    user: str | list[str] | None
    created_by: str | None
    created_at: datetime
    job_id: str | None = None


@dataclass(frozen=True)
class NewCode:
    """A manual code about to be added."""

    code: str
    key: str
    max_uses: int | None
    consume_unit: str
    user: str | list[str] | None


def canonical_code(text: str) -> str:
    """Return the one form used for every code comparison: NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


# Path segments that URL parsers resolve away: DELETE .../codes/.. would reach DELETE the promotion.
DOT_SEGMENTS = frozenset({".", ".."})


def clean_manual_code(text: str) -> str:
    """Trim a manual code and check it is usable; raise ValueError saying why not."""
    code = text.strip()
    if not code:
        raise ValueError("code must not be empty")
    if len(code) > MAX_MANUAL_CODE_CHARS:
        raise ValueError(f"code must be at most {MAX_MANUAL_CODE_CHARS} characters")
    refuse_invisible(code, "code", offset=len(text) - len(text.lstrip()))
    if code in DOT_SEGMENTS or canonical_code(code) in DOT_SEGMENTS:
        raise ValueError("code must not be '.' or '..': URLs cannot name such a code")
    return code


def clean_code_prefix(text: str) -> str:
    """Check a generation prefix: visible, no white space, at most 50 characters."""
    if len(text) > MAX_PREFIX_CHARS:
        raise ValueError(f"code_prefix must be at most {MAX_PREFIX_CHARS} characters")
    refuse_invisible(text, "code_prefix")
    if any(ch.isspace() for ch in text):
        raise ValueError("code_prefix must not contain white space")
    return text


def joined_prefix(prefix: str | None) -> str:
    """Return the text put before the random part: the prefix plus one dash, or nothing."""
    if not prefix:
        return ""
    return prefix if prefix.endswith("-") else prefix + "-"


def formatted_length(length: int) -> int:
    """Return the length of a random part of `length` symbols once its dashes are added."""
    return length + (length - 1) // GROUP_SIZE


def code_space_size(length: int) -> int:
    """Return how many distinct random parts of `length` symbols exist."""
    return int(len(ALPHABET) ** length)


def check_code_space(*, existing_codes: int, new_codes: int, length: int) -> None:
    """Refuse a generation that would fill the code space more than half: collisions would dominate."""
    capacity = code_space_size(length) // 2
    if existing_codes + new_codes > capacity:
        raise CodeSpaceTooSmall(
            f"code_length {length} gives {code_space_size(length)} possible codes; the store's "
            f"{existing_codes} codes plus {new_codes} new ones would fill more than half of them. "
            "Use a longer code_length.",
            source="data.parameters.code_length",
        )


def random_symbols(count: int) -> bytes:
    """Return `count` symbols of the alphabet drawn uniformly from the OS's cryptographic source."""
    out = bytearray()
    while len(out) < count:
        missing = count - len(out)
        # 3.3% of bytes are rejected; ask for a little more so one round nearly always suffices.
        out += os.urandom(missing + missing // 16 + 16).translate(_BYTE_TO_SYMBOL, _REJECTED_BYTES)
    return bytes(out[:count])


@dataclass(frozen=True)
class RandomCodeBatch:
    """A batch of generated random parts, formatted with dashes and laid out as fixed-width records."""

    records: str
    count: int

    def codes(self) -> list[str]:
        """Return the random parts as a list."""
        return self.records.split("\n", self.count - 1) if self.count else []


def generate_random_parts(count: int, length: int, lead: bytes = b"") -> RandomCodeBatch:
    """Draw `count` random parts of `length` symbols, with a dash after every four symbols; the first
    symbols are `lead` (fewer than four) in every part, if given."""
    if not MIN_CODE_LENGTH <= length <= MAX_CODE_LENGTH:
        raise ValueError("code length out of range")
    if len(lead) >= GROUP_SIZE or lead.translate(None, _ALPHABET_BYTES):
        raise ValueError("lead must be fewer than four symbols of the alphabet")
    if count <= 0:
        return RandomCodeBatch(records="", count=0)
    symbols = bytearray(random_symbols(count * length))
    for place, symbol in enumerate(lead):
        symbols[place::length] = bytes((symbol,)) * count
    width = formatted_length(length) + 1
    layout = bytearray(count * width)
    # Strided slice assignment places symbol k of every code in one C-level copy per position.
    column = 0
    for symbol_index in range(length):
        if symbol_index and symbol_index % GROUP_SIZE == 0:
            layout[column::width] = b"-" * count
            column += 1
        layout[column::width] = symbols[symbol_index::length]
        column += 1
    layout[column::width] = _RECORD_END * count
    return RandomCodeBatch(records=layout[:-1].decode("ascii"), count=count)


class OrderedCodeDraw:
    """The random parts of one generation job, handed out in ascending batches.

    Drawn as `total` independent uniform parts would be, but in order: how many parts start with each
    symbol is counted from `total` uniform symbols, and each symbol's share is drawn the same way, one
    symbol further, until a share is small; shares are then drawn whole and sorted. Inserting batches in
    ascending order fills the code index from left to right instead of touching all of it in every batch.
    A repeat within a share is dropped, so a draw may hold a few parts fewer than `total`.
    """

    def __init__(self, total: int, length: int) -> None:
        if not MIN_CODE_LENGTH <= length <= MAX_CODE_LENGTH:
            raise ValueError("code length out of range")
        self._shares = _shares(max(0, total), length, b"")
        self._pending: list[str] = []

    def take(self, count: int) -> list[str]:
        """Up to `count` more parts, each after every part taken before; an empty list once all are out."""
        batch = self._pending
        while len(batch) < count:
            share = next(self._shares, None)
            if share is None:
                break
            batch.extend(share)
        self._pending = batch[count:]
        return batch[:count]


def _shares(count: int, length: int, lead: bytes) -> Iterator[list[str]]:
    """`count` uniform random parts starting with `lead`, as sorted lists in ascending order."""
    if count <= _DRAW_PART_CODES or len(lead) == GROUP_SIZE - 1:
        if count:
            yield sorted(set(generate_random_parts(count, length, lead).codes()))
        return
    firsts = random_symbols(count)
    counts = [firsts.count(symbol) for symbol in _ALPHABET_BYTES]
    del firsts
    for symbol, share in zip(_ALPHABET_BYTES, counts, strict=True):
        yield from _shares(share, length, lead + bytes((symbol,)))
