"""Invoice reports: planned versus delivered versus paid per service order, and duplicate-invoice candidates."""
from __future__ import annotations

from .contract import Column, ReportQuery, ReportSpec, ReportTable
from .payments import POSTED
from .sql import A, I, P, PROVIDERS, events, fetch

ORDERS_SQL = f"""
WITH commissioned AS (
    SELECT DISTINCT ON (data->>'order_id') data->>'order_id' AS order_id, data
      FROM {events([A + 'ServiceOrderCommissioned.v1'])} x WHERE {POSTED.format(ev='x')}
     ORDER BY data->>'order_id', recorded_at),
varied AS (  -- the latest terms as at the date
    SELECT DISTINCT ON (data->>'order_id') data->>'order_id' AS order_id, data
      FROM {events([A + 'ServiceOrderVaried.v1'])} x WHERE {POSTED.format(ev='x')}
     ORDER BY data->>'order_id', effective_date DESC, recorded_at DESC),
ended AS (
    SELECT data->>'order_id' AS order_id, min((data->>'end_date')::date) AS end_date
      FROM {events([A + 'ServiceOrderEnded.v1'])} x WHERE {POSTED.format(ev='x')} GROUP BY 1),
lines AS (
    SELECT line->>'order_id' AS order_id, ev.event_id, ev.data->>'invoice_id' AS invoice_id,
           CASE WHEN ev.type = '{I}CreditNoteReceived.v1' THEN -1 ELSE 1 END * (line->>'units')::bigint AS units,
           CASE WHEN ev.type = '{I}CreditNoteReceived.v1' THEN -1 ELSE 1 END
             * (line->>'units')::bigint * (line->>'rate_pence')::bigint AS cost
      FROM {events([I + 'InvoiceApproved.v1', I + 'CreditNoteReceived.v1'])} ev
     CROSS JOIN LATERAL jsonb_array_elements(ev.data->'lines') AS line
     WHERE {POSTED.format(ev='ev')}),
paid_invoices AS (  -- invoices whose payment the bank settled and did not return
    SELECT DISTINCT i.data->>'invoice_id' AS invoice_id
      FROM {events([P + 'PaymentInstructed.v1'])} i
      JOIN {events([P + 'PaymentSettled.v1'])} s ON s.data->>'payment_id' = i.data->>'payment_id'
     WHERE i.data->>'invoice_id' IS NOT NULL AND {POSTED.format(ev='s')}
       AND NOT EXISTS (SELECT 1 FROM {events([P + 'PaymentReturned.v1'])} r
                        WHERE r.data->>'payment_id' = i.data->>'payment_id' AND {POSTED.format(ev='r')})),
delivered AS (
    SELECT l.order_id, sum(l.units) AS units, sum(l.cost) AS cost,
           sum(l.cost) FILTER (WHERE EXISTS (SELECT 1 FROM paid_invoices p WHERE p.invoice_id = l.invoice_id)) AS paid
      FROM lines l GROUP BY 1),
prov AS {PROVIDERS}
SELECT c.order_id, c.data->>'budget_id' AS budget_id, c.data->>'provider_id' AS provider_id,
       coalesce(p.provider_type, 'unknown') AS provider_type, c.data->>'service_type' AS service_type,
       c.data->>'unit' AS unit, coalesce(v.data, c.data) AS terms, (c.data->>'start_date')::date AS start_date,
       least((coalesce(v.data, c.data)->>'end_date')::date, e.end_date) AS end_date,
       coalesce(d.units, 0) AS delivered_units, coalesce(d.cost, 0) AS delivered, coalesce(d.paid, 0) AS paid
  FROM commissioned c LEFT JOIN varied v USING (order_id) LEFT JOIN ended e USING (order_id)
  LEFT JOIN delivered d USING (order_id) LEFT JOIN prov p ON p.provider_id = c.data->>'provider_id'
 ORDER BY c.order_id"""


def planned_units(units_per_week: int, start, end, as_of) -> int:
    """Planned units from the start to the end or the report date, whichever is first (whole days / 7)."""
    last = min(end, as_of)
    days = (last - start).days + 1
    return 0 if days <= 0 else units_per_week * days // 7


