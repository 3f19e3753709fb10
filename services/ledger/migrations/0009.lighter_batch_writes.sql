-- Two costs of every batch that bought nothing (measured in docs/performance.md, "Eighth pass").
--
-- 1. The journal's UNIQUE (entry_id) index. An entry's id is always `<shard>:<shard_seq>`
--    (domain.ledger), and (shard, shard_seq) is unique already, so a second unique index on the same
--    fact cost an index insertion per entry (~1.1 µs of PostgreSQL per entry) for nothing. The CHECK
--    below keeps the id tied to that key, so entry ids stay unique; finding an entry by its id goes
--    through (shard, shard_seq), or a scan for whole-journal checks such as `ledger verify`.
ALTER TABLE journal_entries
    ADD CONSTRAINT entry_id_is_shard_and_seq CHECK (entry_id = shard || ':' || shard_seq) NOT VALID;
ALTER TABLE journal_entries VALIDATE CONSTRAINT entry_id_is_shard_and_seq;
ALTER TABLE journal_entries DROP CONSTRAINT IF EXISTS journal_entries_entry_id_key;

-- 2. `ledger_state.data` as jsonb. PostgreSQL never looks inside it: the ledger writes it (state_codec,
--    orjson) and reads it back whole. Building jsonb from the text cost ~3 µs per row written, about
--    half of the state upsert. It is the JSON text now, stored as written.
ALTER TABLE ledger_state ALTER COLUMN data TYPE text USING data::text;
