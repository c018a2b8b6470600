"""Column types of the service's tables: how ids, codes, SKUs, timestamps and consume units are stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, LargeBinary, SmallInteger, String, Text, TypeDecorator
from sqlalchemy.dialects import postgresql

from promoforge.domain.codes import ConsumeUnit

UUIDText = String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
# Byte-wise ordering keeps the code index cheap on PostgreSQL; keys are already case-folded.
CodeKeyText = Text().with_variant(Text(collation="C"), "postgresql")
# SKUs compare exactly, and byte-wise order lists products in the same order on both backends.
SkuText = Text().with_variant(Text(collation="C"), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store aware datetimes as UTC; SQLite keeps them naive."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Read back an aware UTC datetime."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CompactDateTime(TypeDecorator[datetime]):
    """A UTC timestamp in 8 bytes: integer microseconds since 1970 on SQLite, timestamptz on PostgreSQL."""

    impl = BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        """timestamptz on PostgreSQL (already 8 bytes); an integer elsewhere."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        return dialect.type_descriptor(BigInteger())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        """Aware datetimes only; microseconds since the epoch on SQLite."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        if dialect.name == "postgresql":
            return value.astimezone(UTC)
        return to_epoch_microseconds(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Read back an aware UTC datetime."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return from_epoch_microseconds(int(value))


def to_epoch_microseconds(value: datetime) -> int:
    """Microseconds since 1970-01-01 UTC, exactly (no float on the way)."""
    return (value - EPOCH) // timedelta(microseconds=1)


def from_epoch_microseconds(value: int) -> datetime:
    """The aware UTC datetime of microseconds since 1970-01-01 UTC."""
    return EPOCH + timedelta(microseconds=value)


class UUIDBytes(TypeDecorator[str]):
    """A UUID given and read as canonical text, stored in 16 bytes (`uuid` on PostgreSQL)."""

    impl = LargeBinary(16)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        """The native uuid type on PostgreSQL; a 16-byte blob elsewhere."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID(as_uuid=False))
        return dialect.type_descriptor(LargeBinary(16))

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        """Text in; bytes to SQLite."""
        if value is None or dialect.name == "postgresql":
            return value
        return uuid.UUID(value).bytes

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        """Canonical text out."""
        if value is None:
            return None
        return str(value) if dialect.name == "postgresql" else str(uuid.UUID(bytes=bytes(value)))


# consume_unit as a small integer in code rows; the numbers are stored, so never renumber them.
CONSUME_UNIT_NUMBERS = {ConsumeUnit.PER_CART.value: 1, ConsumeUnit.PER_ITEM.value: 2}
CONSUME_UNIT_NAMES = {number: name for name, number in CONSUME_UNIT_NUMBERS.items()}


class ConsumeUnitNumber(TypeDecorator[str]):
    """`consume_unit` given and read as its name, stored as a small integer."""

    impl = SmallInteger
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> int | None:
        """Name in, number stored."""
        return None if value is None else CONSUME_UNIT_NUMBERS[value]

    def process_result_value(self, value: int | None, dialect: Dialect) -> str | None:
        """Number stored, name out."""
        return None if value is None else CONSUME_UNIT_NAMES[int(value)]
