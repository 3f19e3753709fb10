"""The benchmark's PostgreSQL statement figures, read from pg_stat_statements on the test stack."""
from __future__ import annotations

import asyncpg
from caretools import bench_pgstat


async def test_statements_since_the_reset_are_reported_per_event(fresh_db):
    conn = await asyncpg.connect(await fresh_db("ledger"))
    try:
        assert await bench_pgstat.reset(conn), "the local stack preloads pg_stat_statements"
        for _ in range(4):
            await conn.execute("INSERT INTO shard_heads (shard, shard_seq, hash) VALUES ($1, 1, $2) "
                               "ON CONFLICT (shard) DO UPDATE SET shard_seq = shard_heads.shard_seq + 1",
                               "s:0", "0" * 64)
        statements = await bench_pgstat.top(conn, events=4, limit=50)
        upserts = [s for s in statements if s["statement"] == "upsert shard_heads"]
        assert len(upserts) == 1 and upserts[0]["calls"] == 4 and upserts[0]["rows"] == 4
        assert upserts[0]["exec_us_per_event"] > 0
        await bench_pgstat.reset(conn)
        assert not [s for s in await bench_pgstat.top(conn, events=4, limit=50) if s["statement"] == "upsert shard_heads"]
    finally:
        await conn.close()
