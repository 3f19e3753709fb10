"""Who provides the care: spend by provider type against the external-provision target, with a trend over
periods, and an ASC-FR style analysis (own provision versus provision by others) by service type."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from ..domain.periods import financial_year_start, period_label
from .contract import Column, ReportQuery, ReportSpec, ReportTable
from .sql import A, DIRECT_PAYMENT, EXTERNAL_TYPES, I, P, PROVIDERS, cash_moves, events, fetch, lines, ratio

APPROVED, CREDITED = I + "InvoiceApproved.v1", I + "CreditNoteReceived.v1"
SETTLED, RETURNED = P + "PaymentSettled.v1", P + "PaymentReturned.v1"
DEFAULT_TARGET = 0.8

# Spend per day and provider type: provider invoices approved (net of credit notes), by the provider's
# type; direct payments settled to people (net of bank returns) as their own type.
SPEND_BY_DAY = f"""
WITH prov AS {PROVIDERS},
spend AS (
    SELECT l.effective_date, coalesce(p.provider_type, 'unknown') AS provider_type,
           l.credit_pence - l.debit_pence AS amount
      FROM {lines([APPROVED, CREDITED])} l LEFT JOIN prov p ON p.provider_id = l.owner
     WHERE l.kind = 'payable' AND l.effective_date >= $4
    UNION ALL
    SELECT m.effective_date, '{DIRECT_PAYMENT}', m.paid
      FROM {cash_moves([SETTLED, RETURNED])} m
     WHERE m.paid IS NOT NULL AND m.effective_date >= $4
       AND NOT EXISTS (SELECT 1 FROM prov WHERE prov.provider_id = m.owner))
SELECT effective_date, provider_type, sum(amount)::bigint AS amount FROM spend GROUP BY 1, 2"""


def is_external(provider_type: str) -> bool:
    return provider_type in EXTERNAL_TYPES or provider_type == DIRECT_PAYMENT


def _target(query: ReportQuery) -> float:
    return float(query.params.get("target", DEFAULT_TARGET))


def _from(query: ReportQuery) -> date:
    raw = query.params.get("from")
    return date.fromisoformat(raw) if raw else financial_year_start(query.as_of)


async def provider_type_spend(conn, query: ReportQuery) -> ReportTable:
    period, target = query.params.get("period", "month"), _target(query)
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in await fetch(conn, SPEND_BY_DAY, query, _from(query)):
        totals[period_label(r["effective_date"], period)][r["provider_type"]] += r["amount"]
    out = []
    for label in sorted(totals):
        by_type = totals[label]
        whole = sum(by_type.values())
        external = sum(v for t, v in by_type.items() if is_external(t))
        share = ratio(external, whole)
        for provider_type in sorted(by_type):
            out.append((label, provider_type, "external" if is_external(provider_type) else "in-house",
                        by_type[provider_type], ratio(by_type[provider_type], whole), share, target,
                        "" if share is None else "yes" if share >= target else "no"))
        out.append((label, "ALL", "", whole, ratio(whole, whole), share, target,
                    "" if share is None else "yes" if share >= target else "no"))
    return ReportTable("provider_type_spend", "Spend by provider type", query, (
        Column("period", "Period", "text"), Column("provider_type", "Provider type", "text"),
        Column("provision", "Provision", "text"), Column("spend_pence", "Spend", "pence"),
        Column("share", "Share of the period", "ratio"), Column("external_share", "External share (period)", "ratio"),
        Column("target_share", "Target", "ratio"), Column("meets_target", "Meets target", "text")), tuple(out),
        (f"Spend = provider invoices approved (net of credit notes) + direct payments settled (net of returns), "
         f"from {_from(query).isoformat()} by {period}.",
         "External = every provider type but in_house; direct payments count as external (a DP cannot buy the "
         "council's own services)."))


ASCFR_SQL = f"""
WITH approved AS (
    SELECT ev.event_id, ev.data, CASE WHEN ev.type = '{CREDITED}' THEN -1 ELSE 1 END AS sign
      FROM {events([APPROVED, CREDITED])} ev
     WHERE EXISTS (SELECT 1 FROM rp_entries e WHERE e.council_id = $1 AND e.cause_event_id = ev.event_id)
       AND ev.effective_date >= $4),
orders AS (
    SELECT DISTINCT ON (data->>'order_id') data->>'order_id' AS order_id, data->>'service_type' AS service_type,
           data->>'provider_id' AS provider_id
      FROM {events([A + 'ServiceOrderCommissioned.v1'], dated=False)} o ORDER BY data->>'order_id', recorded_at),
prov AS {PROVIDERS}
SELECT coalesce(o.service_type, 'unknown') AS service_type, coalesce(p.provider_type, 'unknown') AS provider_type,
       sum(a.sign * (line->>'units')::bigint * (line->>'rate_pence')::bigint)::bigint AS amount
  FROM approved a CROSS JOIN LATERAL jsonb_array_elements(a.data->'lines') AS line
  LEFT JOIN orders o ON o.order_id = line->>'order_id'
  LEFT JOIN prov p ON p.provider_id = a.data->>'provider_id'
 GROUP BY 1, 2"""


async def ascfr_analysis(conn, query: ReportQuery) -> ReportTable:
    since = _from(query)
    own: dict[str, int] = defaultdict(int)
    others: dict[str, int] = defaultdict(int)
    for r in await fetch(conn, ASCFR_SQL, query, since):
        (own if r["provider_type"] == "in_house" else others)[r["service_type"]] += r["amount"]
    dp = sum(r["amount"] for r in await fetch(conn, SPEND_BY_DAY, query, since)
             if r["provider_type"] == DIRECT_PAYMENT)
    out = [(st, own[st], others[st], own[st] + others[st], ratio(own[st], own[st] + others[st]))
           for st in sorted(set(own) | set(others))]
    out.append(("direct_payments", 0, dp, dp, ratio(0, dp)))
    total_own, total_others = sum(r[1] for r in out), sum(r[2] for r in out)
    out.append(("TOTAL", total_own, total_others, total_own + total_others,
                ratio(total_own, total_own + total_others)))
    return ReportTable("ascfr_analysis", "ASC-FR style analysis: own provision and provision by others", query, (
        Column("service_type", "Service type", "text"), Column("own_provision_pence", "Own provision", "pence"),
        Column("provision_by_others_pence", "Provision by others", "pence"), Column("total_pence", "Total", "pence"),
        Column("own_share", "Own provision share", "ratio")), tuple(out),
        (f"From {since.isoformat()}: approved provider invoices (net of credit notes) that the ledger posted, by "
         "the service type of their orders; in_house providers are own provision.",
         "Direct payments are provision by others."))


SPECS = (
    ReportSpec("provider_type_spend", "Spend by provider type", "Spend per provider type and period with the "
               "external-provision share against the target (params: period=month|quarter|year, from=DATE, "
               "target=0.8).", provider_type_spend, ("period", "from", "target")),
    ReportSpec("ascfr_analysis", "ASC-FR style analysis", "Own provision versus provision by others, by service "
               "type (params: from=DATE).", ascfr_analysis, ("from",)),
)
