-- One outcome per event id, enforced by the database (docs/architecture.md, "Idempotency").
--
-- An event id's first content has one row (posted, noted or rejected); each different content later sent
-- under the same id has one DUPLICATE_CONFLICT row. The primary key (event_id, content_hash) allowed that,
-- but it also allowed a second first-seen row for the same id under another content hash: only the
-- worker's look-up of every batch's event ids kept it out. This index refuses it: a first-seen row's key is
-- (event_id, ''), a conflict row's (event_id, its content hash). So the worker may decide a batch without
-- that look-up: an id it has not seen in this process either is new, or the batch fails on this index
-- and is decided again with the look-up (ledger.service.ingest, "optimistic").
--
-- Its leading column is event_id, so the look-up by event id (this code's and the code before it, which
-- still runs while `helm upgrade` applies this) probes it as it probed the primary key. One index entry
-- per row as before, with an empty string where the key held a 64-character hash.
CREATE UNIQUE INDEX processed_events_one_outcome ON processed_events
    (event_id, (CASE WHEN reason_code = 'DUPLICATE_CONFLICT' THEN content_hash::text ELSE '' END));
ALTER TABLE processed_events DROP CONSTRAINT IF EXISTS processed_events_pkey;
-- Two partial indexes did this job in commits 41bca2c..d17517e (never released): gone where they were made.
DROP INDEX IF EXISTS processed_events_first_seen;
DROP INDEX IF EXISTS processed_events_conflicts;
