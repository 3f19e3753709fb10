"""Demo generator, demo runner and benchmarks for the care budget ledger."""
