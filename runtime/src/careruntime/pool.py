"""asyncpg pools for batch workers, whose connections never change their session state.

asyncpg resets every connection a pool takes back: it rolls back an open transaction, then runs
`SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`, one more round trip per release.
A batch worker releases a connection after every batch transaction and every read, and its next batch
transaction cannot start before the release has finished; measured on the ledger's bench, the reset
cost 0.5–0.7 ms per release, waiting on the event loop (docs/performance.md).

A worker's connections take no advisory lock, open no cursor outside a transaction, LISTEN to nothing
and SET nothing for the session, so `keep_session` leaves out that query. asyncpg still rolls back any
open transaction before calling it. A pool whose connections do hold such state (the relays: advisory
lock and LISTEN) keeps asyncpg's default reset.
"""
from __future__ import annotations

import asyncpg


async def keep_session(conn: asyncpg.Connection) -> None:
    """Pool `reset` that sends nothing: asyncpg has already rolled back any open transaction."""


async def worker_pool(dsn: str, *, max_size: int) -> asyncpg.Pool:
    """A pool for a batch worker's own connections (see the module docstring)."""
    return await asyncpg.create_pool(dsn, min_size=1, max_size=max_size, reset=keep_session)


__all__ = ["keep_session", "worker_pool"]
