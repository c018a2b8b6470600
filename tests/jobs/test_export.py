"""Code export: the CSV (header, quoting, every code), and the signed, expiring download link."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from promoforge.bootstrap import Container
from promoforge.jobs.worker import Worker
from support import StoreClient

HEADER = ["code", "uses", "max_uses", "consume_unit", "user", "created_by", "created_at"]


def export_href(shop: StoreClient, promotion_id: str, run_jobs: Any) -> str:
    job = shop.create_job(promotion_id, "code_export").json()["data"]
    run_jobs()
    done = shop.job(promotion_id, job["id"])
    assert done["status"] == "completed", done
    response = shop.get(f"/v2/promotions/{promotion_id}/jobs/{job['id']}/file")
    assert response.status_code == 200
    href: str = response.json()["href"]
    return href


def download(shop: StoreClient, href: str) -> Any:
    parts = urlsplit(href)
    return shop.client.get(f"{parts.path}?{parts.query}")


def test_csv_holds_every_code_with_rfc4180_quoting(shop: StoreClient, run_jobs: Any) -> None:
    promotion = shop.create_promotion()
    shop.add_codes(
        promotion["id"],
        {"code": "PLAIN", "uses": 3},
        {"code": 'has,comma "and quotes"', "user": "cust-1", "consume_unit": "per_item"},
        {"code": "ÜNICODE✓", "user": ["a", "b"]},
    )
    shop.create_job(promotion["id"], number_of_codes=50, max_uses_per_code=1)
    run_jobs()
    href = export_href(shop, promotion["id"], run_jobs)
    assert urlsplit(href).path.endswith("_codes.csv")
    response = download(shop, href)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert ".csv" in response.headers["content-disposition"]
    assert int(response.headers["content-length"]) == len(response.content)
    text = response.content.decode("utf-8")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == HEADER
    by_code = {row[0]: row for row in rows[1:]}
    assert len(rows) == 1 + 53
    assert by_code["PLAIN"][1:5] == ["3", "3", "per_cart", ""]
    assert by_code['has,comma "and quotes"'][3:5] == ["per_item", "cust-1"]
    assert by_code["ÜNICODE✓"][4] == '["a", "b"]'
    assert by_code["PLAIN"][5] == shop.client_id
    assert by_code["PLAIN"][6].endswith("Z") and "T" in by_code["PLAIN"][6]
    listed = {c["code"] for c in shop.list_codes(promotion["id"], **{"page[limit]": 100})}
    assert set(by_code) == listed


def test_export_of_no_codes_is_just_the_header(shop: StoreClient, run_jobs: Any) -> None:
    promotion = shop.create_promotion()
    response = download(shop, export_href(shop, promotion["id"], run_jobs))
    assert response.content == b"code,uses,max_uses,consume_unit,user,created_by,created_at\r\n"


def test_large_export_streams_in_parts(container: Container, shop: StoreClient, run_jobs: Any) -> None:
    container.settings.export_part_bytes = 1024
    container.settings.export_chunk_rows = 7
    promotion = shop.create_promotion()
    shop.create_job(promotion["id"], number_of_codes=400)
    run_jobs()
    response = download(shop, export_href(shop, promotion["id"], run_jobs))
    lines = response.content.decode().splitlines()
    assert len(lines) == 401
    assert len(set(lines)) == 401


@pytest.mark.parametrize("part", ["signature", "expires", "path"])
def test_tampered_links_are_refused(shop: StoreClient, run_jobs: Any, part: str) -> None:
    promotion = shop.create_promotion()
    href = export_href(shop, promotion["id"], run_jobs)
    parts = urlsplit(href)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    path = parts.path
    if part == "signature":
        # Change a leading character: the last base64 character of a signature partly holds padding bits.
        signature = query["Signature"]
        query["Signature"] = ("A" if signature[0] != "A" else "B") + signature[1:]
    elif part == "expires":
        query["Expires"] = str(int(query["Expires"]) + 3600)
    else:
        path = path.replace(promotion["id"], shop.create_promotion()["id"])
    response = shop.client.get(path, params=query)
    assert response.status_code == 403
    assert response.json()["errors"][0]["status"] == 403


def test_links_expire(container: Container, shop: StoreClient, run_jobs: Any) -> None:
    promotion = shop.create_promotion()
    href = export_href(shop, promotion["id"], run_jobs)
    assert download(shop, href).status_code == 200
    real_clock = container.clock
    container.clock = lambda: real_clock() + timedelta(seconds=3601)
    try:
        assert download(shop, href).status_code == 403
    finally:
        container.clock = real_clock


def test_export_after_codes_change_is_a_new_snapshot(shop: StoreClient, run_jobs: Any) -> None:
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], "FIRST")
    first = download(shop, export_href(shop, promotion["id"], run_jobs)).content.decode()
    shop.add_codes(promotion["id"], "SECOND")
    second = download(shop, export_href(shop, promotion["id"], run_jobs)).content.decode()
    assert "SECOND" not in first
    assert "FIRST" in second and "SECOND" in second


def test_cancelled_export_leaves_no_file(container: Container, shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    job = shop.create_job(promotion["id"], "code_export").json()["data"]
    shop.post(f"/v2/promotions/{promotion['id']}/jobs/{job['id']}/cancel")
    Worker(container.db, container.settings).run_until_empty()
    assert shop.job(promotion["id"], job["id"])["status"] == "cancelled"
    response = shop.get(f"/v2/promotions/{promotion['id']}/jobs/{job['id']}/file")
    assert response.status_code == 422
    assert response.json()["errors"][0]["detail"] == "Job has no file to download. Job status: cancelled"


def test_formula_like_cells_are_neutralised(shop: StoreClient, run_jobs: Any) -> None:
    # OWASP "CSV Injection": a cell starting with =, +, -, @, tab or CR gets a leading ' and is quoted.
    promotion = shop.create_promotion()
    formulas = ["=1+1", "+1", "-1", "@SUM(A1)", '=HYPERLINK("http://x.test/?a,b","y")']
    added = shop.add_codes(
        promotion["id"],
        *formulas,
        "\t=TRIMMED",
        "SAFE-1",
        'safe,with "quote"',
        {"code": "FOR-ANNA", "user": "=cmd|' /C calc'!A0"},
        {"code": "FOR-TAB", "user": "\t=1"},
        {"code": "FOR-CR", "user": "\r=1"},
        {"code": "FOR-LIST", "user": ["=a", "b"]},
    )
    assert added.status_code == 201, added.text
    # Control characters are refused inside a code, and trimmed from its ends (so a tab never leads).
    assert shop.add_codes(promotion["id"], "A\tB").status_code == 400
    response = download(shop, export_href(shop, promotion["id"], run_jobs))
    text = response.content.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    by_code = {row[0]: row for row in rows[1:]}
    for formula in formulas:
        assert by_code["'" + formula][0] == "'" + formula
        assert formula not in by_code
    assert "'=TRIMMED" in by_code
    assert by_code["SAFE-1"][0] == "SAFE-1"
    assert by_code['safe,with "quote"'][0] == 'safe,with "quote"'
    assert by_code["FOR-ANNA"][4] == "'=cmd|' /C calc'!A0"
    assert by_code["FOR-TAB"][4] == "'\t=1"
    assert by_code["FOR-CR"][4] == "'\r=1"
    assert by_code["FOR-LIST"][4] == '["=a", "b"]'
    # Every neutralised cell is quoted in the file itself, not only read back as text.
    assert '\r\n"\'=1+1",' in text
    assert '\r\n"\'-1",' in text
    assert "\r\nSAFE-1," in text


def test_times_and_authors_match_the_codes_list_however_many_a_chunk_holds(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    """A chunk's most common times and jobs are handed to the database as text, the rest computed there:
    both ways give what the codes list shows."""
    container.settings.export_chunk_rows = 1000
    promotion = shop.create_promotion()
    for round_number in range(10):
        assert shop.add_codes(promotion["id"], f"HAND-{round_number}").status_code == 201
        shop.create_job(promotion["id"], number_of_codes=3)
        assert run_jobs() == 1
    rows = list(csv.reader(io.StringIO(download(shop, export_href(shop, promotion["id"], run_jobs)).text)))
    listed = {c["code"]: c for c in shop.list_codes(promotion["id"], **{"page[limit]": 100})}
    assert len(rows) == 1 + len(listed) == 41
    times = set()
    for code, _, _, _, _, created_by, created_at in rows[1:]:
        shown = datetime.fromisoformat(listed[code]["meta"]["timestamps"]["created_at"])
        assert created_at == f"{shown:%Y-%m-%dT%H:%M:%S}.{shown.microsecond // 1000:03d}Z"
        assert created_by == listed[code]["created_by"] == shop.client_id
        times.add(created_at)
    assert len(times) > 8


@pytest.mark.parametrize(
    ("prefix", "cell_start"),
    [("plain", "plain-"), ("=sum", "'=sum-"), ('a,"b', 'a,"b-'), ("Up,Case", "Up,Case-")],
)
def test_generated_codes_are_quoted_by_their_prefix(
    container: Container, shop: StoreClient, run_jobs: Any, prefix: str, cell_start: str
) -> None:
    """Generated codes of a job whose sampled code needs no quoting are written as stored; any prefix
    that needs quoting or neutralising gets it on every code of the job."""
    container.settings.export_chunk_rows = 50
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], "hand,made")
    shop.create_job(promotion["id"], number_of_codes=120, code_prefix=prefix)
    assert run_jobs() == 1
    content = download(shop, export_href(shop, promotion["id"], run_jobs)).content.decode()
    rows = list(csv.reader(io.StringIO(content, newline="")))[1:]
    generated = [row[0] for row in rows if row[0] != "hand,made"]
    assert len(generated) == 120 and len(rows) == 121
    assert all(cell.startswith(cell_start) for cell in generated), generated[:3]
    quoted = '"' in prefix or "," in prefix or prefix.startswith("=")
    raw_lines = content.split("\r\n")[1:]
    assert sum(line.startswith('"') for line in raw_lines) == (121 if quoted else 1)
