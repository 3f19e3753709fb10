-- Checkpoints: every so often the worker records the head (seq, hash) of every shard's chain, in the same
-- transaction as a batch, as one more link of a chain of its own. `ledger verify` checks the checkpoint
-- chain and that every head a checkpoint recorded is still in the journal with that hash: cutting the
-- tail off a shard and moving its head back (which the shard's own chain cannot show) breaks a checkpoint.
-- A checkpoint's hash is what an operator can hand to an auditor or publish: it pins every shard at once.
-- Canonical text: "<shard>,<seq>,<hash>" joined by ";" in byte order of the shard name (COLLATE "C", as
-- Python sorts), and hash = sha256("<prev_hash>|<text>"), like the entries' chain (ledger.domain.chain).

CREATE TABLE ledger_checkpoints (
    checkpoint_seq bigint PRIMARY KEY CHECK (checkpoint_seq >= 1),
    taken_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    shards         text[] NOT NULL,
    shard_seqs     bigint[] NOT NULL,
    hashes         text[] NOT NULL,
    prev_hash      char(64) NOT NULL,
    hash           char(64) NOT NULL
);

CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_checkpoints_no_truncate BEFORE TRUNCATE ON ledger_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
