"""Benchmarks: figures go to bench/RESULTS.md, never asserted as timings in tests."""
