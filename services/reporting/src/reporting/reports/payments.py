"""Payment reports: payment run reconciliation and payments after a budget's end or a person's death.

They read the payments and allocation events (the dimensions) and ask the journal what the ledger did
with each payment: posted (an entry cites it) or refused (a rejection names it).
"""
from __future__ import annotations

from .contract import Column, ReportQuery, ReportSpec, ReportTable
from .sql import A, I, P, events, fetch

POSTED = "EXISTS (SELECT 1 FROM rp_entries e WHERE e.council_id = $1 AND e.cause_event_id = {ev}.event_id)"
RUNS_SQL = f"""
WITH created AS (SELECT DISTINCT ON (data->>'run_id') data FROM {events([P + 'PaymentRunCreated.v1'])} c
                 ORDER BY data->>'run_id', recorded_at),
approved AS (SELECT DISTINCT ON (data->>'run_id') data FROM {events([P + 'PaymentRunApproved.v1'])} a
             ORDER BY data->>'run_id', recorded_at),
files AS (SELECT DISTINCT ON (data->>'run_id') data FROM {events([P + 'PaymentFileGenerated.v1'])} f
          ORDER BY data->>'run_id', recorded_at DESC),
instructed AS (SELECT ev.event_id, ev.data FROM {events([P + 'PaymentInstructed.v1'])} ev
               WHERE ev.data->>'run_id' IS NOT NULL AND {POSTED.format(ev='ev')}),
settled AS (SELECT ev.data->>'payment_id' AS payment_id, sum((ev.data->>'amount_pence')::bigint) AS amount
              FROM {events([P + 'PaymentSettled.v1'])} ev WHERE {POSTED.format(ev='ev')} GROUP BY 1),
returned AS (SELECT ev.data->>'payment_id' AS payment_id, sum((ev.data->>'amount_pence')::bigint) AS amount
               FROM {events([P + 'PaymentReturned.v1'])} ev WHERE {POSTED.format(ev='ev')} GROUP BY 1),
per_run AS (SELECT i.data->>'run_id' AS run_id, count(*) AS payments,
                   sum((i.data->>'amount_pence')::bigint) AS instructed,
                   sum(coalesce(s.amount, 0)) AS settled, sum(coalesce(r.amount, 0)) AS returned
              FROM instructed i LEFT JOIN settled s ON s.payment_id = i.data->>'payment_id'
              LEFT JOIN returned r ON r.payment_id = i.data->>'payment_id' GROUP BY 1)
SELECT coalesce(c.data->>'run_id', pr.run_id) AS run_id, c.data->>'created_by' AS created_by,
       a.data->>'approved_by' AS approved_by, f.data->>'file_name' AS file_name, f.data->>'sha256' AS file_sha256,
       (c.data->>'payment_count')::int AS run_count, (c.data->>'total_pence')::bigint AS run_total,
       (f.data->>'total_pence')::bigint AS file_total, coalesce(pr.payments, 0) AS payments,
       coalesce(pr.instructed, 0) AS instructed, coalesce(pr.settled, 0) AS settled,
       coalesce(pr.returned, 0) AS returned
  FROM created c FULL JOIN per_run pr ON pr.run_id = c.data->>'run_id'
  LEFT JOIN approved a ON a.data->>'run_id' = coalesce(c.data->>'run_id', pr.run_id)
  LEFT JOIN files f ON f.data->>'run_id' = coalesce(c.data->>'run_id', pr.run_id)
 ORDER BY 1"""


def run_status(r) -> str:
    problems = []
    if r["run_total"] is None:
        problems.append("no run record")
    elif r["run_total"] != r["instructed"] or r["run_count"] != r["payments"]:
        problems.append("run total differs from its posted payments")
    if r["file_total"] is not None and r["run_total"] is not None and r["file_total"] != r["run_total"]:
        problems.append("file total differs from the run")
    if r["file_name"] is None:
        problems.append("no bank file")
    if r["approved_by"] is None:
        problems.append("not approved")
    elif r["approved_by"] == r["created_by"]:
        problems.append("approved by its creator")
    if problems:
        return "MISMATCH: " + "; ".join(problems)
    unreconciled = r["instructed"] - r["settled"] - r["returned"]
    return "reconciled" if unreconciled == 0 else "awaiting settlement"


async def payment_run_reconciliation(conn, query: ReportQuery) -> ReportTable:
    rows = await fetch(conn, RUNS_SQL, query)
    out = tuple((r["run_id"], r["created_by"], r["approved_by"], r["file_name"], r["file_sha256"], r["payments"],
                 r["run_total"], r["file_total"], r["instructed"], r["settled"], r["returned"],
                 r["instructed"] - r["settled"] - r["returned"], run_status(r)) for r in rows)
    return ReportTable("payment_run_reconciliation", "Payment run reconciliation", query, (
        Column("run_id", "Run", "text"), Column("created_by", "Created by", "text"),
        Column("approved_by", "Approved by", "text"), Column("file_name", "Bank file", "text"),
        Column("file_sha256", "File SHA-256", "text"), Column("payments", "Payments posted", "int"),
        Column("run_total_pence", "Run total", "pence"), Column("file_total_pence", "File total", "pence"),
        Column("instructed_pence", "Instructed (posted)", "pence"), Column("settled_pence", "Settled", "pence"),
        Column("returned_pence", "Returned", "pence"), Column("unreconciled_pence", "Unreconciled", "pence"),
        Column("status", "Status", "text")), out,
        ("Unreconciled = instructed - settled - returned; only payments the ledger posted count.",))


