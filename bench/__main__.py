"""`python -m bench`: run the benchmarks."""

from bench.runner import entry

entry()
