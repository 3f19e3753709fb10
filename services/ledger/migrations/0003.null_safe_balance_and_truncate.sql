-- A CHECK that evaluates to NULL passes, so the balance check must say false, not NULL, for any NULL
-- account or amount. And the processed-event log (idempotency, "every event accounted for") may not be
-- truncated, like the journal.

CREATE OR REPLACE FUNCTION ledger_lines_balanced(accounts text[], debits bigint[], credits bigint[])
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(
           cardinality(accounts) >= 2
       AND cardinality(accounts) = cardinality(debits)
       AND cardinality(accounts) = cardinality(credits)
       AND array_position(accounts, NULL) IS NULL
       AND (SELECT bool_and(d IS NOT NULL AND c IS NOT NULL AND (d > 0) <> (c > 0) AND d >= 0 AND c >= 0)
                   AND sum(d) = sum(c)
              FROM unnest(debits, credits) AS l(d, c)),
         false)
$$;

CREATE TRIGGER processed_events_no_truncate BEFORE TRUNCATE ON processed_events
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