AFTER_SQL = f"""
WITH agreed AS (SELECT DISTINCT ON (data->>'budget_id') data->>'budget_id' AS budget_id,
                       (data->>'end_date')::date AS end_date
                  FROM {events([A + 'PersonalBudgetAgreed.v1'], dated=False)} x ORDER BY data->>'budget_id', recorded_at),
ended AS (SELECT data->>'budget_id' AS budget_id, min((data->>'end_date')::date) AS end_date
            FROM {events([A + 'PersonalBudgetEnded.v1'])} x GROUP BY 1),
died AS (SELECT data->>'budget_id' AS budget_id, min((data->>'date_of_death')::date) AS died_on
           FROM {events([A + 'PersonDied.v1'])} x GROUP BY 1),
order_end AS (SELECT data->>'order_id' AS order_id, min((data->>'end_date')::date) AS end_date
                FROM {events([A + 'ServiceOrderEnded.v1'])} x GROUP BY 1),
payments AS (
    SELECT ev.event_id, ev.data->>'payment_id' AS ref, ev.data->>'kind' AS kind, ev.data->>'budget_id' AS budget_id,
           NULL::text AS order_id, (ev.data->>'due_date')::date AS for_date, (ev.data->>'amount_pence')::bigint AS amount
      FROM {events([P + 'PaymentInstructed.v1'])} ev WHERE ev.data->>'budget_id' IS NOT NULL
    UNION ALL
    SELECT ev.event_id, ev.data->>'payment_id', 'one_off', ev.data->>'budget_id', NULL, ev.effective_date,
           (ev.data->>'amount_pence')::bigint
      FROM {events([P + 'OneOffPaymentMade.v1'])} ev
    UNION ALL
    SELECT ev.event_id, (ev.data->>'invoice_id') || '/' || (line->>'line_no'), 'invoice line', line->>'budget_id',
           line->>'order_id', (line->>'period_end')::date, (line->>'units')::bigint * (line->>'rate_pence')::bigint
      FROM {events([I + 'InvoiceApproved.v1'])} ev CROSS JOIN LATERAL jsonb_array_elements(ev.data->'lines') AS line),
closures AS (
    SELECT p.*, c.closed_by, c.closed_on
      FROM payments p
      LEFT JOIN agreed ag USING (budget_id) LEFT JOIN ended en USING (budget_id) LEFT JOIN died d USING (budget_id)
      LEFT JOIN order_end oe USING (order_id)
      CROSS JOIN LATERAL (VALUES ('death', d.died_on), ('budget ended', en.end_date),
                                 ('budget period end', ag.end_date), ('order ended', oe.end_date)) AS c(closed_by, closed_on)
     WHERE c.closed_on IS NOT NULL AND p.for_date > c.closed_on),
-- one pass over the journal for all of them (a per-row EXISTS would scan it once per payment)
posted AS (SELECT DISTINCT e.cause_event_id FROM rp_entries e
            WHERE e.council_id = $1 AND e.cause_event_id IN (SELECT event_id FROM closures)),
refused AS (SELECT r.cause_event_id, min(r.reason_code) AS reason_code FROM rp_rejections r
             WHERE r.council_id = $1 AND r.cause_event_id IN (SELECT event_id FROM closures) GROUP BY 1)
SELECT DISTINCT ON (c.event_id, c.ref) c.event_id, c.ref, c.kind, c.budget_id, c.order_id, c.for_date, c.closed_by,
       c.closed_on, c.amount,
       CASE WHEN p.cause_event_id IS NOT NULL THEN 'posted' WHEN f.reason_code IS NOT NULL
            THEN 'refused: ' || f.reason_code ELSE 'not seen by the ledger' END AS outcome
  FROM closures c LEFT JOIN posted p ON p.cause_event_id = c.event_id
  LEFT JOIN refused f ON f.cause_event_id = c.event_id
 ORDER BY c.event_id, c.ref, c.closed_on"""


async def payments_after_end_or_death(conn, query: ReportQuery) -> ReportTable:
    rows = await fetch(conn, AFTER_SQL, query)
    out = tuple((r["ref"], r["kind"], r["budget_id"], r["order_id"], r["for_date"], r["closed_by"], r["closed_on"],
                 r["amount"], r["outcome"]) for r in sorted(rows, key=lambda r: (r["budget_id"] or "", r["ref"])))
    posted = sum(1 for r in out if r[-1] == "posted")
    return ReportTable("payments_after_end_or_death", "Payments after end or death", query, (
        Column("payment_ref", "Payment or invoice line", "text"), Column("kind", "Kind", "text"),
        Column("budget_id", "Budget", "text"), Column("order_id", "Service order", "text"),
        Column("for_date", "Due / period end", "date"), Column("closed_by", "Closed by", "text"),
        Column("closed_on", "Closed on", "date"), Column("amount_pence", "Amount", "pence"),
        Column("ledger_outcome", "Ledger outcome", "text")), out,
        (f"{len(out)} payment(s) fall after the earliest closure of their budget or order; "
         f"{posted} of them were posted by the ledger (should be 0).",))


SPECS = (
    ReportSpec("payment_run_reconciliation", "Payment run reconciliation", "Per payment run: creator and approver, "
               "bank file and its hash, instructed, settled, returned and unreconciled.", payment_run_reconciliation),
    ReportSpec("payments_after_end_or_death", "Payments after end or death", "Payments and invoice lines dated "
               "after a death, a budget's end or an order's end, and what the ledger did with each.",
               payments_after_end_or_death),
)
