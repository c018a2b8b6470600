"""Run the benchmarks: `.venv/bin/python bench/run_bench.py` (the same as `python -m bench`).

See bench/README.md for what each benchmark measures and how to read the results.
"""

import sys
from pathlib import Path

# Run as a script, Python puts bench/ on the path, not the repository root that holds the `bench` package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.runner import entry

if __name__ == "__main__":
    entry()
