"""PostgreSQL stopped for ~10 s in the middle of a payment run made in parts: `python -m payments worker` and
`relay` stay up (/readyz 503 meanwhile), carry on by themselves when it is back, and the run is made exactly
once: every due payment instructed once (one event id per payment), one run, and the ledger reserves each
payment once. test_payments_crash.py does the same with a SIGKILL of the worker instead."""
from __future__ import annotations

import asyncio
import time
from datetime import date

import aiohttp
import asyncpg
import pytest

from caretools.localstack import free_port_pair

from tests.integration.payments_harness import ALLOCATION, COMMANDS, EVENTS, alloc, command, deployment, read_events, send
from tests.integration.test_payments_crash import start

pytestmark = [pytest.mark.integration, pytest.mark.slow]

D0 = date(2026, 4, 6)
PEOPLE = 600
RUN_DAY = date(2026, 5, 4)  # two 4-weekly periods each
OUTAGE_S = 10.0


async def test_a_postgresql_outage_mid_run_makes_the_run_once(stack, fresh_db, topics, tmp_path, postgres_outage):
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    pool = await dep.pool()
    procs = []
    try:
        await dep.start_ledger()
        port = free_port_pair()  # the worker's /readyz
        procs += [start(dep, "worker", tmp_path / "worker.log", 50, PAYMENTS_HEALTH_PORT=str(port)),
                  start(dep, "relay", tmp_path / "relay.log")]
        await send(stack.bootstrap, dep.names[ALLOCATION], [
            alloc("PersonalBudgetAgreed", f"a-{n}", budget_id=f"PB-{n}", person_ref=f"P-{n}", amount_pence=2_000_000,
                  start_date=D0, end_date=date(2027, 4, 4)) for n in range(PEOPLE)])
        await dep.payments_settled(timeout_s=120, procs=procs)
        await send(stack.bootstrap, dep.names[COMMANDS], [
            command("payments.ScheduleDirectPayment", f"c-s{n}", schedule_id=f"S-{n}", budget_id=f"PB-{n}",
                    amount_pence=100_000 + n, frequency_weeks=4, first_due_date=D0, end_date=date(2027, 4, 4),
                    contribution_mode="gross") for n in range(PEOPLE)])
        await dep.payments_settled(timeout_s=120, procs=procs)
        await send(stack.bootstrap, dep.names[COMMANDS], [command(
            "payments.CreatePaymentRun", "c-run", run_id="RUN-1", created_by="alice", due_on=RUN_DAY,
            effective_date=RUN_DAY)])
        for _ in range(3000):
            if (await pool.fetchval("SELECT next_part FROM runs") or 0) >= 1:
                break
            await asyncio.sleep(0.005)
        run = await pool.fetchrow("SELECT status, parts, next_part FROM runs")
        assert run["status"] == "creating" and run["next_part"] < run["parts"], dict(run)

        async with aiohttp.ClientSession() as http, postgres_outage():
            down_at = time.monotonic()
            while time.monotonic() - down_at < OUTAGE_S:
                assert all(p.poll() is None for p in procs), [p.returncode for p in procs]
                async with http.get(f"http://127.0.0.1:{port}/readyz") as r:
                    assert r.status == 503 and (await r.json())["failing"] == ["postgres"]
                await asyncio.sleep(1.0)
        print(f"PostgreSQL was down from part {run['next_part']} of {run['parts']}")

        for _ in range(1200):  # the remaining parts chain through the commands topic
            if await pool.fetchval("SELECT status FROM runs") == "created":
                break
            assert all(p.poll() is None for p in procs), [p.returncode for p in procs]
            await asyncio.sleep(0.1)
        await dep.payments_settled(timeout_s=120, procs=procs)
        assert await pool.fetchval("SELECT count(*) FROM runs") == 1
        assert await pool.fetchval("SELECT status FROM runs") == "created"
        assert await pool.fetchval("SELECT count(*) FROM payments WHERE status = 'instructed'") == 2 * PEOPLE

        events = [e for e in await read_events(stack.bootstrap, dep.names[EVENTS])
                  if e.type == "payments.PaymentInstructed.v1"]
        ids_by_payment: dict[str, set[str]] = {}
        for e in events:
            ids_by_payment.setdefault(e.data["payment_id"], set()).add(e.id)
        assert len(ids_by_payment) == 2 * PEOPLE
        assert all(len(ids) == 1 for ids in ids_by_payment.values())  # resends, if any, carry the same id

        await dep.ledger_settled(timeout_s=180)
        ledger = await asyncpg.connect(dep.ledger_dsn)
        try:
            assert await ledger.fetch("SELECT reason_code, count(*) FROM processed_events WHERE outcome = 'rejected' "
                                      "GROUP BY 1") == []
            pending = await ledger.fetchval("SELECT sum(balance_pence) FROM accounts WHERE kind = 'pending'")
            assert abs(pending) == sum(2 * (100_000 + n) for n in range(PEOPLE))
        finally:
            await ledger.close()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
        await dep.stop()
