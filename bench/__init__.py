"""Benchmarks: `python -m bench.<name> --help` (figures and the load they were taken under: docs/measurements.md)."""
