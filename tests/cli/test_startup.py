"""Start-up: commands import only what they need, and `serve --workers N` comes up on a busy machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from support import clean_environment, free_port, promoforge_command, stop_process

# What the API needs and a command line tool does not; the API processes import it once they answer.
HEAVY_MODULES = ("fastapi", "starlette", "uvicorn", "jwt", "promoforge.api", "promoforge.jobs")
IMPORTED_BY_COMMAND = """
import sys
from promoforge.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
heavy = sorted({name for name in sys.modules if name.startswith(HEAVY)})
print("HEAVY", ",".join(heavy))
"""
# Run by every Python the test starts with it on PYTHONPATH; only processes spawned by multiprocessing
# (uvicorn's API processes) carry this argument, so only they start slowly.
SLOW_START = """
import sys
import time

if "--multiprocessing-fork" in sys.argv:
    time.sleep({seconds})
"""
UVICORN_DEFAULT_PATIENCE_SECONDS = 5


def heavy_modules_after(arguments: list[str], env: dict[str, str], preload: str = "") -> list[str]:
    script = f"{preload}\nHEAVY = {HEAVY_MODULES!r}\n{IMPORTED_BY_COMMAND}"
    result = subprocess.run(
        [sys.executable, "-c", script, *arguments], env=env, capture_output=True, text=True, check=False
    )
    assert "HEAVY" in result.stdout, result.stderr
    line = result.stdout.split("HEAVY", 1)[1].strip()
    return [name for name in line.split(",") if name]


def test_help_migrate_and_store_commands_import_no_part_of_the_api(tmp_path: Path) -> None:
    env = clean_environment(PROMOFORGE_DATA_DIR=str(tmp_path / "var"))
    for arguments in (
        ["--help"],
        ["migrate"],
        ["stores", "create", "--name", "shop"],
        ["stores", "list"],
        ["stores", "update", "--store", "shop", "--name", "renamed"],
        ["keys", "list"],
    ):
        assert heavy_modules_after(arguments, env) == [], arguments
    # The check does see the API where it is loaded.
    assert "fastapi" in heavy_modules_after(["--help"], env, preload="import promoforge.api.app")


@contextmanager
def serving(
    tmp_path: Path, log: Path, *options: str, **env_values: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`promoforge serve` with `options` on a fresh database; yields its base URL and process."""
    env = clean_environment(PROMOFORGE_DATA_DIR=str(tmp_path / "var"), **env_values)
    migrated = subprocess.run([promoforge_command(), "migrate"], env=env, capture_output=True, check=False)
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            [promoforge_command(), "serve", "--port", str(port), *options],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        stop_process(process)


def answers_within(
    base: str, process: subprocess.Popen[bytes], log: Path, seconds: float, path: str
) -> float:
    """Poll `path` until it answers 200; fail if that takes longer than `seconds`. Returns the time taken."""
    started = time.monotonic()
    with httpx.Client(base_url=base, timeout=5) as client:
        while time.monotonic() - started < seconds:
            assert process.poll() is None, log.read_text()
            try:
                if client.get(path).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    pytest.fail(f"no answer on {path} within {seconds} s:\n{log.read_text()}")


@pytest.mark.slow
def test_an_api_process_slower_to_start_than_uvicorns_patience_is_not_replaced(tmp_path: Path) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    delay = UVICORN_DEFAULT_PATIENCE_SECONDS + 3
    (hooks / "sitecustomize.py").write_text(SLOW_START.format(seconds=delay))
    # With uvicorn's own patience the slow processes are killed before they can answer, again and again.
    impatient = tmp_path / "impatient.log"
    with serving(
        tmp_path,
        impatient,
        "--workers",
        "2",
        "--healthcheck-timeout",
        str(UVICORN_DEFAULT_PATIENCE_SECONDS),
        PYTHONPATH=str(hooks),
    ):
        deadline = time.monotonic() + 60
        while " died" not in impatient.read_text():
            assert time.monotonic() < deadline, impatient.read_text()
            time.sleep(0.2)
    # With the default patience they finish starting and serve.
    patient = tmp_path / "patient.log"
    with serving(tmp_path, patient, "--workers", "2", PYTHONPATH=str(hooks)) as (base, process):
        took = answers_within(base, process, patient, 60, "/health/ready")
        assert took >= delay
    assert " died" not in patient.read_text(), patient.read_text()


@pytest.mark.slow
def test_two_api_processes_answer_within_a_minute_on_a_saturated_machine(tmp_path: Path) -> None:
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2 * (os.cpu_count() or 2))
    ]
    try:
        log = tmp_path / "serve.log"
        with serving(tmp_path, log, "--workers", "2") as (base, process):
            took = answers_within(base, process, log, 60, "/health/ready")
            print(f"serve --workers 2 answered after {took:.1f} s with {len(spinners)} busy processes")
        assert " died" not in log.read_text(), log.read_text()
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
