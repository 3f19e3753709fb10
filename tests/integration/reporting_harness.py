"""Shared helpers of the reporting service's integration tests (test_reporting_*.py): a ledger that has
consumed a synthetic year (the ledger's own worker and relay, as processes), fresh projection databases,
reporting Settings pointed at them, and read-backs of every projection and every report."""
from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import asyncpg
from careruntime.migrate import migrate
from careruntime.stackinfo import StackInfo
from caretools.badinput import bad_messages
from caretools.generator import generate
from caretools.messages import Message
from reporting.config import MIGRATIONS_DIR, Settings
from reporting.reports import REGISTRY, ReportQuery, run_report

from .ledger_harness import (ALLOCATION, ENTRIES, PAYMENTS, LedgerRun, diff_summary, drop_database, free_port_pair,
                             produce)

COUNCIL = "E10000077"


@dataclass
class Year:
    run: LedgerRun
    messages: list[Message]


def split_year(people: int, seed: int, council: str = COUNCIL) -> tuple[list[Message], list[Message]]:
    valid = generate(people=people, seed=seed, council_id=council)
    return valid, bad_messages(valid, council)


async def feed(run: LedgerRun, messages: list[Message], timeout_s: float = 120) -> None:
    """Publish messages to the ledger's inputs and wait until the ledger consumed them and relayed its outbox."""
    await produce(run.stack, messages, run.names)
    await run.wait_consumed(timeout_s)


def settings_for(stack: StackInfo, dsn: str, run: LedgerRun, group: str | None = None) -> Settings:
    return Settings(kafka_bootstrap=stack.bootstrap, database_url=dsn, ledger_database_url=run.dsn,
                    group_id=group or f"reporting-it-{uuid.uuid4().hex[:8]}", entries_topic=run.names[ENTRIES],
                    domain_topics=[run.names[ALLOCATION], run.names[PAYMENTS]], max_records=2000)


class Databases:
    """Fresh projection databases for one test module; dropped at the end."""

    def __init__(self, stack: StackInfo) -> None:
        self.stack, self.names = stack, []

    async def new(self) -> str:
        name = f"t_reporting_{uuid.uuid4().hex[:12]}"
        self.names.append(name)
        dsn = self.stack.dsn(name)
        await asyncio.to_thread(migrate, dsn, MIGRATIONS_DIR)
        return dsn

    async def drop_all(self) -> None:
        for name in self.names:
            with contextlib.suppress(Exception):
                await drop_database(self.stack, name)


async def pool_for(dsn: str) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=1, max_size=4)


PROJECTION_SQL = {
    "rp_entries": "SELECT * FROM rp_entries ORDER BY entry_id",
    "rp_rejections": "SELECT * FROM rp_rejections ORDER BY rejection_id",
    "rp_domain_events": "SELECT * FROM rp_domain_events ORDER BY event_id, content_hash",
}


async def projection_rows(dsn: str) -> dict[str, list[tuple]]:
    conn = await asyncpg.connect(dsn)
    try:
        return {name: [tuple(r.values()) for r in await conn.fetch(sql)] for name, sql in PROJECTION_SQL.items()}
    finally:
        await conn.close()


def projection_differences(left: dict[str, list[tuple]], right: dict[str, list[tuple]]) -> str:
    """What tells two projection_rows apart, per table that differs: the counts and the first rows only one
    side holds (ledger_harness.diff_summary; none either side: the same rows in another order); "" when they
    are equal. A failed comparison of whole projections printed thousands of equal rows and cut off the ones
    that differed."""
    return "\n".join(f"{table}: {len(left.get(table, []))} rows against {len(right.get(table, []))}; "
                     f"{diff_summary(left.get(table, []), right.get(table, []))}"
                     for table in sorted(set(left) | set(right)) if left.get(table) != right.get(table))


async def all_reports(dsn: str, query: ReportQuery, skip: tuple[str, ...] = ()) -> dict[str, tuple]:
    """Every registered report's rows and notes for one query."""
    conn = await asyncpg.connect(dsn)
    try:
        out = {}
        for name in REGISTRY:
            if name in skip:
                continue
            table = await run_report(conn, name, query)
            out[name] = (table.rows, table.notes)
        return out
    finally:
        await conn.close()


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes `python -m reporting ...` use these settings."""
    import json
    return {**os.environ, "REPORTING_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "REPORTING_DATABASE_URL": settings.database_url, "REPORTING_LEDGER_DATABASE_URL": settings.ledger_database_url,
            "REPORTING_GROUP_ID": settings.group_id, "REPORTING_ENTRIES_TOPIC": settings.entries_topic,
            "REPORTING_DOMAIN_TOPICS": json.dumps(settings.domain_topics), "REPORTING_LOG_LEVEL": "WARNING", **extra}


def reporting_cli(settings: Settings, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reporting", *args], env=settings_env(settings),
                          capture_output=True, timeout=timeout)


class ReportingWorker:
    """`python -m reporting worker` as a child process with its own settings."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.env = settings_env(settings, REPORTING_HEALTH_PORT=str(free_port_pair()))
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "reporting", "worker"], env=self.env,
                                     stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def max_time(messages: list[Message]) -> datetime:
    return max(m.at for m in messages)


async def wait_projected(dsn: str, ledger_dsn: str, domain_events: int, timeout_s: float = 120,
                         worker: ReportingWorker | None = None) -> None:
    """Until the projection holds every journal entry, every rejection the ledger logged and `domain_events`
    domain events (the live worker is then caught up with what the ledger has relayed)."""
    ledger, conn = await asyncpg.connect(ledger_dsn), await asyncpg.connect(dsn)
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            want = (await ledger.fetchval("SELECT count(*) FROM journal_entries"),
                    await ledger.fetchval("SELECT count(*) FROM processed_events WHERE outcome = 'rejected'"),
                    domain_events)
            have = (await conn.fetchval("SELECT count(*) FROM rp_entries"),
                    await conn.fetchval("SELECT count(*) FROM rp_rejections"),
                    await conn.fetchval("SELECT count(*) FROM rp_domain_events"))
            if have == want:
                return
            if worker is not None and worker.proc.poll() is not None:
                raise AssertionError(f"reporting worker exited: {worker.log_path.read_text()[-3000:]}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"projection not caught up after {timeout_s}s: have {have}, want {want}")
            await asyncio.sleep(0.25)
    finally:
        await ledger.close()
        await conn.close()
