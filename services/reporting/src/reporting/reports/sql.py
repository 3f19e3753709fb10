"""SQL building blocks shared by the reports: the bitemporal filter and scoped views of the projections.

Every report query takes the same three parameters, in this order: $1 council id, $2 the effective date
"as at", $3 the recorded time "as known at" (NULL = everything known now). Each block below filters
on the council first, so no council ever sees another's rows.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import asyncpg

from .contract import ReportQuery

A = "allocation."
P = "payments."
I = "invoices."

KNOWN = "($3::timestamptz IS NULL OR {a}.recorded_at <= $3)"
KNOWN_TEXT = "($3::timestamptz IS NULL OR {a}.recorded_at::timestamptz <= $3)"  # rp_entries keeps the ledger's text


def bitemporal(alias: str, text_time: bool = False) -> str:
    """Rows of council $1, effective on or before $2, recorded by $3 (text_time: recorded_at is ISO text)."""
    known = (KNOWN_TEXT if text_time else KNOWN).format(a=alias)
    return f"{alias}.council_id = $1 AND {alias}.effective_date <= $2 AND {known}"


def known(alias: str) -> str:
    """Rows of council $1 recorded by $3, whatever their effective date (attributes such as a provider's type)."""
    return f"{alias}.council_id = $1 AND {KNOWN.format(a=alias)}"


def entries(cause_types: Iterable[str] | None = None) -> str:
    """The journal entries in scope, optionally only those caused by some event types."""
    where = bitemporal("e", text_time=True)
    if cause_types is not None:
        where += " AND e.cause_type IN (" + ", ".join(f"'{t}'" for t in cause_types) + ")"
    return f"(SELECT e.* FROM rp_entries e WHERE {where})"


def lines(cause_types: Iterable[str] | None = None) -> str:
    """One row per journal line in scope: kind, owner and sub split out of the account id."""
    return f"""(SELECT e.entry_id, e.effective_date, e.recorded_at, e.cause_type, e.cause_event_id, l.account,
        split_part(l.account, '/', 2) AS kind, nullif(split_part(l.account, '/', 3), '') AS owner,
        nullif(split_part(l.account, '/', 4), '') AS sub, l.debit_pence, l.credit_pence,
        l.debit_pence - l.credit_pence AS amount_pence
      FROM {entries(cause_types)} e, unnest(e.accounts, e.debits, e.credits) AS l(account, debit_pence, credit_pence))"""


def events(types: Iterable[str] | None, dated: bool = True) -> str:
    """The first version of each domain event of these types (None: every type) in scope; `dated=False`
    ignores the effective date (attributes that hold whenever they were recorded)."""
    where = bitemporal("d") if dated else known("d")
    if types is not None:
        where += " AND d.type IN (" + ", ".join(f"'{t}'" for t in types) + ")"
    return f"""(SELECT DISTINCT ON (d.event_id) d.event_id, d.content_hash, d.type, d.subject, d.effective_date, d.recorded_at,
        d."offset", d.data FROM rp_domain_events d WHERE {where}
      ORDER BY d.event_id, d.topic, d.partition, d."offset")"""


def cash_moves(cause_types: Iterable[str]) -> str:
    """Per entry of these cause types: its date, the owner of its pending account (the budget or provider the
    payment was for) and what it paid out of the bank (credit - debit of the bank account), without a join."""
    return f"""(SELECT e.entry_id, e.effective_date, e.cause_type, x.owner, x.paid
      FROM {entries(cause_types)} e,
      LATERAL (SELECT max(split_part(a, '/', 3)) FILTER (WHERE split_part(a, '/', 2) = 'pending') AS owner,
                      sum(c - d) FILTER (WHERE split_part(a, '/', 2) = 'bank') AS paid
                 FROM unnest(e.accounts, e.debits, e.credits) AS u(a, d, c)) x)"""


PROVIDERS = f"""(SELECT DISTINCT ON (data->>'provider_id') data->>'provider_id' AS provider_id,
    data->>'provider_type' AS provider_type, data->>'name' AS provider_name
  FROM {events([A + 'ProviderRegistered.v1'], dated=False)} pr ORDER BY data->>'provider_id', recorded_at DESC)"""


def args(query: ReportQuery) -> tuple[Any, ...]:
    return (query.council_id, query.as_of, query.known_at)


async def fetch(conn: asyncpg.Connection, sql: str, query: ReportQuery, *extra: Any) -> list[asyncpg.Record]:
    return await conn.fetch(sql, *args(query), *extra)


EXTERNAL_TYPES = ("private", "charity", "social_enterprise", "mutual", "other_council", "nhs")
"""Provider types that count as external provision (everything but in_house), per DOMAIN.md."""
DIRECT_PAYMENT = "direct_payment"
"""Spend paid as direct payments: external by nature (a DP cannot buy the council's own services)."""


def ratio(part: int, whole: int) -> float | None:
    return None if not whole else part / whole
