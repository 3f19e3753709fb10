"""PostgreSQL reads and writes of the payments state that more than one handler needs: budgets,
schedules, orders, policies, due payments. Everything runs on the caller's connection (and so in the
caller's transaction)."""
from __future__ import annotations

from collections.abc import Iterable

import asyncpg
import orjson

from ..domain.model import BudgetView, OrderTerms, OrderView, Schedule
from ..domain.policy import DEFAULT_POLICY, PaymentsPolicy
from ..domain.runs import end_to_end_id

_BUDGET_COLS = ("budget_id, person_ref, start_date, end_date, ended_on, died_on, contribution_weekly_pence, "
                "contribution_mode, dp_account_ref")
_SCHEDULE_COLS = ("schedule_id, budget_id, amount_pence, frequency_weeks, first_due_date, end_date, "
                  "contribution_mode, status, next_period")
PAYMENT_COLUMNS = ("council_id", "payment_id", "kind", "budget_id", "provider_id", "invoice_id", "schedule_id",
                   "period", "due_pence", "due_date", "end_to_end_id", "status", "paid_pence", "run_id", "status_reason")


def budget_of(row: asyncpg.Record) -> BudgetView:
    return BudgetView(**dict(row))


def schedule_of(row: asyncpg.Record) -> Schedule:
    return Schedule(**dict(row))


async def budget(conn: asyncpg.Connection, council: str, budget_id: str) -> BudgetView | None:
    row = await conn.fetchrow(f"SELECT {_BUDGET_COLS} FROM budgets WHERE council_id = $1 AND budget_id = $2",
                              council, budget_id)
    return budget_of(row) if row else None


async def budgets(conn: asyncpg.Connection, council: str, ids: Iterable[str]) -> dict[str, BudgetView]:
    rows = await conn.fetch(f"SELECT {_BUDGET_COLS} FROM budgets WHERE council_id = $1 AND budget_id = ANY($2)",
                            council, list(set(ids)))
    return {r["budget_id"]: budget_of(r) for r in rows}


async def schedule(conn: asyncpg.Connection, council: str, schedule_id: str, lock: bool = True) -> Schedule | None:
    row = await conn.fetchrow(f"SELECT {_SCHEDULE_COLS} FROM schedules WHERE council_id = $1 AND schedule_id = $2"
                              + (" FOR UPDATE" if lock else ""), council, schedule_id)
    return schedule_of(row) if row else None


async def orders(conn: asyncpg.Connection, council: str, ids: Iterable[str]) -> dict[str, OrderView]:
    """The orders with their terms over time (per effective date, the terms applied last)."""
    ids = list(set(ids))
    rows = await conn.fetch(
        "SELECT order_id, budget_id, provider_id, rate_pence, planned_units_per_week, start_date, end_date "
        "FROM service_orders WHERE council_id = $1 AND order_id = ANY($2)", council, ids)
    terms: dict[str, list[OrderTerms]] = {}
    for t in await conn.fetch(
            """SELECT DISTINCT ON (order_id, effective_from) order_id, effective_from, rate_pence, planned_units_per_week
               FROM service_order_terms WHERE council_id = $1 AND order_id = ANY($2)
               ORDER BY order_id, effective_from, seq DESC""", council, ids):
        terms.setdefault(t["order_id"], []).append(
            OrderTerms(t["effective_from"], t["rate_pence"], t["planned_units_per_week"]))
    return {r["order_id"]: OrderView(**dict(r), terms=tuple(terms.get(r["order_id"], ()))) for r in rows}


async def add_order(conn: asyncpg.Connection, council: str, event_id: str, order: OrderView) -> bool:
    """Insert a newly commissioned order and its first terms (under `event_id`), in one round trip;
    False (nothing changed) when the order id is known already."""
    first = order.history[0]
    return bool(await conn.fetchval(
        """WITH o AS (INSERT INTO service_orders (council_id, order_id, budget_id, provider_id, rate_pence,
                      planned_units_per_week, start_date, end_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                      ON CONFLICT (council_id, order_id) DO NOTHING RETURNING order_id)
           INSERT INTO service_order_terms (council_id, order_id, event_id, effective_from, rate_pence,
                  planned_units_per_week) SELECT $1, order_id, $9, $10, $11, $12 FROM o
           ON CONFLICT DO NOTHING RETURNING true""",
        council, order.order_id, order.budget_id, order.provider_id, order.rate_pence, order.planned_units_per_week,
        order.start_date, order.end_date, event_id, first.effective_from, first.rate_pence,
        first.planned_units_per_week))


