-- The payments service's own state. Every row belongs to one council; the council is part of every key.

-- Read model of allocation.events.v1 (payments.service.readmodel keeps it; idempotent upserts).
CREATE TABLE budgets (
    council_id                text   NOT NULL,
    budget_id                 text   NOT NULL,
    person_ref                text   NOT NULL,
    start_date                date   NOT NULL,
    end_date                  date   NOT NULL,
    ended_on                  date,
    died_on                   date,
    contribution_weekly_pence bigint NOT NULL DEFAULT 0 CHECK (contribution_weekly_pence >= 0),
    contribution_mode         text,
    dp_account_ref            text,   -- the DP route's holder (vault token of the payee's account)
    dp_route_pence            bigint, -- yearly amount allocated to the direct-payment route, if any
    PRIMARY KEY (council_id, budget_id)
);

CREATE TABLE providers (
    council_id    text NOT NULL,
    provider_id   text NOT NULL,
    provider_type text NOT NULL,
    name          text NOT NULL,
    account_ref   text,              -- vault token; bank details never travel
    PRIMARY KEY (council_id, provider_id)
);

CREATE TABLE service_orders (
    council_id             text   NOT NULL,
    order_id               text   NOT NULL,
    budget_id              text   NOT NULL,
    provider_id            text   NOT NULL,
    rate_pence             bigint NOT NULL CHECK (rate_pence > 0),
    planned_units_per_week int    NOT NULL CHECK (planned_units_per_week > 0),
    start_date             date   NOT NULL,
    end_date               date   NOT NULL,
    PRIMARY KEY (council_id, order_id)
);
CREATE INDEX service_orders_provider ON service_orders (council_id, provider_id);

-- Direct-payment schedules. next_period is the first period not made due yet; it moves in the same
-- transaction as the due payments it produced (a restart neither skips nor repeats a period).
CREATE TABLE schedules (
    council_id        text   NOT NULL,
    schedule_id       text   NOT NULL,
    budget_id         text   NOT NULL,
    amount_pence      bigint NOT NULL CHECK (amount_pence > 0),
    frequency_weeks   int    NOT NULL CHECK (frequency_weeks BETWEEN 1 AND 52),
    first_due_date    date   NOT NULL,
    end_date          date   NOT NULL,
    contribution_mode text   NOT NULL,
    status            text   NOT NULL CHECK (status IN ('active', 'suspended', 'finished')),
    next_period       int    NOT NULL DEFAULT 0 CHECK (next_period >= 0),
    PRIMARY KEY (council_id, schedule_id)
);
CREATE INDEX schedules_budget ON schedules (council_id, budget_id);
CREATE INDEX schedules_active ON schedules (council_id) WHERE status = 'active';

-- Every payment: due (waiting for a run), instructed (reserved in the ledger, in a run), settled,
-- returned, cancelled (never paid: after an end or a death, or suspended) or offset (recovered in full).
CREATE TABLE payments (
    council_id    text   NOT NULL,
    payment_id    text   NOT NULL,
    kind          text   NOT NULL CHECK (kind IN ('direct_payment', 'one_off', 'invoice')),
    budget_id     text,
    provider_id   text,
    invoice_id    text,
    schedule_id   text,
    period        int,
    due_pence     bigint NOT NULL CHECK (due_pence > 0),
    paid_pence    bigint CHECK (paid_pence > 0),  -- what was instructed, after offsets
    due_date      date   NOT NULL,
    status        text   NOT NULL CHECK (status IN ('due', 'instructed', 'settled', 'returned', 'cancelled', 'offset')),
    status_reason text,
    run_id        text,
    end_to_end_id text   NOT NULL,
    PRIMARY KEY (council_id, payment_id),
    UNIQUE (council_id, schedule_id, period),
    UNIQUE (end_to_end_id)
);
CREATE INDEX payments_due ON payments (council_id, due_date) WHERE status = 'due';
CREATE INDEX payments_run ON payments (council_id, run_id);

