"""The due-date timer on a business clock: a restart (or a crash inside a tick, or two timers at once)
neither skips nor repeats a direct-payment period; `python -m payments timer` killed with SIGKILL and
started again on a later business day carries on from the stored period; its /metrics counts ticks,
periods made due and failed ticks."""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import aiohttp
import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from payments.service.timer import make_due, tick

from tests.integration.payments_harness import COUNCIL, deployment

pytestmark = pytest.mark.integration

D0 = date(2026, 4, 6)


async def seed(conn: asyncpg.Connection, schedules: int = 50) -> None:
    await conn.executemany(
        "INSERT INTO budgets (council_id, budget_id, person_ref, start_date, end_date, died_on) VALUES ($1,$2,$3,$4,$5,$6)",
        [(COUNCIL, f"PB-{n}", f"P-{n}", D0, date(2027, 4, 4), date(2026, 7, 1) if n == 0 else None)
         for n in range(schedules)])
    await conn.executemany(
        """INSERT INTO schedules (council_id, schedule_id, budget_id, amount_pence, frequency_weeks, first_due_date,
           end_date, contribution_mode, status) VALUES ($1, $2, $3, 100000, $4, $5, '2027-04-04', 'gross', 'active')""",
        [(COUNCIL, f"S-{n}", f"PB-{n}", 4 if n % 2 else 2, D0 + timedelta(days=n % 7)) for n in range(schedules)])


async def periods(conn) -> list[tuple[str, int]]:
    return [tuple(r) for r in await conn.fetch("SELECT schedule_id, period FROM payments ORDER BY 1, 2")]


def expected(up_to: date, schedules: int = 50) -> list[tuple[str, int]]:
    out = []
    for n in range(schedules):
        weeks, first = (4 if n % 2 else 2), D0 + timedelta(days=n % 7)
        last = min(up_to, date(2026, 7, 1)) if n == 0 else up_to
        k = 0
        while first + timedelta(weeks=weeks * k) <= last and first + timedelta(weeks=weeks * (k + 1), days=-1) <= date(2027, 4, 4):
            out.append((f"S-{n}", k))
            k += 1
    return sorted(out)


async def test_ticks_across_a_crash_and_a_restart_make_each_period_due_exactly_once(stack, fresh_db, topics, tmp_path):
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    pool = await dep.pool()
    try:
        async with pool.acquire() as conn:
            await seed(conn)
        day1 = D0 + timedelta(weeks=9)
        assert sum((await tick(pool, day1)).values()) == len(expected(day1))
        # A crash inside a tick: the transaction never commits, so nothing of it happened.
        async with pool.acquire() as conn:
            with pytest.raises(RuntimeError):
                async with conn.transaction():
                    assert await make_due(conn, COUNCIL, D0 + timedelta(weeks=30)) > 0
                    raise RuntimeError("killed mid-tick")
            assert await periods(conn) == expected(day1)
        # The same day again (a restart that re-runs the last tick) makes nothing new.
        assert sum((await tick(pool, day1)).values()) == 0
        # Two timers at once on a later day: row locks serialise them, the unique key backs that up.
        day2 = D0 + timedelta(weeks=30)
        made = await asyncio.gather(tick(pool, day2), tick(pool, day2))
        assert sum(sum(m.values()) for m in made) == len(expected(day2)) - len(expected(day1))
        async with pool.acquire() as conn:
            assert await periods(conn) == expected(day2)
            # the person who died on 1 July: no period that starts after it
            assert max(p for s, p in await periods(conn) if s == "S-0") == 6
            assert await conn.fetchval("SELECT status FROM schedules WHERE schedule_id = 'S-0'") == "finished"
    finally:
        await dep.stop()


