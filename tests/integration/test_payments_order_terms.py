"""Service order terms over time, through the real worker and PostgreSQL: orders varied (rate rise) and
cut back (fewer planned units) from a date, the variations redelivered, then late invoices for the weeks
before the change are matched against the terms of those weeks, and invoices after it against the new
ones. The read model's terms table is idempotent on redelivered events by itself (without
processed_messages), and migration 0003 gives orders read before it their current terms from their start."""
from __future__ import annotations

import asyncio
import shutil
from datetime import date
from pathlib import Path

import asyncpg
import pytest
from careruntime.migrate import migrate
from careschemas import allocation_events as ev
from payments.adapters import repository
from payments.domain.model import OrderTerms
from payments.service.readmodel import apply_event

from tests.integration.payments_harness import ALLOCATION, COMMANDS, COUNCIL, EVENTS, alloc, command, deployment, \
    read_events, send

pytestmark = pytest.mark.integration

D0, CHANGE, INVOICED = date(2026, 4, 6), date(2026, 5, 4), date(2026, 6, 1)
ORDER = {"budget_id": "PB-1", "provider_id": "PR-1", "service_type": "home_care", "unit": "hour",
         "rate_pence": 2_450, "planned_units_per_week": 14, "payment_basis": "invoice", "start_date": D0,
         "end_date": date(2026, 9, 27)}
VARIATIONS = [
    alloc("ServiceOrderVaried", "a-rise-1", order_id="SO-1", budget_id="PB-1", rate_pence=2_600,
          planned_units_per_week=14, end_date=date(2026, 9, 27), effective_date=CHANGE),
    alloc("ServiceOrderVaried", "a-cut-2", order_id="SO-2", budget_id="PB-1", rate_pence=2_450,
          planned_units_per_week=7, end_date=date(2026, 9, 27), effective_date=CHANGE),
]
ALLOCATION_EVENTS = [
    alloc("ProviderRegistered", "a-prov", provider_id="PR-1", name="Meadowbank Home Care Ltd", provider_type="private"),
    alloc("PersonalBudgetAgreed", "a-pb1", budget_id="PB-1", person_ref="P-1", amount_pence=5_200_000, start_date=D0,
          end_date=date(2027, 4, 4)),
    alloc("ServiceOrderCommissioned", "a-so1", order_id="SO-1", **ORDER),
    alloc("ServiceOrderCommissioned", "a-so2", order_id="SO-2", **ORDER),
    *VARIATIONS,
]


def invoice(invoice_id: str, order: str, start: date, end: date, units: int, rate: int):
    return command("invoices.ReceiveInvoice", f"c-{invoice_id}", invoice_id=invoice_id, provider_id="PR-1",
                   invoice_number=f"INV-{invoice_id}", invoice_date=INVOICED, effective_date=INVOICED,
                   lines=[{"line_no": 1, "order_id": order, "budget_id": "PB-1", "period_start": start,
                           "period_end": end, "units": units, "rate_pence": rate}])


BEFORE, AFTER = (date(2026, 4, 27), date(2026, 5, 3)), (date(2026, 5, 4), date(2026, 5, 10))
INVOICES = [
    invoice("I-1", "SO-1", *BEFORE, 14, 2_450),   # late, for the week before the rise: old rate
    invoice("I-2", "SO-1", *AFTER, 14, 2_600),    # after the rise: new rate
    invoice("I-3", "SO-2", *BEFORE, 14, 2_450),   # late, for the week before the cut-back: old plan
    invoice("I-4", "SO-2", *AFTER, 14, 2_450),    # after the cut-back: 7 planned
    invoice("I-5", "SO-1", BEFORE[0], AFTER[1], 28, 2_450),  # one line across the rise, one rate
]


async def terms_rows(conn) -> list[tuple]:
    return [tuple(r) for r in await conn.fetch(
        "SELECT order_id, event_id, effective_from, rate_pence, planned_units_per_week FROM service_order_terms "
        "ORDER BY order_id, seq")]


