"""`python -m <service> policy COUNCIL [KEY=JSON ...]`, shared by the services that keep per-council
settings as data: show a council's policy, or change some of its settings in one transaction.

Each service brings its own policy type (with `from_mapping`, `to_mapping`, raising its own error on a
bad value) and its repository's load/save; this module owns only the command-line plumbing.
"""
from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import asyncpg
import orjson

from .cli_args import DATABASE_UNREACHABLE, UNREACHABLE, unreachable


class Policy(Protocol):
    def to_mapping(self) -> dict[str, Any]: ...


def parse_assignments(assignments: list[str], error: type[Exception] = ValueError) -> dict[str, Any]:
    """KEY=JSON pairs as a dict; a value that is not JSON is taken as a bare word (e.g. gross)."""
    changes: dict[str, Any] = {}
    for text in assignments:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise error(f"expected KEY=JSON, got {text!r}")
        try:
            changes[key] = orjson.loads(value)
        except orjson.JSONDecodeError:
            changes[key] = value
    return changes


async def run_policy(database_url: str, council_id: str, assignments: list[str], *,
                     load: Callable[[asyncpg.Connection, str], Awaitable[Policy]],
                     save: Callable[[asyncpg.Connection, str, Any], Awaitable[None]],
                     from_mapping: Callable[[dict[str, Any]], Policy],
                     error: type[Exception]) -> int:
    """Print the council's policy after applying `assignments` (validated by `from_mapping` before it is
    stored); exit status 2 and nothing stored when a setting is refused, 3 when the database is unreachable."""
    try:
        changes = parse_assignments(assignments, error)
    except error as exc:
        print(f"policy: {exc}", file=sys.stderr)
        return 2
    try:
        conn = await asyncpg.connect(database_url)
    except DATABASE_UNREACHABLE as exc:
        print(unreachable("policy", exc), file=sys.stderr)
        return UNREACHABLE
    try:
        async with conn.transaction():
            current = await load(conn, council_id)
            if changes:
                try:
                    current = from_mapping({**current.to_mapping(), **changes})
                except (error, TypeError) as exc:
                    print(f"policy: {exc}", file=sys.stderr)
                    return 2
                await save(conn, council_id, current)
    finally:
        await conn.close()
    print(orjson.dumps({"council_id": council_id, **current.to_mapping()}, option=orjson.OPT_INDENT_2).decode())
    return 0
