-- Projections of the ledger and the domain topics, for the audit reports. Every fact row carries its
-- effective date (business time) and its recorded time (when the fact was recorded at its producer), so
-- a report can be "as at an effective date" and "as known at a recorded time" (bitemporal).
-- Rows are only ever inserted; a consumer that sees an id again inserts nothing (idempotent).

-- Journal entries, one row per balanced entry, lines as parallel arrays (the journal's own shape, so a
-- rebuild from the journal is one COPY). recorded_at is the cause event's recorded time, as the ISO 8601
-- text the ledger hashed into its chain (kept as text: casting millions of rows during a rebuild costs more
-- than casting the rows of an "as known at" report).
CREATE TABLE rp_entries (
    entry_id          text        NOT NULL,
    council_id        text        NOT NULL,
    shard             text        NOT NULL,
    shard_seq         bigint      NOT NULL,
    effective_date    date        NOT NULL,
    recorded_at       text        NOT NULL,
    cause_event_id    text        NOT NULL,
    cause_type        text        NOT NULL,
    rule_version      text        NOT NULL,
    reverses_entry_id text,
    accounts          text[]      NOT NULL,
    debits            bigint[]    NOT NULL,
    credits           bigint[]    NOT NULL,
    prev_hash         text        NOT NULL,
    hash              text        NOT NULL
);
-- An entry's place in its shard's hash chain identifies it (and is a much smaller key than its id).
CREATE UNIQUE INDEX rp_entries_position ON rp_entries (shard, shard_seq);
-- No (council_id, effective_date) index: a report reads most of a council's entries, which lie scattered
-- through the table in journal order, so it scans either way, and the index costs a rebuild as much as the
-- one above. At national scale the answer is partitioning rp_entries by council, not another index.

-- Postings the ledger refused (ledger.PostingRejected.v1). rejection_id is the event's id, which the
-- ledger derives from the cause (R + sha256(event id | content hash)), so both rebuilds agree on it.
CREATE TABLE rp_rejections (
    rejection_id   text        PRIMARY KEY,
    council_id     text        NOT NULL,
    cause_event_id text        NOT NULL,
    cause_type     text        NOT NULL,
    shard          text        NOT NULL,
    reason_code    text        NOT NULL,
    detail         text        NOT NULL,
    effective_date date        NOT NULL,
    recorded_at    timestamptz NOT NULL
);
CREATE INDEX rp_rejections_council ON rp_rejections (council_id, effective_date);

-- Every domain event consumed from allocation.events.v1 and payments.events.v1 (the dimensions:
-- providers, budgets, orders, deaths, ends, schedules, payments, runs, files, invoices, recoveries).
-- Keyed by (event id, content hash): a resend with different content is kept as what it is, and the
-- typed views below take the first version of each id (by topic position).
CREATE TABLE rp_domain_events (
    event_id       text        NOT NULL,
    content_hash   text        NOT NULL,
    council_id     text        NOT NULL,
    type           text        NOT NULL,
    subject        text        NOT NULL,
    effective_date date        NOT NULL,
    recorded_at    timestamptz NOT NULL,
    topic          text        NOT NULL,
    partition      int         NOT NULL,
    "offset"       bigint      NOT NULL,
    data           jsonb       NOT NULL,
    PRIMARY KEY (event_id, content_hash)
);
CREATE INDEX rp_domain_events_council_type ON rp_domain_events (council_id, type);

-- The ledger's own account of every consumed event (its processed_events: posted, noted or rejected),
-- copied read-only from the ledger database by `reporting sync-ledger`/`rebuild --from journal`; a
-- noted event leaves no message on ledger.entries, so only the ledger can say it was seen.
CREATE TABLE rp_outcomes (
    event_id     text NOT NULL,
    content_hash text NOT NULL,
    council_id   text NOT NULL,
    event_type   text NOT NULL,
    shard        text NOT NULL,
    outcome      text NOT NULL,
    entry_id     text,
    reason_code  text,
    detail       text,
    PRIMARY KEY (event_id, content_hash)
);

-- Results of `python -m ledger verify` (hash chains, balances), run through its CLI.
CREATE TABLE rp_chain_checks (
    checked_at timestamptz NOT NULL DEFAULT now(),
    ok         boolean     NOT NULL,
    entries    bigint,
    shards     bigint,
    output     text        NOT NULL
);

-- Rebuild checkpoints: how far a rebuild from the journal (or the topics) got, so it can resume.
CREATE TABLE rp_rebuilds (
    source      text        PRIMARY KEY,   -- 'journal' or 'topics'
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    target      bigint      NOT NULL,      -- journal: max seq at start; topics: total records at start
    done_upto   bigint      NOT NULL DEFAULT 0,  -- journal: last seq copied; topics: records consumed
    detail      jsonb       NOT NULL DEFAULT '{}'::jsonb
);

-- One line per row: account parts split out, signed amount (debit positive). A view, so the entry
-- table stays the one thing a rebuild writes.
CREATE VIEW rp_lines AS
SELECT e.entry_id, e.council_id, e.effective_date, e.recorded_at, e.cause_type, e.cause_event_id,
       e.reverses_entry_id, l.account,
       split_part(l.account, '/', 2) AS kind,
       nullif(split_part(l.account, '/', 3), '') AS owner,
       nullif(split_part(l.account, '/', 4), '') AS sub,
       l.debit_pence, l.credit_pence, l.debit_pence - l.credit_pence AS amount_pence
  FROM rp_entries e, unnest(e.accounts, e.debits, e.credits) AS l(account, debit_pence, credit_pence);