CREATE TABLE invoices (
    council_id     text   NOT NULL,
    invoice_id     text   NOT NULL,
    provider_id    text   NOT NULL,
    invoice_number text   NOT NULL,
    invoice_date   date   NOT NULL,
    total_pence    bigint NOT NULL CHECK (total_pence > 0),
    credited_pence bigint NOT NULL DEFAULT 0 CHECK (credited_pence >= 0),
    status         text   NOT NULL CHECK (status IN ('matched', 'held', 'approved', 'rejected', 'paid')),
    hold_reason    text,
    lines          jsonb  NOT NULL,
    PRIMARY KEY (council_id, invoice_id),
    UNIQUE (council_id, provider_id, invoice_number)
);
CREATE INDEX invoices_provider ON invoices (council_id, provider_id);

-- Units invoiced per order and period (not rejected invoices): what "over plan" is measured against.
CREATE TABLE invoice_lines (
    council_id   text NOT NULL,
    invoice_id   text NOT NULL,
    line_no      int  NOT NULL,
    order_id     text NOT NULL,
    period_start date NOT NULL,
    period_end   date NOT NULL,
    units        int  NOT NULL,
    PRIMARY KEY (council_id, invoice_id, line_no)
);
CREATE INDEX invoice_lines_order ON invoice_lines (council_id, order_id);

CREATE TABLE credit_notes (
    council_id     text   NOT NULL,
    credit_note_id text   NOT NULL,
    provider_id    text   NOT NULL,
    invoice_id     text   NOT NULL,
    total_pence    bigint NOT NULL,
    PRIMARY KEY (council_id, credit_note_id)
);

-- What a provider owes back (credit notes on invoices already paid): clawed back from its next payments.
CREATE TABLE provider_credits (
    council_id   text   NOT NULL,
    provider_id  text   NOT NULL,
    credit_pence bigint NOT NULL CHECK (credit_pence >= 0),
    PRIMARY KEY (council_id, provider_id)
);

CREATE TABLE runs (
    council_id    text        NOT NULL,
    run_id        text        NOT NULL,
    created_by    text        NOT NULL,
    approved_by   text,
    due_on        date        NOT NULL,
    payment_count int         NOT NULL,
    total_pence   bigint      NOT NULL,
    recorded_at   timestamptz NOT NULL,   -- the command's recorded time (files are reproducible)
    -- A large run is made in parts (payments.service.runs): which part comes next, under which command id.
    status           text     NOT NULL DEFAULT 'created' CHECK (status IN ('creating', 'created')),
    parts            int      NOT NULL DEFAULT 1 CHECK (parts >= 1),
    next_part        int      NOT NULL DEFAULT 0,
    next_command_id  text,
    first_command_id text,
    PRIMARY KEY (council_id, run_id)
);

CREATE TABLE run_files (
    council_id  text   NOT NULL,
    run_id      text   NOT NULL,
    file_format text   NOT NULL,
    file_name   text   NOT NULL,
    sha256      text   NOT NULL,
    PRIMARY KEY (council_id, run_id, file_format)
);

CREATE TABLE recoveries (
    council_id        text   NOT NULL,
    recovery_id       text   NOT NULL,
    budget_id         text   NOT NULL,
    method            text   NOT NULL CHECK (method IN ('offset', 'invoice')),
    amount_pence      bigint NOT NULL CHECK (amount_pence > 0),
    outstanding_pence bigint NOT NULL CHECK (outstanding_pence >= 0),
    PRIMARY KEY (council_id, recovery_id)
);
CREATE INDEX recoveries_open ON recoveries (council_id, budget_id) WHERE outstanding_pence > 0;

-- Every consumed message (allocation event or payments command) and what became of it. A command id's
-- first content is its original; a different content later under the same id is a conflict row.
CREATE TABLE processed_messages (
    message_id   text        NOT NULL,
    content_hash char(64)    NOT NULL,
    conflict     boolean     NOT NULL DEFAULT false,
    council_id   text        NOT NULL,
    message_type text        NOT NULL,
    outcome      text        NOT NULL,
    reason_code  text,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, content_hash)
);
CREATE UNIQUE INDEX processed_messages_original ON processed_messages (message_id) WHERE NOT conflict;

-- Per-council settings (payments.domain.policy.PaymentsPolicy); no row = the defaults.
CREATE TABLE council_policies (
    council_id text        PRIMARY KEY,
    settings   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The due-date timer's progress per council (for operators; correctness rests on schedules.next_period).
CREATE TABLE timer_ticks (
    council_id  text        PRIMARY KEY,
    business_on date        NOT NULL,
    made_due    bigint      NOT NULL DEFAULT 0,
    ticked_at   timestamptz NOT NULL DEFAULT now()
);
