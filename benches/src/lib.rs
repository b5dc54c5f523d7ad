//! Shared helpers for the benchmarks (corpus loading).
