"""The ledger service: the only writer of the append-only, hash-chained journal."""
