-- The append-only journal. Lines live in the entry row as parallel arrays so that one COPY row carries
-- a whole balanced entry; the `entry_lines` view unnests them for readers. The database itself checks
-- that every entry balances and refuses UPDATE, DELETE and TRUNCATE.

CREATE FUNCTION ledger_lines_balanced(accounts text[], debits bigint[], credits bigint[])
RETURNS boolean LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT cardinality(accounts) >= 2
     AND cardinality(accounts) = cardinality(debits)
     AND cardinality(accounts) = cardinality(credits)
     AND (SELECT bool_and((d > 0) <> (c > 0) AND d >= 0 AND c >= 0) AND sum(d) = sum(c)
            FROM unnest(debits, credits) AS l(d, c))
$$;

CREATE TABLE journal_entries (
    seq               bigserial PRIMARY KEY,
    entry_id          text NOT NULL UNIQUE,
    shard             text NOT NULL,
    shard_seq         bigint NOT NULL CHECK (shard_seq >= 1),
    council_id        text NOT NULL,
    effective_date    date NOT NULL,
    recorded_at       text NOT NULL,
    cause_event_id    text NOT NULL,
    cause_type        text NOT NULL,
    rule_version      text NOT NULL,
    reverses_entry_id text,
    accounts          text[] NOT NULL,
    debits            bigint[] NOT NULL,
    credits           bigint[] NOT NULL,
    prev_hash         char(64) NOT NULL,
    hash              char(64) NOT NULL,
    committed_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (shard, shard_seq),
    CONSTRAINT entry_balances CHECK (ledger_lines_balanced(accounts, debits, credits))
);
CREATE INDEX journal_entries_council_date ON journal_entries (council_id, effective_date);
CREATE INDEX journal_entries_cause ON journal_entries (cause_event_id);

CREATE VIEW entry_lines AS
SELECT e.seq, e.entry_id, e.council_id, e.effective_date, e.recorded_at, l.line_no::int AS line_no,
       l.account, l.debit_pence, l.credit_pence
  FROM journal_entries e,
       unnest(e.accounts, e.debits, e.credits) WITH ORDINALITY AS l(account, debit_pence, credit_pence, line_no);

CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the journal is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- Current balance of every account, kept in the same transaction as the entries that move it.
CREATE TABLE accounts (
    account       text PRIMARY KEY,
    council_id    text NOT NULL,
    kind          text NOT NULL,
    owner_ref     text,
    balance_pence bigint NOT NULL DEFAULT 0,
    opened_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accounts_owner ON accounts (owner_ref);
CREATE INDEX accounts_council_kind ON accounts (council_id, kind);

-- Head of each shard's hash chain (derivable from the journal; kept so a restart need not scan it).
CREATE TABLE shard_heads (
    shard     text PRIMARY KEY,
    shard_seq bigint NOT NULL,
    hash      char(64) NOT NULL
);

-- Every consumed event and what became of it: posted, noted or rejected. Idempotency and the
-- auditor's "every consumed event is accounted for" both read this table.
CREATE TABLE processed_events (
    event_id         text NOT NULL,
    content_hash     char(64) NOT NULL,
    council_id       text NOT NULL,
    event_type       text NOT NULL,
    shard            text NOT NULL,
    source_offset    bigint NOT NULL,
    outcome          text NOT NULL CHECK (outcome IN ('posted', 'noted', 'rejected')),
    entry_id         text,
    reason_code      text,
    detail           text,
    processed_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (event_id, content_hash)
);
CREATE INDEX processed_events_outcome ON processed_events (council_id, outcome, reason_code);

CREATE TRIGGER processed_events_append_only BEFORE UPDATE OR DELETE ON processed_events
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

-- Working state the posting rules need (budget terms, orders, schedules, payment holds, recoveries,
-- approved invoices). Mutable; everything in it can be rebuilt by replaying the input topics.
CREATE TABLE ledger_state (
    kind       text NOT NULL,
    key        text NOT NULL,
    council_id text NOT NULL,
    data       jsonb NOT NULL,
    PRIMARY KEY (kind, key)
);
