-- Working state is rewritten where it changes (a payment's hold: reserved, then settled or returned), and
-- an update that finds room on its row's page skips the primary key (a HOT update). New pages of
-- `ledger_state` are filled to 70% to leave that room, as 0008 did for `accounts`
-- (docs/performance.md, "Eighth pass"). Pages written before keep their layout.
ALTER TABLE ledger_state SET (fillfactor = 70);
