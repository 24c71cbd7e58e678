"""asv benchmarks of numba_act; see docs/benchmarks.md."""
