"""What only the ledger can say, fetched read-only: its outcome log (posted / noted / rejected per consumed
event) and the verdict of `python -m ledger verify` on its hash chains, run through the ledger's own CLI
(services never import each other) and recorded in rp_chain_checks."""
from __future__ import annotations

import asyncio
import os
import re
import sys
from dataclasses import dataclass

import asyncpg

from ..adapters.journal_copy import connect_read_only, copy_outcomes

VERIFY_LINE = re.compile(r"verify: (OK|FAILED) \((\d+) entries in (\d+) shard chains\)")


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    entries: int | None
    shards: int | None
    output: str


async def sync_outcomes(ledger_dsn: str, pool: asyncpg.Pool) -> int:
    ledger = await connect_read_only(ledger_dsn)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("TRUNCATE rp_outcomes")
            return await copy_outcomes(ledger, conn)
    finally:
        await ledger.close()


async def run_ledger_verify(ledger_dsn: str, timeout_s: float = 600) -> ChainCheck:
    """`python -m ledger verify` against the ledger database; its exit code is the verdict."""
    env = {**os.environ, "LEDGER_DATABASE_URL": ledger_dsn}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "ledger", "verify", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    text = out.decode(errors="replace")
    match = VERIFY_LINE.search(text)
    return ChainCheck(proc.returncode == 0, int(match[2]) if match else None, int(match[3]) if match else None, text)


async def record_chain_check(pool: asyncpg.Pool, check: ChainCheck) -> None:
    async with pool.acquire() as conn:
        await conn.execute("INSERT INTO rp_chain_checks (ok, entries, shards, output) VALUES ($1, $2, $3, $4)",
                           check.ok, check.entries, check.shards, check.output[-4000:])


async def sync_ledger(ledger_dsn: str, pool: asyncpg.Pool) -> tuple[int, ChainCheck]:
    outcomes = await sync_outcomes(ledger_dsn, pool)
    check = await run_ledger_verify(ledger_dsn)
    await record_chain_check(pool, check)
    return outcomes, check
