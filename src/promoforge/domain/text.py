"""Rules for text that people type and compare: which characters show nothing of their own."""

from __future__ import annotations

import unicodedata

# Characters that render as nothing (or only change the look of their neighbours), so two codes or SKUs
# that differ by them look the same: control, format (zero-width, bidi marks and overrides, BOM, soft
# hyphen, tags), private-use, surrogate, unassigned, line and paragraph separators...
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
# ...and the default-ignorable code points of other categories: variation selectors, the combining
# grapheme joiner, Hangul fillers and Khmer inherent vowels.
_INVISIBLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0100, 0xE01EF),
)


def is_invisible(char: str) -> bool:
    """Tell whether a character shows nothing of its own."""
    point = ord(char)
    if unicodedata.category(char) in _INVISIBLE_CATEGORIES:
        return True
    return any(low <= point <= high for low, high in _INVISIBLE_RANGES)


def refuse_invisible(text: str, name: str, offset: int = 0) -> None:
    """Raise ValueError naming the first invisible character and its position (from 1) in what was sent."""
    for index, char in enumerate(text, start=offset + 1):
        if is_invisible(char):
            raise ValueError(f"{name} contains an invisible character U+{ord(char):04X} at position {index}")
