"""Benchmarks run with `make bench` (pytest-benchmark); never part of `make test`.

Timings depend on the machine. Compare runs on one machine with
`make bench PYTEST_ARGS="--benchmark-autosave"` and `pytest-benchmark compare`.
"""
