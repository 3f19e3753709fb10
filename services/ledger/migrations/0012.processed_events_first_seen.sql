-- One outcome per event id, enforced by the database (docs/architecture.md, "Idempotency").
--
-- An event id's first content has one row (posted, noted or rejected); each different content later sent
-- under the same id has one DUPLICATE_CONFLICT row. The primary key (event_id, content_hash) allowed that,
-- but it also allowed a second first-seen row for the same id with other content: only the worker's
-- look-up of every batch's event ids kept it out. The first index below refuses it, so the worker may
-- decide a batch without that look-up: an id it has not seen in this process either is new, or the batch
-- fails on this index and is decided again with the look-up (ledger.service.ingest, "optimistic").
-- The second index keeps each conflicting content recorded once. Every row is in exactly one of the two,
-- so together they hold what the primary key held, with one index entry per row as before.
CREATE UNIQUE INDEX processed_events_first_seen ON processed_events (event_id)
    WHERE reason_code IS DISTINCT FROM 'DUPLICATE_CONFLICT';
CREATE UNIQUE INDEX processed_events_conflicts ON processed_events (event_id, content_hash)
    WHERE reason_code = 'DUPLICATE_CONFLICT';
ALTER TABLE processed_events DROP CONSTRAINT processed_events_pkey;
