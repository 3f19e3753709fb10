"""Pure, synchronous ledger domain: accounts, posting rules, invariants and the hash chain. No I/O."""
