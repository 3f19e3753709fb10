"""asyncpg pools for the services' long-running processes, and for batch workers, whose connections never change
their session state.

`open_pool` opens a process's pool; when PostgreSQL cannot be reached then (refused, unknown host, wrong password,
timed out) it raises `DatabaseUnreachable`, which the entry points turn into one line and exit code 3
(careruntime.cli_args.process_or_exit) instead of a traceback. Once a process runs, its loops retry a lost
database themselves (careruntime.consumer, careruntime.relay).

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

from typing import Any

import asyncpg

from .cli_args import DATABASE_UNREACHABLE


class DatabaseUnreachable(ConnectionError):
    """PostgreSQL could not be reached when a process opened its pool (the cause is chained). A ConnectionError,
    so every handler of an unreachable database (cli_args.DATABASE_UNREACHABLE) still catches it."""


async def open_pool(dsn: str, *, max_size: int, min_size: int = 1, **options: Any) -> asyncpg.Pool:
    """`asyncpg.create_pool`, or `DatabaseUnreachable` when PostgreSQL cannot be reached."""
    try:
        return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, **options)
    except DATABASE_UNREACHABLE as exc:
        raise DatabaseUnreachable(f"{type(exc).__name__}: {str(exc).strip()}") from exc


async def keep_session(conn: asyncpg.Connection) -> None:
    """Pool `reset` that sends nothing: asyncpg has already rolled back any open transaction."""


async def worker_pool(dsn: str, *, max_size: int) -> asyncpg.Pool:
    """A pool for a batch worker's own connections (see the module docstring)."""
    return await open_pool(dsn, max_size=max_size, reset=keep_session)


__all__ = ["DatabaseUnreachable", "keep_session", "open_pool", "worker_pool"]