async def planned_delivered_paid(conn, query: ReportQuery) -> ReportTable:
    import orjson

    out = []
    for r in await fetch(conn, ORDERS_SQL, query):
        terms = orjson.loads(r["terms"]) if isinstance(r["terms"], str) else r["terms"]
        rate, per_week = int(terms["rate_pence"]), int(terms["planned_units_per_week"])
        units = planned_units(per_week, r["start_date"], r["end_date"], query.as_of)
        out.append((r["order_id"], r["budget_id"], r["provider_id"], r["provider_type"], r["service_type"], r["unit"],
                    rate, units, units * rate, r["delivered_units"], r["delivered"], r["paid"],
                    units * rate - r["delivered"]))
    return ReportTable("planned_delivered_paid", "Planned vs delivered vs paid per service order", query, (
        Column("order_id", "Service order", "text"), Column("budget_id", "Budget", "text"),
        Column("provider_id", "Provider", "text"), Column("provider_type", "Provider type", "text"),
        Column("service_type", "Service", "text"), Column("unit", "Unit", "text"),
        Column("rate_pence", "Rate (current)", "pence"), Column("planned_units", "Planned units", "int"),
        Column("planned_pence", "Planned", "pence"), Column("delivered_units", "Delivered units", "int"),
        Column("delivered_pence", "Delivered (approved invoices)", "pence"),
        Column("paid_pence", "Paid (settled invoice payments)", "pence"),
        Column("variance_pence", "Planned - delivered", "pence")), tuple(out),
        ("Planned = units per week x days in service to the date / 7, at the order's current terms.",
         "Delivered = approved invoice lines net of credit notes, as posted by the ledger."))


DUPLICATES_SQL = f"""
WITH inv AS (
    SELECT ev.event_id, ev.data->>'invoice_id' AS invoice_id, ev.data->>'provider_id' AS provider_id,
           ev.data->>'invoice_number' AS invoice_number, ev.effective_date,
           (SELECT sum((l->>'units')::bigint * (l->>'rate_pence')::bigint) FROM jsonb_array_elements(ev.data->'lines') l) AS total,
           (SELECT string_agg(concat_ws(':', l->>'order_id', l->>'period_start', l->>'period_end', l->>'units',
                                        l->>'rate_pence'), ',' ORDER BY l->>'order_id', l->>'period_start', l->>'units')
              FROM jsonb_array_elements(ev.data->'lines') l) AS signature
      FROM {events([I + 'InvoiceReceived.v1'])} ev)
SELECT a.provider_id, a.invoice_id, a.invoice_number, a.total, b.invoice_id AS other_id,
       b.invoice_number AS other_number,
       CASE WHEN a.invoice_id = b.invoice_id THEN 'same invoice id sent again'
            WHEN a.invoice_number = b.invoice_number THEN 'same invoice number'
            ELSE 'same lines (orders, periods, units, rates)' END AS reason
  FROM inv a JOIN inv b ON b.provider_id = a.provider_id AND a.event_id < b.event_id
   AND (a.invoice_id = b.invoice_id OR a.invoice_number = b.invoice_number OR a.signature = b.signature)
UNION ALL
SELECT ev.data->>'provider_id', ev.data->>'invoice_id', NULL, NULL, NULL, NULL, 'ledger refused: ' || r.reason_code
  FROM rp_rejections r JOIN {events([I + 'InvoiceApproved.v1'])} ev ON ev.event_id = r.cause_event_id
 WHERE r.council_id = $1 AND r.reason_code = 'DUPLICATE_INVOICE'
UNION ALL
SELECT ev.data->>'provider_id', ev.data->>'invoice_id', NULL, NULL, NULL, NULL, 'held: ' || (ev.data->>'reason_code')
  FROM {events([I + 'InvoiceHeld.v1'])} ev WHERE ev.data->>'reason_code' = 'SUSPECTED_DUPLICATE'
ORDER BY 1, 2, 5 NULLS FIRST"""


async def duplicate_invoices(conn, query: ReportQuery) -> ReportTable:
    rows = await fetch(conn, DUPLICATES_SQL, query)
    out = tuple((r["provider_id"], r["invoice_id"], r["invoice_number"], r["total"], r["other_id"],
                 r["other_number"], r["reason"]) for r in rows)
    return ReportTable("duplicate_invoices", "Duplicate-invoice candidates", query, (
        Column("provider_id", "Provider", "text"), Column("invoice_id", "Invoice", "text"),
        Column("invoice_number", "Invoice number", "text"), Column("total_pence", "Total", "pence"),
        Column("other_invoice_id", "Possible duplicate of", "text"),
        Column("other_invoice_number", "Its number", "text"), Column("reason", "Why", "text")), out,
        ("Pairs of received invoices of one provider with the same id, number or lines; approvals the ledger "
         "refused as duplicates; invoices held as suspected duplicates.",))


SPECS = (
    ReportSpec("planned_delivered_paid", "Planned vs delivered vs paid", "Per service order: planned units and "
               "cost to the date, delivered (approved invoices) and paid (settled).", planned_delivered_paid),
    ReportSpec("duplicate_invoices", "Duplicate-invoice candidates", "Invoices that look like another invoice "
               "of the same provider, and duplicates the ledger refused.", duplicate_invoices),
)