async def test_late_invoices_are_matched_against_the_terms_of_their_weeks(stack, fresh_db, topics, tmp_path):
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    dep.write_directory(["tok-PR-1"])
    pool = await dep.pool()
    try:
        worker = await dep.start_payments()
        await send(stack.bootstrap, dep.names[ALLOCATION], ALLOCATION_EVENTS)
        await dep.payments_settled()
        async with pool.acquire() as conn:
            rows = await terms_rows(conn)
        assert rows == [("SO-1", "a-so1", D0, 2_450, 14), ("SO-1", "a-rise-1", CHANGE, 2_600, 14),
                        ("SO-2", "a-so2", D0, 2_450, 14), ("SO-2", "a-cut-2", CHANGE, 2_450, 7)]
        await send(stack.bootstrap, dep.names[ALLOCATION], VARIATIONS)  # the relay delivers at least once
        await send(stack.bootstrap, dep.names[COMMANDS], INVOICES)
        await dep.payments_settled()
        async with pool.acquire() as conn:
            assert await terms_rows(conn) == rows
            current = await conn.fetch("SELECT order_id, rate_pence, planned_units_per_week FROM service_orders "
                                       "ORDER BY order_id")
        assert [tuple(r) for r in current] == [("SO-1", 2_600, 14), ("SO-2", 2_450, 7)]
        assert worker.ingest.stats["event_duplicate"] == len(VARIATIONS)

        events = await read_events(stack.bootstrap, dep.names[EVENTS])
        matched = sorted(e.data["invoice_id"] for e in events if e.type == "invoices.InvoiceMatched.v1")
        held = {e.data["invoice_id"]: (e.data["reason_code"], e.data["detail"]) for e in events
                if e.type == "invoices.InvoiceHeld.v1"}
        assert matched == ["I-1", "I-2", "I-3"]
        assert {k: v[0] for k, v in held.items()} == {"I-4": "OVER_PLAN", "I-5": "RATE_MISMATCH"}
        assert "7/week" in held["I-4"][1]
        assert "2450p 2026-04-27..2026-05-03, 2600p 2026-05-04..2026-05-10" in held["I-5"][1]
    finally:
        await dep.stop()


async def test_the_terms_table_ignores_a_redelivered_event_by_itself(stack, fresh_db):
    """apply_event called again with an event id already applied (as if processed_messages had missed
    it), after a later variation: the later terms stand."""
    dsn = await fresh_db("payments")
    commissioned = ev.ServiceOrderCommissioned(order_id="SO-1", effective_date=D0, **ORDER)

    def variation(units: int, effective: date) -> ev.ServiceOrderVaried:
        return ev.ServiceOrderVaried(order_id="SO-1", budget_id="PB-1", rate_pence=2_450, planned_units_per_week=units,
                                     end_date=date(2026, 9, 27), effective_date=effective)

    conn = await asyncpg.connect(dsn)
    try:
        await apply_event(conn, COUNCIL, commissioned, "e-1")
        await apply_event(conn, COUNCIL, variation(7, CHANGE), "e-2")
        await apply_event(conn, COUNCIL, variation(10, date(2026, 6, 1)), "e-3")
        before = await terms_rows(conn)
        for event, event_id in ((variation(7, CHANGE), "e-2"), (commissioned, "e-1")):
            await apply_event(conn, COUNCIL, event, event_id)
        assert await terms_rows(conn) == before
        order = (await repository.orders(conn, COUNCIL, ["SO-1"]))["SO-1"]
        assert order.terms == (OrderTerms(D0, 2_450, 14), OrderTerms(CHANGE, 2_450, 7),
                               OrderTerms(date(2026, 6, 1), 2_450, 10))
        assert order.planned_units_per_week == 10
        # a correction on the same day: the later terms win on that day, both rows stay recorded
        await apply_event(conn, COUNCIL, variation(9, date(2026, 6, 1)), "e-4")
        order = (await repository.orders(conn, COUNCIL, ["SO-1"]))["SO-1"]
        assert order.terms[-1] == OrderTerms(date(2026, 6, 1), 2_450, 9) and len(order.terms) == 3
        assert len(await terms_rows(conn)) == 4
    finally:
        await conn.close()


async def test_migration_0003_gives_orders_read_before_it_their_terms_from_their_start(stack, fresh_db, tmp_path):
    migrations = Path(__file__).resolve().parents[2] / "services" / "payments" / "migrations"
    older = tmp_path / "migrations"
    older.mkdir()
    for name in ("0001.plumbing.py", "0002.payments.sql"):
        shutil.copy(migrations / name, older / name)
    dsn = await fresh_db("payments", migrations_dir=older)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            """INSERT INTO service_orders (council_id, order_id, budget_id, provider_id, rate_pence,
               planned_units_per_week, start_date, end_date) VALUES ($1, 'SO-1', 'PB-1', 'PR-1', 2600, 7, $2, $3)""",
            COUNCIL, D0, date(2026, 9, 27))
        applied = await asyncio.to_thread(migrate, dsn, migrations)
        assert applied == ["0003.service_order_terms", "0004.run_instructed_on"]
        order = (await repository.orders(conn, COUNCIL, ["SO-1"]))["SO-1"]
        assert order.terms == (OrderTerms(D0, 2_600, 7),)
    finally:
        await conn.close()
