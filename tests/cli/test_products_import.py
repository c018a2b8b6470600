"""`promoforge products import FILE`: JSON arrays and JSON lines, in batches, with errors naming the line."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from promoforge.bootstrap import Container
from promoforge.domain.queries import Page
from promoforge.services import auth, products
from support import clean_environment, promoforge_command


def product(sku: str, **attributes: Any) -> dict[str, Any]:
    """A product document as the API takes it."""
    document: dict[str, Any] = {
        "type": "product",
        "attributes": {
            "sku": sku,
            "name": f"Product {sku}",
            "status": "live",
            "price": {"USD": {"amount": 1999, "includes_tax": False}},
            "extensions": {"products(shoes)": {"brand": "adidas"}},
        },
        "meta": {"catalog_id": "catalog-1", "bread_crumb_nodes": ["node-1"]},
    }
    document["attributes"].update(attributes)
    return document


def run_import(database_url: str, path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promoforge_command(), "products", "import", str(path), *args],
        env=clean_environment(PROMOFORGE_DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_lines(path: Path, lines: list[Any]) -> Path:
    """JSON lines; a str is written as it is (a bad or blank line)."""
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def stored(container: Container, store_id: str) -> dict[str, Any]:
    """The store's products by SKU."""
    found, total = products.list_products(container.db, store_id=store_id, page=Page(limit=100, offset=0))
    assert total <= 100
    return {p.sku: p for p in found}


@pytest.fixture
def store_id(container: Container) -> str:
    return auth.create_store(container.db, name="north", now=container.clock()).store.id


def test_a_json_array_is_imported_in_batches(
    container: Container, database_url: str, store_id: str, tmp_path: Path
) -> None:
    documents = [product(f"ARR-{i:04d}") for i in range(2500)]
    documents[7]["id"] = fixed_id = str(uuid.uuid4())
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(documents, indent=2))
    result = run_import(database_url, path, "--batch-size", "1000")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["format"] == "json-array"
    assert (summary["read"], summary["created"], summary["updated"], summary["batches"]) == (2500, 2500, 0, 3)
    assert summary["store_id"] == store_id
    assert result.stderr == ""  # no progress bar off a terminal
    _, total = products.list_products(container.db, store_id=store_id, page=Page(limit=1, offset=0))
    assert total == 2500
    one = products.get_product(container.db, store_id=store_id, product_id=fixed_id)
    assert one.sku == "ARR-0007" and one.prices["USD"].amount == 1999
    assert one.attributes == {"products(shoes)": {"brand": "adidas"}}
    assert one.node_ids == ("node-1",) and one.catalog_id == "catalog-1"


def test_json_lines_stop_at_the_batch_with_a_bad_line_and_can_be_run_again(
    container: Container, database_url: str, store_id: str, tmp_path: Path
) -> None:
    lines: list[Any] = [product(f"LINE-{n}") for n in range(1, 6)]
    lines.append("")
    lines.append(product("LINE-7", price={"USD": {"amount": 12.5}}))
    lines.extend(product(f"LINE-{n}") for n in range(8, 11))
    path = write_lines(tmp_path / "catalog.jsonl", lines)
    result = run_import(database_url, path, "--batch-size", "4")
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert summary["format"] == "json-lines"
    assert (summary["written"], summary["batches"]) == (4, 1)
    assert summary["refused_batch"] == {"from": "line 5", "to": "line 9", "problems": 1}
    assert "line 7: data.attributes.price.USD.amount" not in result.stderr
    assert "line 7: attributes.price.USD.amount: Input should be a valid integer" in result.stderr
    assert "the batch from line 5 to line 9 was not written" in result.stderr
    assert sorted(stored(container, store_id)) == ["LINE-1", "LINE-2", "LINE-3", "LINE-4"]

    lines[6] = product("LINE-7")
    write_lines(path, lines)
    again = run_import(database_url, path, "--batch-size", "4")
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["read"], summary["created"], summary["updated"], summary["batches"]) == (9, 5, 4, 3)
    assert len(stored(container, store_id)) == 9


