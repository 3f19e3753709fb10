"""Kafka outage in the middle of a payment run made in parts: `python -m payments worker` and `relay` (real
processes) stay up while the broker is stopped (its parts chain through the commands topic, so the run
cannot go on meanwhile), and once it is back, with no restart, the run is finished exactly once: every
due payment instructed once, each PaymentInstructed on the events topic once (read_committed), and the
ledger reserves each payment once."""
from __future__ import annotations

import asyncio
import signal
import subprocess
from collections import Counter
from datetime import date

import asyncpg
import pytest

from tests.integration.payments_harness import ALLOCATION, COMMANDS, EVENTS, alloc, command, deployment, read_events, send

from .kafka_outage import broker_outage
from .test_payments_crash import start

pytestmark = [pytest.mark.integration, pytest.mark.slow]

D0 = date(2026, 4, 6)
PEOPLE = 1_500
RUN_DAY = date(2026, 5, 4)  # two 4-weekly periods each
OUTAGE_S = 10


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGSTOP], ids=["stopped", "frozen"])
async def test_a_payment_run_interrupted_by_a_broker_outage_is_made_exactly_once(stack, fresh_db, topics, tmp_path,
                                                                                how):
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    pool = await dep.pool()
    procs: list[subprocess.Popen] = []
    try:
        await dep.start_ledger()
        procs += [start(dep, "worker", tmp_path / "worker.log", 100), start(dep, "relay", tmp_path / "relay.log")]
        await send(stack.bootstrap, dep.names[ALLOCATION], [
            alloc("PersonalBudgetAgreed", f"a-{n}", budget_id=f"PB-{n}", person_ref=f"P-{n}", amount_pence=2_000_000,
                  start_date=D0, end_date=date(2027, 4, 4)) for n in range(PEOPLE)])
        await dep.payments_settled(timeout_s=180, procs=procs)
        await send(stack.bootstrap, dep.names[COMMANDS], [
            command("payments.ScheduleDirectPayment", f"c-s{n}", schedule_id=f"S-{n}", budget_id=f"PB-{n}",
                    amount_pence=100_000 + n, frequency_weeks=4, first_due_date=D0, end_date=date(2027, 4, 4),
                    contribution_mode="gross") for n in range(PEOPLE)])
        await dep.payments_settled(timeout_s=180, procs=procs)
        await send(stack.bootstrap, dep.names[COMMANDS], [command(
            "payments.CreatePaymentRun", "c-run", run_id="RUN-1", created_by="alice", due_on=RUN_DAY,
            effective_date=RUN_DAY)])
        for _ in range(3000):
            if (await pool.fetchval("SELECT next_part FROM runs") or 0) >= 1:
                break
            await asyncio.sleep(0.005)
        async with broker_outage(stack, how):
            run = await pool.fetchrow("SELECT status, parts, next_part FROM runs")
            await asyncio.sleep(OUTAGE_S)
            assert all(p.poll() is None for p in procs), [p.returncode for p in procs]
        assert run["status"] == "creating" and run["next_part"] < run["parts"], dict(run)
        for _ in range(1800):
            if await pool.fetchval("SELECT status FROM runs") == "created":
                break
            assert all(p.poll() is None for p in procs), [p.returncode for p in procs]
            await asyncio.sleep(0.1)
        await dep.payments_settled(timeout_s=180, procs=procs)
        assert await pool.fetchval("SELECT status FROM runs") == "created"
        assert await pool.fetchval("SELECT count(*) FROM payments WHERE status = 'instructed'") == 2 * PEOPLE

        events = await read_events(stack.bootstrap, dep.names[EVENTS])
        twice = [i for i, n in Counter(e.id for e in events).items() if n > 1]
        assert not twice, f"{len(twice)} events published more than once, e.g. {twice[:5]}"
        instructed = Counter(e.data["payment_id"] for e in events if e.type == "payments.PaymentInstructed.v1")
        assert len(instructed) == 2 * PEOPLE and set(instructed.values()) == {1}

        await dep.ledger_settled(timeout_s=240)
        ledger = await asyncpg.connect(dep.ledger_dsn)
        try:
            assert await ledger.fetch("SELECT reason_code, count(*) FROM processed_events "
                                      "WHERE outcome = 'rejected' GROUP BY 1") == []
            pending = await ledger.fetchval("SELECT sum(balance_pence) FROM accounts WHERE kind = 'pending'")
            assert abs(pending) == sum(2 * (100_000 + n) for n in range(PEOPLE))
        finally:
            await ledger.close()
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0, proc.args
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        await dep.stop()