async def test_the_timer_process_killed_and_restarted_carries_on(stack, fresh_db, topics, tmp_path):
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    pool = await dep.pool()
    try:
        async with pool.acquire() as conn:
            await seed(conn)

        async def run_until_ticked(day: date) -> None:
            env = {**os.environ, **dep.env(), "PAYMENTS_BUSINESS_DATE": day.isoformat(), "PAYMENTS_TIMER_INTERVAL_S": "0.2"}
            proc = subprocess.Popen([sys.executable, "-m", "payments", "timer"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                for _ in range(300):
                    if await pool.fetchval("SELECT business_on FROM timer_ticks WHERE council_id = $1", COUNCIL) == day:
                        break
                    assert proc.poll() is None, proc.stderr.read().decode()
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError("the timer did not tick")
                await asyncio.sleep(0.5)  # a few more ticks on the same day
            finally:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()

        await run_until_ticked(D0 + timedelta(weeks=5))
        async with pool.acquire() as conn:
            assert await periods(conn) == expected(D0 + timedelta(weeks=5))
        await run_until_ticked(D0 + timedelta(weeks=17))
        async with pool.acquire() as conn:
            assert await periods(conn) == expected(D0 + timedelta(weeks=17))
    finally:
        await dep.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """The timer's /metrics as {(sample name, sorted labels): value}."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_the_timer_process_counts_ticks_periods_made_due_and_failed_ticks(stack, fresh_db, topics, tmp_path):
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    pool = await dep.pool()
    day = D0 + timedelta(weeks=9)
    metrics_port = free_port()
    env = {**os.environ, **dep.env(), "PAYMENTS_BUSINESS_DATE": day.isoformat(), "PAYMENTS_TIMER_INTERVAL_S": "0.2",
           "PAYMENTS_HEALTH_PORT": str(metrics_port - 2)}
    proc = subprocess.Popen([sys.executable, "-m", "payments", "timer"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    async def until(condition, what: str) -> dict:
        for _ in range(300):
            assert proc.poll() is None, proc.stderr.read().decode()
            with contextlib.suppress(aiohttp.ClientConnectionError):
                seen = await scrape(metrics_port)
                if condition(seen):
                    return seen
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    ticks, errors = ("payments_timer_ticks_total", ()), ("payments_timer_errors_total", (("kind", "postgres"),))
    made_due = ("payments_timer_periods_made_due_total", (("council", COUNCIL),))
    try:
        # nothing to tick yet: the ticks count, and no council has periods made due
        seen = await until(lambda m: m.get(ticks, 0) >= 2, "ticks with no schedules")
        assert made_due not in seen and seen.get(errors, 0) == 0
        async with pool.acquire() as conn:
            await seed(conn)
        seen = await until(lambda m: m.get(made_due, 0) > 0, "periods made due")
        assert seen[made_due] == len(expected(day))  # all in one tick; later ticks add nothing
        assert seen[("payments_timer_business_day_seconds", ())] == datetime(2026, 6, 8, tzinfo=UTC).timestamp()
        # the ticks' table gone: each tick fails, is rolled back and counted, and ticks stop counting
        async with pool.acquire() as conn:
            await conn.execute("ALTER TABLE timer_ticks RENAME TO timer_ticks_away")
        failing = await until(lambda m: m.get(errors, 0) >= 2, "failed ticks")
        await asyncio.sleep(0.5)
        assert (await scrape(metrics_port))[ticks] - failing[ticks] <= 1  # at most one tick was already past it
        async with pool.acquire() as conn:
            await conn.execute("ALTER TABLE timer_ticks_away RENAME TO timer_ticks")
        back = await until(lambda m: m[ticks] >= failing[ticks] + 2, "ticks after the table is back")
        assert back[made_due] == len(expected(day))
        async with pool.acquire() as conn:
            assert await periods(conn) == expected(day)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        await dep.stop()


async def test_a_council_whose_stored_policy_is_not_valid_is_skipped_and_the_others_tick(stack, fresh_db, topics,
                                                                                        tmp_path):
    """A policy row written by hand that `policy` would refuse: that council's periods wait (said in the log
    at every tick), every other council's are made due; once the row is fixed, they are made due too."""
    dep = await deployment(stack, fresh_db, topics, tmp_path)
    pool = await dep.pool()
    other = "E06000001"
    try:
        async with pool.acquire() as conn:
            await seed(conn, schedules=4)
            await conn.execute("INSERT INTO budgets (council_id, budget_id, person_ref, start_date, end_date) "
                               "VALUES ($1, 'PB-X', 'P-X', $2, '2027-04-04')", other, D0)
            await conn.execute(
                """INSERT INTO schedules (council_id, schedule_id, budget_id, amount_pence, frequency_weeks,
                   first_due_date, end_date, contribution_mode, status)
                   VALUES ($1, 'S-X', 'PB-X', 100000, 4, $2, '2027-04-04', 'gross', 'active')""", other, D0)
            await conn.execute("INSERT INTO council_policies (council_id, settings) VALUES ($1, $2::jsonb)",
                               other, '{"timer_lead_days": "soon"}')
        day = D0 + timedelta(weeks=9)
        made = await tick(pool, day)
        assert other not in made and made[COUNCIL] == len(expected(day, schedules=4))
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM payments WHERE council_id = $1", other) == 0
            await conn.execute("UPDATE council_policies SET settings = '{}'::jsonb WHERE council_id = $1", other)
        assert (await tick(pool, day))[other] == 3  # 6, 4 May and 1 June: every 4 weeks from 6 April
    finally:
        await dep.stop()
