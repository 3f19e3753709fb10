-- The ledger's database is its write model: every query the services run on it goes through the
-- journal's seq, (shard, shard_seq) or entry_id, and processed_events' (event_id, content_hash). Three
-- indexes served none of them and cost every batch: (council_id, effective_date) and (cause_event_id)
-- on the journal, (council_id, outcome, reason_code) on processed_events. Reading by council, period or
-- cause is the reporting service's job, on its own projections and indexes (rp_entries and the rest),
-- and an auditor going from an event to its entry has processed_events.entry_id, then the journal's
-- unique entry_id. Measured in docs/performance.md ("Sixth pass").

DROP INDEX IF EXISTS journal_entries_council_date;
DROP INDEX IF EXISTS journal_entries_cause;
DROP INDEX IF EXISTS processed_events_outcome;
