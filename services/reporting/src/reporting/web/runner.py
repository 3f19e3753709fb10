"""Running registered reports for the web: one read-only, repeatable-read transaction per request, and
database trouble turned into "unavailable" (503) rather than an error page.

Owns which reports the web offers (every one in the registry) and how they are run over the pool.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import asyncpg

from reporting.reports import REGISTRY, ReportQuery, ReportSpec, ReportTable, check_params_of, run_report

from .state import DatabaseUnavailable, WebState

T = TypeVar("T")

# Failures that say "PostgreSQL is not there (yet)", not "this request is wrong".
_UNAVAILABLE = (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
                asyncpg.TooManyConnectionsError, asyncpg.QueryCanceledError, asyncpg.InvalidCatalogNameError,
                asyncpg.UndefinedTableError, asyncpg.InterfaceError)


class ReportParameterError(ValueError):
    """A report refused the parameters it was given (a bad date or number in `params`)."""


def report_specs() -> list[ReportSpec]:
    """Every registered report (reporting.reports registers them all when imported), by name."""
    return sorted(REGISTRY.values(), key=lambda s: s.name)


async def in_snapshot(state: WebState, work: Callable[[asyncpg.Connection], Awaitable[T]],
                      query: ReportQuery | None = None) -> T:
    """`work(conn)` in one read-only repeatable-read transaction: every report it runs sees one snapshot."""
    if state.pool is None:
        raise DatabaseUnavailable("the database pool is not open")
    try:
        async with state.pool.acquire(timeout=5) as conn:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                return await work(conn)
    except _UNAVAILABLE as exc:
        raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}"[:200]) from exc
    except (ValueError, asyncpg.DataError) as exc:
        if query is None or not query.params:  # without caller-supplied parameters: a bug, not a bad request
            raise
        raise ReportParameterError(f"a parameter was not accepted: {exc}"[:300]) from exc


async def run_reports(state: WebState, names: Sequence[str], query: ReportQuery) -> list[ReportTable]:
    """Run `names` for one council in one snapshot (UnknownReport for a name not registered); each parameter
    goes to the reports that take it, and one that none takes is refused (ReportParameterError)."""
    async def run_all(conn: asyncpg.Connection) -> list[ReportTable]:
        check_params_of(names, query)
        return [await run_report(conn, name, query, only_its_params=True) for name in names]

    return await in_snapshot(state, run_all, query)
