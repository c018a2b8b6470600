"""Benchmarks of the service against plain DB-API baselines (`make bench`, `python -m bench`)."""
