"""What a benchmark module provides to the runner."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: its options, the parameters it records, one backend run, and its table."""

    name: str
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    check_arguments: Callable[[argparse.ArgumentParser, argparse.Namespace], None]
    parameters: Callable[[argparse.Namespace], dict[str, Any]]
    # (backend, options, bin directory, PostgreSQL server URL or None) -> that backend's results
    run_backend: Callable[[str, argparse.Namespace, Path, str | None], dict[str, Any]]
    render: Callable[[dict[str, Any]], str]
