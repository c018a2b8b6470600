"""The service under test: its CLI and a `promoforge serve` subprocess."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]

from bench.harness.machine import ROOT
from bench.harness.timing import BenchError, log

SERVER_START_SECONDS = 60.0
SERVER_STOP_SECONDS = 30.0


def bin_directory() -> Path:
    """The directory holding the project's `promoforge` script (the venv running this file)."""
    for candidate in (Path(sys.prefix) / "bin", ROOT / ".venv" / "bin"):
        if (candidate / "promoforge").exists():
            return candidate
    raise BenchError("no promoforge script found; run `make install` first")


def free_port() -> int:
    """Ask the OS for a free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_environment(database_url: str, data_dir: Path) -> dict[str, str]:
    """Environment for the CLI and server: default settings, only the database and data directory set."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROMOFORGE_")}
    env.update(
        {
            "PROMOFORGE_DATABASE_URL": database_url,
            "PROMOFORGE_DATA_DIR": str(data_dir),
        }
    )
    return env


def run_cli(bin_dir: Path, env: dict[str, str], *args: str) -> str:
    """Run a promoforge CLI command and return its standard output."""
    command = [str(bin_dir / "promoforge"), *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(f"`{shlex.join(command)}` failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def read_proc_status_kib(pid: int, field_name: str) -> int:
    """Read one kB figure (VmHWM, VmRSS) from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1])
    raise BenchError(f"{field_name} not found for process {pid}")


# API processes of `promoforge serve` under test; the runner sets it from --serve-workers.
SERVE_WORKERS = 1


class Server:
    """A `promoforge serve` subprocess with its in-process job worker (unless `serve_args` has
    `--no-worker`), with `workers` API processes (default `SERVE_WORKERS`)."""

    # A path the server answers once it is up (any status will do).
    probe_path = "/v2/promotions"
    # The directory the process starts in (None: this process's).
    cwd: Path | None = None

    def __init__(
        self,
        bin_dir: Path,
        env: dict[str, str],
        log_path: Path,
        *,
        serve_args: Sequence[str] = (),
        workers: int | None = None,
    ) -> None:
        self.bin_dir = bin_dir
        self.env = env
        self.log_path = log_path
        self.serve_args = list(serve_args)
        self.workers = SERVE_WORKERS if workers is None else workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server's process id."""
        if self.process is None:
            raise BenchError("server not started")
        return self.process.pid

    def command(self) -> list[str]:
        """The command line that starts the server."""
        command = [str(self.bin_dir / "promoforge"), "serve", "--port", str(self.port)]
        return [*command, "--workers", str(self.workers), *self.serve_args]

    def start(self) -> None:
        """Start the server and wait until it answers HTTP."""
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                self.command(),
                env=self.env,
                cwd=self.cwd,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + SERVER_START_SECONDS
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise BenchError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
                try:
                    client.get(self.probe_path)
                except httpx.TransportError:
                    time.sleep(0.1)
                    continue
                return
        raise BenchError(f"server did not answer within {SERVER_START_SECONDS:.0f} s:\n{self.log_tail()}")

    def memory(self) -> dict[str, float]:
        """Peak and current resident memory of the server process (kB as /proc gives it, and MiB)."""
        peak_kib = read_proc_status_kib(self.pid, "VmHWM")
        rss_kib = read_proc_status_kib(self.pid, "VmRSS")
        return {
            "peak_kib": peak_kib,
            "peak_mib": round(peak_kib / 1024, 1),
            "rss_mib": round(rss_kib / 1024, 1),
        }

    def describe(self) -> dict[str, Any]:
        """The process's command line and children (there should be none: the jobs run in this process)."""
        process = psutil.Process(self.pid)
        children = process.children(recursive=True)
        return {
            "pid": self.pid,
            "cmdline": process.cmdline(),
            "threads": process.num_threads(),
            "children": [{"pid": c.pid, "cmdline": c.cmdline()} for c in children],
        }

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server log."""
        with suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        """Stop the server gracefully, or kill it if it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(SERVER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            log(f"server {self.process.pid} did not stop within {SERVER_STOP_SECONDS:.0f} s; killing it")
            self.process.kill()
            self.process.wait()


class FloorServer(Server):
    """The bare FastAPI app of `bench.harness.floor_app`, served by uvicorn in a process of its own from the
    same venv, as `promoforge serve --workers 1` serves the API."""

    probe_path = "/"
    cwd = ROOT

    def __init__(
        self, bin_dir: Path, env: dict[str, str], log_path: Path, *, access_log: bool = False
    ) -> None:
        super().__init__(bin_dir, env, log_path, workers=1)
        self.access_log = access_log

    def command(self) -> list[str]:
        """`python -m bench.harness.floor_app --port N` with the venv's interpreter."""
        command = [str(self.bin_dir / "python"), "-m", "bench.harness.floor_app", "--port", str(self.port)]
        return [*command, "--access-log"] if self.access_log else command


class WorkerProcess:
    """A `promoforge worker` subprocess: the job worker and the integration deliveries of its own process."""

    ready_line = "worker running"

    def __init__(self, bin_dir: Path, env: dict[str, str], log_path: Path) -> None:
        self.bin_dir = bin_dir
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.ready_at = 0.0

    @property
    def pid(self) -> int:
        """The worker's process id."""
        if self.process is None:
            raise BenchError("worker not started")
        return self.process.pid

    def command(self) -> list[str]:
        """The command line that starts the worker."""
        return [str(self.bin_dir / "promoforge"), "worker"]

    def start(self) -> None:
        """Start the worker and wait until it says it runs (its claim loops start right after)."""
        # The log is appended to by every worker of the run: look for the line after what is there already.
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log_file:
            self.started_at = time.monotonic()
            self.process = subprocess.Popen(
                self.command(),
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"worker exited with {self.process.returncode}:\n{self.log_tail()}")
            with self.log_path.open("rb") as log_file:
                log_file.seek(offset)
                if self.ready_line.encode() in log_file.read():
                    self.ready_at = time.monotonic()
                    return
            time.sleep(0.02)
        raise BenchError(f"worker did not start within {SERVER_START_SECONDS:.0f} s:\n{self.log_tail()}")

    def describe(self) -> dict[str, Any]:
        """The process's command line and threads."""
        process = psutil.Process(self.pid)
        return {"pid": self.pid, "cmdline": process.cmdline(), "threads": process.num_threads()}

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the worker's log."""
        with suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def kill(self) -> None:
        """SIGKILL: the worker dies at once, whatever it was doing (leases it held run out later)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        """Stop the worker gracefully (attempts in flight finish), or kill it if it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(SERVER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            log(f"worker {self.process.pid} did not stop within {SERVER_STOP_SECONDS:.0f} s; killing it")
            self.process.kill()
            self.process.wait()
