-- Plumbing every consuming service has: consumed offsets and the transactional outbox.
-- Applied by each service's own yoyo migration (`steps = [step(PLUMBING_SQL)]`), so that a service's
-- state, its outbox rows and its offsets live in one database and commit in one transaction.

-- The source of truth for "how far has this group got": Kafka's committed offsets are written
-- afterwards for lag dashboards only.
CREATE TABLE IF NOT EXISTS consumer_offsets (
    group_id    text        NOT NULL,
    topic       text        NOT NULL,
    partition   int         NOT NULL,
    next_offset bigint      NOT NULL CHECK (next_offset >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);

-- Rows wait here until the relay has published them, then are deleted (see careruntime.relay for why
-- deleting, not a read position, keeps this safe with concurrent writers).
-- value is nullable because a tombstone (null value) is a legitimate Kafka record.
CREATE TABLE IF NOT EXISTS outbox (
    id         bigserial   PRIMARY KEY,
    topic      text        NOT NULL,
    key        bytea,
    value      bytea,
    headers    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
) WITH (
    -- Insert/delete churn: vacuum early so the relay's ORDER BY id scan does not wade through dead rows.
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 1000,
    autovacuum_vacuum_insert_scale_factor = 0.01
);

-- Wakes the relay at once instead of waiting for its next poll; one notification per statement
-- (a COPY of thousands of rows is one statement) and PostgreSQL folds duplicates per transaction.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE TRIGGER outbox_notify
    AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
