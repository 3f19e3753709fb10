"""Reports read straight off the journal's lines: trial balance, budget statement per person, DP balances."""
from __future__ import annotations

from .contract import Column, ReportQuery, ReportSpec, ReportTable
from .sql import A, P, cash_moves, entries, events, fetch, lines

NORMAL_SIDE = {"funding": "debit", "recoverable": "debit", "budget": "credit", "committed": "credit",
               "pending": "credit", "payable": "credit", "bank": "credit", "recovered": "credit"}
"""The ledger's chart of accounts (docs/posting-rules.md), by kind: the side a balance normally sits on."""

SETTLED, RETURNED = P + "PaymentSettled.v1", P + "PaymentReturned.v1"


async def trial_balance(conn, query: ReportQuery) -> ReportTable:
    by_account = query.params.get("level") == "account"
    kind = "split_part(a, '/', 2)"
    group = "a" if by_account else f"CASE WHEN {kind} = 'funding' THEN 'funding/' || split_part(a, '/', 4) ELSE {kind} END"
    # One pass over the entries' line arrays, nothing computed that the grouping does not need.
    rows = await fetch(conn, f"""
        SELECT {group} AS account_group, min({kind}) AS kind, sum(d)::bigint AS debit_pence,
               sum(c)::bigint AS credit_pence
          FROM {entries()} e, unnest(e.accounts, e.debits, e.credits) AS u(a, d, c) GROUP BY 1 ORDER BY 1""", query)
    out = []
    for r in rows:
        balance = r["debit_pence"] - r["credit_pence"]
        out.append((r["account_group"], NORMAL_SIDE.get(r["kind"], "?"), r["debit_pence"], r["credit_pence"], balance))
    debit, credit = sum(r[2] for r in out), sum(r[3] for r in out)
    out.append(("TOTAL", "", debit, credit, debit - credit))
    notes = ("Debits equal credits." if debit == credit else f"OUT OF BALANCE by {debit - credit} pence.",
             "Balance = debits - credits; credit-normal accounts show a negative balance.")
    return ReportTable("trial_balance", "Trial balance", query, (
        Column("account_group", "Account group" if not by_account else "Account", "text"),
        Column("normal_side", "Normal side", "text"),
        Column("debit_pence", "Debits", "pence"), Column("credit_pence", "Credits", "pence"),
        Column("balance_pence", "Balance", "pence")), tuple(out), notes)


async def budget_statement(conn, query: ReportQuery) -> ReportTable:
    only = query.params.get("budget_id")
    rows = await fetch(conn, f"""
        WITH l AS {lines()},
        per_budget AS (
            SELECT owner AS budget_id,
                   sum(amount_pence) FILTER (WHERE kind = 'funding') AS agreed,
                   sum(amount_pence) FILTER (WHERE kind = 'funding' AND sub = 'contribution') AS contribution,
                   -sum(amount_pence) FILTER (WHERE kind = 'committed') AS committed,
                   -sum(amount_pence) FILTER (WHERE kind = 'budget') AS uncommitted,
                   -sum(amount_pence) FILTER (WHERE kind = 'pending') AS reserved,
                   sum(amount_pence) FILTER (WHERE kind = 'recoverable') AS recoverable
              FROM l WHERE kind IN ('funding', 'committed', 'budget', 'pending', 'recoverable')
               AND ($4::text IS NULL OR owner = $4) GROUP BY owner),
        paid AS (  -- bank movements of the entries that move a budget's own pending account
            SELECT owner AS budget_id, sum(paid) AS paid FROM {cash_moves([SETTLED, RETURNED])} m
             WHERE paid IS NOT NULL AND ($4::text IS NULL OR owner = $4) GROUP BY owner),
        people AS (
            SELECT DISTINCT ON (data->>'budget_id') data->>'budget_id' AS budget_id, data->>'person_ref' AS person_ref
              FROM {events([A + 'PersonalBudgetAgreed.v1'])} ev ORDER BY data->>'budget_id', recorded_at)
        SELECT b.budget_id, coalesce(pp.person_ref, '') AS person_ref, coalesce(b.agreed, 0) AS agreed,
               coalesce(b.contribution, 0) AS contribution, coalesce(b.committed, 0) AS committed,
               coalesce(b.agreed, 0) - coalesce(b.uncommitted, 0) - coalesce(b.committed, 0) AS spent,
               coalesce(pd.paid, 0) AS paid, coalesce(b.reserved, 0) AS reserved,
               coalesce(b.uncommitted, 0) AS balance
          FROM per_budget b LEFT JOIN paid pd USING (budget_id) LEFT JOIN people pp USING (budget_id)
         WHERE b.agreed IS NOT NULL ORDER BY b.budget_id""", query, only)
    out = tuple((r["budget_id"], r["person_ref"], r["agreed"], r["contribution"], r["committed"], r["spent"],
                 r["paid"], r["reserved"], r["balance"]) for r in rows)
    return ReportTable("budget_statement", "Budget statement per person", query, (
        Column("budget_id", "Budget", "text"), Column("person_ref", "Person", "text"),
        Column("agreed_pence", "Agreed (all funding)", "pence"),
        Column("contribution_pence", "Person's contribution", "pence"),
        Column("committed_pence", "Committed", "pence"),
        Column("spent_pence", "Spent (DPs instructed, invoices approved)", "pence"),
        Column("paid_pence", "Paid to the person (DPs settled)", "pence"),
        Column("reserved_pence", "Reserved, awaiting settlement", "pence"),
        Column("balance_pence", "Uncommitted balance", "pence")), out,
        ("Agreed = funding booked by the ledger (council + NHS + pooled + contribution), net of budget ends.",
         "Spent = agreed - committed - uncommitted balance."))


