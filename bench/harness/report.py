"""The human-readable table on stdout and the JSON results file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def fmt_seconds(value: float) -> str:
    """Seconds with millisecond precision."""
    return f"{value:.3f} s"


def pass_fail(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def project_text(project: dict[str, Any]) -> str:
    """The commit measured, and any source files that differed from it."""
    commit = (project.get("commit") or "unknown")[:12]
    changed = project.get("modified_source_files") or []
    return f"{commit} + uncommitted changes in {', '.join(changed)}" if changed else commit


def header_lines(report: dict[str, Any], title: str) -> list[str]:
    """Title, machine, commit and command above a table."""
    machine = report["machine"]
    pg = report["backends"].get("postgresql", {}).get("database")
    return [
        title,
        f"machine: {machine['cpu_model']}, {machine['logical_cores']} logical cores, "
        f"{machine['ram_gib']} GiB RAM, Python {machine['python']}, SQLite {machine['sqlite']}"
        + (f", PostgreSQL {pg['server_version']}" if pg else ""),
        f"code: {project_text(report['project'])}",
        f"command: {report['command']}",
        "",
    ]


def render_columns(columns: list[str], rows: list[list[str]]) -> list[str]:
    """Aligned table lines; rows shorter than `columns` are free text after their first two cells."""
    widths = [len(c) for c in columns]
    for row in rows:
        limit = len(row) if len(row) == len(columns) else 2
        for index in range(limit):
            widths[index] = max(widths[index], len(row[index]))

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()

    return [line(columns), "  ".join("-" * w for w in widths), *(line(row) for row in rows)]


def not_run_row(name: str, outcome: dict[str, Any]) -> list[str]:
    """The row of a backend that was skipped or failed."""
    return [name, "not run", str(outcome.get("error", outcome.get("status", "?")))]


def write_report(path: Path, report: dict[str, Any]) -> None:
    """Write the JSON results file, creating its directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
