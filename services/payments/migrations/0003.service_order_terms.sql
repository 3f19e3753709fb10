-- Service order terms over time (payments.domain.orders): the rate and planned units per week in force
-- from each pivot day, so an invoice for weeks before a variation or a cut-back is matched against the
-- terms of those weeks, not the order's current ones. One row per allocation event that set terms
-- (ServiceOrderCommissioned / Varied / Ended): a redelivered event finds its row and changes nothing.
-- On a day, the row with the latest effective_from on or before it is in force; rows with the same
-- effective_from: the one applied last (seq) wins.
CREATE TABLE service_order_terms (
    council_id             text   NOT NULL,
    order_id               text   NOT NULL,
    event_id               text   NOT NULL,   -- the allocation event's id
    effective_from         date   NOT NULL,
    rate_pence             bigint NOT NULL CHECK (rate_pence > 0),
    planned_units_per_week int    NOT NULL CHECK (planned_units_per_week > 0),
    seq                    bigint GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (council_id, order_id, event_id)
);
CREATE INDEX service_order_terms_order ON service_order_terms (council_id, order_id, effective_from, seq);

-- Orders read before this migration: their history was not kept, so their current terms apply from
-- their start (what matching assumed until now).
INSERT INTO service_order_terms (council_id, order_id, event_id, effective_from, rate_pence, planned_units_per_week)
SELECT council_id, order_id, 'before-0003', start_date, rate_pence, planned_units_per_week FROM service_orders;