async def order_to_change(conn: asyncpg.Connection, council: str, order_id: str) -> OrderView | None:
    """The order as a variation or an ending needs it: current terms and dates, and only its latest
    terms (a change looks no further back than the last pivot)."""
    row = await conn.fetchrow(
        """SELECT o.order_id, o.budget_id, o.provider_id, o.rate_pence, o.planned_units_per_week, o.start_date,
                  o.end_date, t.effective_from, t.rate_pence AS t_rate, t.planned_units_per_week AS t_units
           FROM service_orders o LEFT JOIN LATERAL (
               SELECT effective_from, rate_pence, planned_units_per_week FROM service_order_terms t
               WHERE t.council_id = o.council_id AND t.order_id = o.order_id
               ORDER BY effective_from DESC, seq DESC LIMIT 1) t ON true
           WHERE o.council_id = $1 AND o.order_id = $2""", council, order_id)
    if row is None:
        return None
    latest = () if row["effective_from"] is None else (
        OrderTerms(row["effective_from"], row["t_rate"], row["t_units"]),)
    return OrderView(*(row[k] for k in ("order_id", "budget_id", "provider_id", "rate_pence",
                                        "planned_units_per_week", "start_date", "end_date")), terms=latest)


async def add_order_terms(conn: asyncpg.Connection, council: str, event_id: str, order: OrderView) -> bool:
    """Record the terms allocation event `event_id` set (the order's last) and make them, with the
    order's end date, its current ones, in one round trip; False (nothing changed) when that event's
    terms were recorded already."""
    last = order.history[-1]
    return bool(await conn.fetchval(
        """WITH t AS (INSERT INTO service_order_terms (council_id, order_id, event_id, effective_from, rate_pence,
                      planned_units_per_week) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1)
           UPDATE service_orders SET rate_pence = $7, planned_units_per_week = $8, end_date = $9
           WHERE council_id = $1 AND order_id = $2 AND EXISTS (SELECT 1 FROM t) RETURNING true""",
        council, order.order_id, event_id, last.effective_from, last.rate_pence, last.planned_units_per_week,
        order.rate_pence, order.planned_units_per_week, order.end_date))


async def policy(conn: asyncpg.Connection, council: str) -> PaymentsPolicy:
    raw = await conn.fetchval("SELECT settings FROM council_policies WHERE council_id = $1", council)
    return PaymentsPolicy.from_mapping(orjson.loads(raw)) if raw else DEFAULT_POLICY


async def save_policy(conn: asyncpg.Connection, council: str, policy_: PaymentsPolicy) -> None:
    await conn.execute(
        """INSERT INTO council_policies (council_id, settings) VALUES ($1, $2::jsonb)
           ON CONFLICT (council_id) DO UPDATE SET settings = EXCLUDED.settings, updated_at = now()""",
        council, orjson.dumps(policy_.to_mapping()).decode())


async def add_payments(conn: asyncpg.Connection, council: str, rows: list[tuple],
                       final: dict[str, tuple] | None = None) -> None:
    """COPY new payments: rows of (payment_id, kind, budget_id, provider_id, invoice_id, schedule_id,
    period, due_pence, due_date), status 'due' unless `final` gives (status, paid_pence, run_id,
    status_reason) for the payment id; the end-to-end id is derived."""
    if rows:
        final = final or {}
        due = ("due", None, None, None)
        await conn.copy_records_to_table("payments", columns=PAYMENT_COLUMNS, records=[
            (council, *r, end_to_end_id(council, r[0]), *final.get(r[0], due)) for r in rows])


async def set_payment_status(conn: asyncpg.Connection, council: str, ids: list[str], status: str,
                             reasons: list[str | None] | None = None) -> None:
    if ids:
        await conn.execute(
            """UPDATE payments p SET status = $2, status_reason = u.reason
               FROM unnest($3::text[], $4::text[]) AS u(payment_id, reason)
               WHERE p.council_id = $1 AND p.payment_id = u.payment_id""",
            council, status, ids, reasons or [None] * len(ids))
