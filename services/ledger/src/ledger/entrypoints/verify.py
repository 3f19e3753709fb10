"""Entry point of `ledger verify`: print the report, exit 0 only when every chain and balance holds."""
from __future__ import annotations

import asyncpg

from ..config import Settings
from ..service.verify import verify


async def run_verify(settings: Settings) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        report = await verify(conn)
    finally:
        await conn.close()
    print(f"verify: {'OK' if report.ok else 'FAILED'} ({report.entries} entries in {report.shards} shard chains)")
    for problem in report.problems:
        print(f"  - {problem}")
    return 0 if report.ok else 1
