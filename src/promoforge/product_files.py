"""Product files for `promoforge products import`: a JSON array or JSON lines, streamed in batches."""

from __future__ import annotations

import codecs
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import ijson
from pydantic import TypeAdapter, ValidationError

from promoforge.api.body import check_json_values
from promoforge.api.documents.products.requests import ProductData, clash_detail, clash_field, product_fields
from promoforge.domain.errors import DomainError, InvalidInput, ProductConflict
from promoforge.domain.products import DEFAULT_IMPORT_BATCH, ProductFields
from promoforge.services import products
from promoforge.services.clock import utc_now
from promoforge.services.validation import field_problems
from promoforge.storage.repositories import Transactor

_SNIFF_BYTES = 64 * 1024
_PRODUCT = TypeAdapter(ProductData)
_ONE_PER_LINE = " (JSON lines hold one whole product per line; a file of one JSON document must be an array)"


class FileFormat(StrEnum):
    """How the products of a file are laid out."""

    JSON_ARRAY = "json-array"
    JSON_LINES = "json-lines"


class UnreadableFile(Exception):
    """The file is not a JSON array or JSON lines; nothing after `position` can be read."""

    def __init__(self, position: str, detail: str) -> None:
        super().__init__(f"{position}: {detail}")
        self.position = position
        self.detail = detail


@dataclass(frozen=True)
class FileItem:
    """One product of the file, where it is, and what is wrong with it (valid when `problems` is empty)."""

    position: str
    fields: ProductFields | None
    problems: tuple[str, ...] = ()


@dataclass
class ImportReport:
    """What an import of a file did, batch by batch."""

    file_format: FileFormat
    read: int = 0
    created: int = 0
    updated: int = 0
    batches: int = 0
    seconds: float = 0.0
    # Set when a batch was refused: its first and last positions, and every problem found in it.
    refused_batch: tuple[str, str] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def written(self) -> int:
        """Products written by the batches that went in."""
        return self.created + self.updated


def detect_format(stream: IO[bytes]) -> FileFormat:
    """Tell the layout from the first character that is not white space; leave the stream past any BOM."""
    start = stream.read(_SNIFF_BYTES)
    offset = len(codecs.BOM_UTF8) if start.startswith(codecs.BOM_UTF8) else 0
    stream.seek(offset)
    first = start[offset:].lstrip()[:1]
    if first == b"[":
        return FileFormat.JSON_ARRAY
    if first == b"{":
        return FileFormat.JSON_LINES
    if not first:
        raise UnreadableFile("start of file", "the file holds no products")
    raise UnreadableFile(
        "start of file", "expected a JSON array of products ('[') or one product object per line ('{')"
    )


def _checked(position: str, document: Any) -> FileItem:
    """Validate one document as a product, as the API does."""
    try:
        check_json_values(document)
        data = _PRODUCT.validate_python(document)
    except InvalidInput as error:
        return FileItem(position, None, tuple(f"{position}: {p.source}: {p.detail}" for p in error.problems))
    except ValidationError as error:
        problems = field_problems(error.errors())
        return FileItem(position, None, tuple(f"{position}: {p.detail}" for p in problems))
    return FileItem(position, product_fields(data))


def _array_items(stream: IO[bytes]) -> Iterator[FileItem]:
    count = 0
    try:
        # Floats as float, as the API's parser reads them; ijson would give Decimal.
        for index, document in enumerate(ijson.items(stream, "item", use_float=True)):
            count = index + 1
            yield _checked(f"index {index}", document)
    except ijson.JSONError as error:
        where = f"after index {count - 1}" if count else "start of the array"
        raise UnreadableFile(where, f"the file is not valid JSON: {error}") from None


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity are not JSON; Python's parser would accept them."""
    raise ValueError(f"{name} is not a JSON value")


def _line_items(stream: IO[bytes]) -> Iterator[FileItem]:
    first = True
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        position = f"line {number}"
        try:
            document = json.loads(line.rstrip(b"\r\n").decode("utf-8"), parse_constant=_refuse_constant)
        except UnicodeDecodeError:
            yield FileItem(position, None, (f"{position}: not valid UTF-8",))
            continue
        except (ValueError, RecursionError) as error:
            reason = (
                f"{error.msg} at column {error.colno}" if isinstance(error, json.JSONDecodeError) else error
            )
            hint = _ONE_PER_LINE if first else ""
            yield FileItem(position, None, (f"{position}: not valid JSON: {reason}{hint}",))
            continue
        finally:
            first = False
        yield _checked(position, document)


def read_items(stream: IO[bytes], file_format: FileFormat) -> Iterator[FileItem]:
    """Yield the file's products one at a time, each validated; only the current one is in memory."""
    if file_format is FileFormat.JSON_ARRAY:
        return _array_items(stream)
    return _line_items(stream)


def _conflict_problems(error: ProductConflict, batch: list[FileItem]) -> list[str]:
    if not error.clashes:
        return [f"{batch[0].position}-{batch[-1].position}: {error.detail}"]
    return [
        f"{batch[clash.index].position}: {clash_field(clash)}: "
        f"{clash_detail(clash, batch[clash.other_index or 0].position)}"
        for clash in error.clashes
    ]


def import_product_file(
    db: Transactor,
    *,
    store_id: str,
    path: Path,
    batch_size: int = DEFAULT_IMPORT_BATCH,
    on_batch: Callable[[int], None] = lambda _offset: None,
) -> ImportReport:
    """Import a file's products in batches, each all or none; stop at the first batch that is refused.

    `on_batch` is told how far into the file (in bytes) each batch reached. Products are replaced by id,
    or by SKU when they have none, so running the same file again after a refusal is safe.
    """
    started = time.monotonic()
    with path.open("rb") as stream:
        report = ImportReport(detect_format(stream))
        batch: list[FileItem] = []

        def write() -> bool:
            report.refused_batch = (batch[0].position, batch[-1].position)
            report.problems = [problem for item in batch for problem in item.problems]
            if report.problems:
                return False
            try:
                result = products.import_products(
                    db,
                    store_id=store_id,
                    products=[item.fields for item in batch if item.fields is not None],
                    now=utc_now(),
                )
            except ProductConflict as error:
                report.problems = _conflict_problems(error, batch)
                return False
            except DomainError as error:
                report.problems = [f"{batch[0].position}-{batch[-1].position}: {error}"]
                return False
            report.batches += 1
            report.created += result.created
            report.updated += result.updated
            report.refused_batch = None
            on_batch(stream.tell())
            batch.clear()
            return True

        try:
            for item in read_items(stream, report.file_format):
                report.read += 1
                batch.append(item)
                if len(batch) == batch_size and not write():
                    break
            else:
                if batch:
                    write()
        except UnreadableFile as error:
            report.refused_batch = (batch[0].position if batch else error.position, error.position)
            report.problems = [problem for item in batch for problem in item.problems] + [str(error)]
    report.seconds = time.monotonic() - started
    return report
