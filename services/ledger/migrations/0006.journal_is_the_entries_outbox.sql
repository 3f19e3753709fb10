-- The journal is the outbox of ledger.entries.v1. Until now every posted entry was also written a second
-- time, as a ~1.3 KB outbox row holding its whole message (more WAL than the journal row itself), and
-- deleted again once relayed. The relay now reads the entries from the journal and builds their messages
-- (ledger.adapters.entries_relay); rejections, which are not in the journal, still go through the outbox.
--
-- What the message needs beyond the entry is its cause's envelope subject and correlation id: two
-- columns, written with the entry. They are NULL only in rows written before this migration, whose
-- messages went through the outbox; the cursor below starts past them.
--
-- Why a cursor per shard is gap-free: a shard is written by one worker at a time (it owns the input
-- partition, and its offsets are fenced), shard_seq is contiguous, and shard_heads moves in the same
-- transaction as the entries. Every entry up to a shard's visible head is therefore visible, and the relay
-- never steps past one that commits later (the gap that a global sequence would have).

ALTER TABLE journal_entries ADD COLUMN cause_subject text, ADD COLUMN correlation_id text;

CREATE TABLE entries_relayed (
    shard     text PRIMARY KEY,
    shard_seq bigint NOT NULL CHECK (shard_seq >= 0)
);
INSERT INTO entries_relayed (shard, shard_seq) SELECT shard, shard_seq FROM shard_heads;

-- Wake the relay once per statement that adds entries (COPY fires statement triggers).
CREATE FUNCTION ledger_notify_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ledger_entries', '');
  RETURN NULL;
END $$;
CREATE TRIGGER journal_entries_notify AFTER INSERT ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_notify_entries();

-- How many committed entries the relay has not published yet, per shard (operators, tests, the demo).
CREATE VIEW entries_unrelayed AS
SELECT h.shard, h.shard_seq - coalesce(r.shard_seq, 0) AS entries
  FROM shard_heads h LEFT JOIN entries_relayed r ON r.shard = h.shard
 WHERE h.shard_seq > coalesce(r.shard_seq, 0);
