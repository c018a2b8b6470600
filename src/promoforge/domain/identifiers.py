"""Identifiers: random (version 4) UUIDs, one at a time or many at once."""

from __future__ import annotations

import os
import uuid

_VERSION_4 = bytes.maketrans(bytes(range(256)), bytes((b & 0x0F) | 0x40 for b in range(256)))
_RFC_4122_VARIANT = bytes.maketrans(bytes(range(256)), bytes((b & 0x3F) | 0x80 for b in range(256)))
_GROUPS = (8, 4, 4, 4, 12)
_TEXT_WIDTH = 36


def new_id() -> str:
    """Return a new random UUID as text."""
    return str(uuid.uuid4())


def new_ids(count: int) -> list[str]:
    """Return `count` random UUIDs as text, built in bulk (the same bits uuid4 sets, C-speed slicing)."""
    if count <= 0:
        return []
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = raw[6::16].translate(_VERSION_4)
    raw[8::16] = raw[8::16].translate(_RFC_4122_VARIANT)
    digits = raw.hex().encode("ascii")
    width = _TEXT_WIDTH + 1
    text = bytearray(width * count)
    source = target = 0
    for size in _GROUPS:
        for offset in range(size):
            text[target + offset :: width] = digits[source + offset :: 32]
        source += size
        target += size
        if target < _TEXT_WIDTH:
            text[target::width] = b"-" * count
            target += 1
    text[_TEXT_WIDTH::width] = b"\n" * count
    return text[:-1].decode("ascii").split("\n")


def parse_uuid(text: str) -> str | None:
    """Return a UUID in its canonical text form, or None if `text` is not one."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None
