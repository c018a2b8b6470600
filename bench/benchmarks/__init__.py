"""One module per benchmark; each exposes `BENCHMARK`."""