def test_every_problem_of_the_refused_batch_is_named(
    container: Container, database_url: str, store_id: str, tmp_path: Path
) -> None:
    holder = str(uuid.uuid4())
    fixed = str(uuid.uuid4())
    first = run_import(
        database_url, write_lines(tmp_path / "one.jsonl", [{**product("STORED"), "id": holder}])
    )
    assert first.returncode == 0, first.stderr
    lines: list[Any] = [
        {**product("DUP"), "id": fixed},
        '{"type": "product", "attributes": ',
        {**product("DUP"), "id": str(uuid.uuid4())},
        {**product("STORED"), "id": str(uuid.uuid4())},
        product("OK", extensions="none"),
        product("NUL\u0000"),
        '{"type": "product", "attributes": {"sku": "N", "name": "n", "price": {"USD": {"amount": NaN}}}}',
    ]
    path = write_lines(tmp_path / "bad.jsonl", lines)
    syntax = run_import(database_url, path)
    assert syntax.returncode == 1
    assert "line 2: not valid JSON" in syntax.stderr
    assert "line 5: attributes.extensions" in syntax.stderr
    assert "line 6: attributes.name: text must not contain NUL characters" in syntax.stderr
    assert "line 7: not valid JSON: NaN is not a JSON value" in syntax.stderr
    assert json.loads(syntax.stdout)["refused_batch"]["problems"] == 4

    del lines[1]
    lines[3:] = []
    clash = run_import(database_url, write_lines(path, lines))
    assert clash.returncode == 1
    assert "line 2: attributes.sku: sku 'DUP' is already at line 1" in clash.stderr
    assert f"line 3: attributes.sku: sku 'STORED' already belongs to product {holder}" in clash.stderr
    assert sorted(stored(container, store_id)) == ["STORED"]


def test_a_broken_array_keeps_the_batches_before_it(
    container: Container, database_url: str, store_id: str, tmp_path: Path
) -> None:
    text = json.dumps([product(f"A-{i}") for i in range(5)])
    path = tmp_path / "broken.json"
    path.write_text(text[:-200])
    result = run_import(database_url, path, "--batch-size", "2")
    assert result.returncode == 1
    assert "not valid JSON" in result.stderr
    assert json.loads(result.stdout)["written"] == 4
    assert sorted(stored(container, store_id)) == ["A-0", "A-1", "A-2", "A-3"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "holds no products"), (b"  \n", "holds no products"), (b"sku,name\n", "expected a JSON array")],
)
def test_files_that_are_not_json_are_refused(
    database_url: str, store_id: str, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "products.txt"
    path.write_bytes(content)
    result = run_import(database_url, path)
    assert result.returncode == 1
    assert message in result.stderr


def test_a_byte_order_mark_is_skipped(
    container: Container, database_url: str, store_id: str, tmp_path: Path
) -> None:
    for name, text in (
        ("bom.json", json.dumps([product("BOM-A")])),
        ("bom.jsonl", json.dumps(product("BOM-L"))),
    ):
        path = tmp_path / name
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
        result = run_import(database_url, path)
        assert result.returncode == 0, result.stderr
    assert sorted(stored(container, store_id)) == ["BOM-A", "BOM-L"]


def test_the_store_is_named_when_there_are_several(
    container: Container, database_url: str, store_id: str, tmp_path: Path
) -> None:
    south = auth.create_store(container.db, name="south", now=container.clock()).store
    path = write_lines(tmp_path / "p.jsonl", [product("ONLY-SOUTH")])
    ambiguous = run_import(database_url, path)
    assert ambiguous.returncode != 0
    assert "--store" in ambiguous.stderr
    assert run_import(database_url, path, "--store", "nowhere").returncode != 0
    chosen = run_import(database_url, path, "--store", "south")
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout)["store_id"] == south.id
    assert list(stored(container, south.id)) == ["ONLY-SOUTH"]
    assert stored(container, store_id) == {}


def test_a_terminal_shows_a_progress_bar(database_url: str, store_id: str, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [product(f"P-{i}") for i in range(50)])
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [promoforge_command(), "products", "import", str(path), "--batch-size", "10"],
        env=clean_environment(PROMOFORGE_DATABASE_URL=database_url, COLUMNS="100"),
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # the terminal closed: the command has exited
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 0, shown.decode(errors="replace")
    assert json.loads(stdout)["created"] == 50
    screen = shown.decode(errors="replace")
    assert "Importing products" in screen and "100%" in screen
