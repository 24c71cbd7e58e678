"""asv benchmarks of numba_act; see asv_benches/README-section.md."""
