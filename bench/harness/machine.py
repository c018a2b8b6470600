"""Facts about the machine, the software and the commit a run measures."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]
import psycopg

import promoforge

ROOT = Path(__file__).resolve().parent.parent.parent


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo."""
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def filesystem_of(path: Path) -> str:
    """Return the type of the file system holding `path` (from /proc/mounts)."""
    best, fstype = "", "unknown"
    resolved = str(path.resolve())
    with suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) < 3:
                continue
            mount = parts[1]
            inside = resolved == mount or resolved.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) > len(best):
                best, fstype = mount, parts[2]
    return fstype


def git_state() -> dict[str, Any]:
    """Return the commit the project is at and whether the tree has changes."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    changed = [line[3:] for line in status.splitlines() if line[3:].startswith(("src/", "pyproject"))]
    return {"commit": commit, "dirty": bool(status.strip()), "modified_source_files": changed}


def machine_info() -> dict[str, Any]:
    """Describe the machine and software the run happens on."""
    memory = psutil.virtual_memory()
    temp_dir = Path(tempfile.gettempdir())
    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "usable_cores": len(os.sched_getaffinity(0)),
        "ram_bytes": memory.total,
        "ram_gib": round(memory.total / 1024**3, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "psycopg": psycopg.__version__,
        "libpq": psycopg.pq.version(),
        "httpx": httpx.__version__,
        "promoforge": promoforge.__version__,
        "temp_dir": str(temp_dir),
        "temp_dir_filesystem": filesystem_of(temp_dir),
    }
