-- The allocation service's own state: budgets with their service orders, providers, every command's
-- outcome (idempotency), and each council's policy. Every row belongs to one council; ids are unique
-- per council, so the council is part of every key.

-- A personal budget (aggregate). `data` is the whole state (allocation.adapters.state_codec); the
-- other columns repeat what operators and auditors query by.
CREATE TABLE budgets (
    council_id      text        NOT NULL,
    budget_id       text        NOT NULL,
    person_ref      text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('indicative', 'agreed', 'ended', 'deceased')),
    amount_pence    bigint      NOT NULL CHECK (amount_pence >= 0),
    committed_pence bigint      NOT NULL CHECK (committed_pence >= 0),
    version         int         NOT NULL CHECK (version >= 1),
    data            jsonb       NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, budget_id)
);
CREATE INDEX budgets_person ON budgets (council_id, person_ref);

-- A budget's service orders. The primary key makes an order id unique in its council: two workers
-- racing to commission one id on two budgets cannot both commit.
CREATE TABLE service_orders (
    council_id       text        NOT NULL,
    order_id         text        NOT NULL,
    budget_id        text        NOT NULL,
    provider_id      text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('active', 'ended')),
    commitment_pence bigint      NOT NULL CHECK (commitment_pence >= 0),
    data             jsonb       NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, order_id),
    FOREIGN KEY (council_id, budget_id) REFERENCES budgets (council_id, budget_id)
);
CREATE INDEX service_orders_budget ON service_orders (council_id, budget_id);
CREATE INDEX service_orders_provider ON service_orders (council_id, provider_id);

CREATE TABLE providers (
    council_id    text        NOT NULL,
    provider_id   text        NOT NULL,
    provider_type text        NOT NULL,
    name          text        NOT NULL,
    version       int         NOT NULL CHECK (version >= 1),
    data          jsonb       NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (council_id, provider_id)
);

-- Every command consumed and what became of it. A command id's first content is its original
-- (conflict = false, at most one per id); each different content later sent under the same id is a
-- conflict row. Resends of either find their row and emit nothing new.
CREATE TABLE processed_commands (
    command_id       text        NOT NULL,
    content_hash     char(64)    NOT NULL,
    conflict         boolean     NOT NULL,
    council_id       text        NOT NULL,
    command_type     text        NOT NULL,
    outcome          text        NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    reason_code      text,
    event_ids        text[]      NOT NULL,
    source_topic     text        NOT NULL,
    source_partition int         NOT NULL,
    source_offset    bigint      NOT NULL,
    processed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (command_id, content_hash),
    CHECK ((outcome = 'rejected') = (reason_code IS NOT NULL))
);
CREATE UNIQUE INDEX processed_commands_original ON processed_commands (command_id) WHERE NOT conflict;
CREATE INDEX processed_commands_council ON processed_commands (council_id, processed_at);

-- Per-council settings (allocation.domain.policy.CouncilPolicy); a council without a row gets the
-- defaults. Written with `python -m allocation policy`, which validates before it stores.
CREATE TABLE council_policies (
    council_id text        PRIMARY KEY,
    settings   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    updated_at timestamptz NOT NULL DEFAULT now()
);