async def dp_balances(conn, query: ReportQuery) -> ReportTable:
    rows = await fetch(conn, f"""
        WITH l AS {lines()},
        schedules AS (
            SELECT data->>'budget_id' AS budget_id, count(*) AS schedules,
                   max((data->>'amount_pence')::bigint) AS amount, min((data->>'frequency_weeks')::int) AS weeks
              FROM {events([P + 'DirectPaymentScheduled.v1'])} s GROUP BY 1),
        paid AS (
            SELECT owner AS budget_id, sum(paid) FILTER (WHERE cause_type = '{SETTLED}') AS settled,
                   -sum(paid) FILTER (WHERE cause_type = '{RETURNED}') AS returned
              FROM {cash_moves([SETTLED, RETURNED])} m WHERE paid IS NOT NULL GROUP BY owner),
        recovery AS (
            SELECT owner AS budget_id, sum(debit_pence) AS raised, sum(credit_pence) AS recovered
              FROM l WHERE kind = 'recoverable' GROUP BY owner),
        weeks AS (
            SELECT DISTINCT ON (data->>'budget_id') data->>'budget_id' AS budget_id,
                   (data->>'weeks_in_credit')::int AS weeks_in_credit
              FROM {events([P + 'SurplusRecoveryRaised.v1'])} r ORDER BY data->>'budget_id', effective_date DESC, recorded_at DESC)
        SELECT s.budget_id, s.schedules, s.amount, s.weeks, coalesce(p.settled, 0) AS settled,
               coalesce(p.returned, 0) AS returned, coalesce(r.raised, 0) AS raised,
               coalesce(r.recovered, 0) AS recovered, w.weeks_in_credit
          FROM schedules s LEFT JOIN paid p USING (budget_id) LEFT JOIN recovery r USING (budget_id)
          LEFT JOIN weeks w USING (budget_id) ORDER BY s.budget_id""", query)
    out = tuple((r["budget_id"], r["schedules"], r["amount"], r["weeks"], r["settled"], r["returned"],
                 r["settled"] - r["returned"], r["weeks_in_credit"], r["raised"], r["recovered"],
                 r["raised"] - r["recovered"]) for r in rows)
    return ReportTable("dp_balances", "Direct payments: paid, surplus and recovery", query, (
        Column("budget_id", "Budget", "text"), Column("schedules", "Schedules", "int"),
        Column("period_amount_pence", "Amount per period", "pence"), Column("frequency_weeks", "Every (weeks)", "int"),
        Column("settled_pence", "Settled", "pence"), Column("returned_pence", "Returned by the bank", "pence"),
        Column("net_paid_pence", "Net paid", "pence"), Column("weeks_in_credit", "Weeks in credit (last raised)", "int"),
        Column("recovery_raised_pence", "Surplus recovery raised", "pence"),
        Column("recovered_pence", "Recovered", "pence"),
        Column("recovery_outstanding_pence", "Recovery outstanding", "pence")), out,
        ("Weeks in credit are as reported by the payments service when it raised a recovery.",))


SPECS = (
    ReportSpec("trial_balance", "Trial balance", "Debits, credits and balance of every account group (params: "
               "level=account for one row per account) as at the date.", trial_balance, ("level",)),
    ReportSpec("budget_statement", "Budget statement per person", "Agreed, contribution, committed, spent, paid "
               "and balance of every personal budget (params: budget_id).", budget_statement, ("budget_id",)),
    ReportSpec("dp_balances", "DP balances and surplus", "Direct payments settled and returned, weeks in credit, "
               "surplus recovery raised and recovered, per budget.", dp_balances),
)
