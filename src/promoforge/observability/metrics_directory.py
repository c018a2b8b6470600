"""Where the processes of one host keep their metric values (prometheus-client's multi-process mode).

Standard library only: the directory must be chosen before prometheus-client is first imported.
"""

from __future__ import annotations

import os
from pathlib import Path

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def use_metrics_directory(data_dir: Path) -> Path:
    """Point this process and its children at the shared directory: PROMETHEUS_MULTIPROC_DIR when set, else
    `metrics` in the data directory; create it."""
    configured = os.environ.get(MULTIPROCESS_VARIABLE)
    directory = Path(configured) if configured else (data_dir / "metrics").resolve()
    directory.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROCESS_VARIABLE] = str(directory)
    return directory


def remove_files_of_stopped_processes(directory: Path) -> int:
    """Delete the value files of processes no longer running (and any left under this process's id by an
    earlier one); return how many. Files of live processes, a worker started before `serve`, stay."""
    removed = 0
    for path in directory.glob("*.db"):
        pid_text = path.stem.rsplit("_", 1)[-1]
        if pid_text.isdigit() and _is_running(int(pid_text)) and int(pid_text) != os.getpid():
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
