-- Every batch updates the balance of each account it moves (~1.5 per event). An update can stay on the
-- row's page without touching the three indexes of `accounts` (a HOT update) only when the page has room:
-- at the default fill factor 14% of them could not. With pages filled to 70% at first, the balances
-- upsert took 6.75 instead of 7.9 µs of PostgreSQL time per event (docs/performance.md, "Sixth pass").
-- It applies to pages written from now on; a database migrated with older pages gets it fully after
-- `VACUUM FULL accounts` (an exclusive lock: at a quiet time, optional).
ALTER TABLE accounts SET (fillfactor = 70);
