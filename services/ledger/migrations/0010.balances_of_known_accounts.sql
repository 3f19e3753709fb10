-- Adding a batch's movements to the balances of accounts the ledger knows exist: one UPDATE, joined by
-- the primary key row by row, instead of INSERT ... ON CONFLICT DO UPDATE. The upsert first probes for
-- a conflict, then locks the row (a WAL record of its own) and updates it: ~1.2 µs more per account
-- than the plain UPDATE (docs/performance.md, "Eighth pass"). Accounts the ledger has not seen stored
-- yet still go through the upsert (repository._ADD_TO_BALANCES).
--
-- The function refuses to add to an account that does not exist, so a wrong "known" can only fail the
-- batch (which is then retried from the database's state), never lose a movement. Hash and merge joins
-- are off inside it: for a batch of a few hundred accounts they would read the whole table.
CREATE FUNCTION ledger_add_to_balances(p_accounts text[], p_deltas bigint[]) RETURNS void
LANGUAGE plpgsql
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
DECLARE
  updated bigint;
BEGIN
  IF cardinality(p_accounts) IS DISTINCT FROM cardinality(p_deltas) THEN
    RAISE EXCEPTION 'ledger_add_to_balances: % accounts but % amounts', cardinality(p_accounts), cardinality(p_deltas)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  UPDATE accounts a SET balance_pence = a.balance_pence + u.delta
    FROM unnest(p_accounts, p_deltas) AS u(account, delta)
   WHERE a.account = u.account;
  GET DIAGNOSTICS updated = ROW_COUNT;
  IF updated <> coalesce(cardinality(p_accounts), 0) THEN
    RAISE EXCEPTION 'ledger_add_to_balances: % of % accounts exist', updated, coalesce(cardinality(p_accounts), 0)
      USING ERRCODE = 'no_data_found';
  END IF;
END
$$;
