//! Only the benchmarks in `benches/` matter here; see `BENCHMARKS.md`.
