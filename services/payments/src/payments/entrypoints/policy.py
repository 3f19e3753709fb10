"""`python -m payments policy COUNCIL [KEY=JSON ...]`: show a council's policy, or change some of its
settings. The new policy is validated (PaymentsPolicy) before it is stored; commands decided after the
change use it."""
from __future__ import annotations

import sys

import asyncpg
import orjson

from ..adapters import repository
from ..config import Settings
from ..domain.policy import PaymentsPolicy, PolicyError


def parse_assignments(assignments: list[str]) -> dict:
    changes = {}
    for text in assignments:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise PolicyError(f"expected KEY=JSON, got {text!r}")
        try:
            changes[key] = orjson.loads(value)
        except orjson.JSONDecodeError:
            changes[key] = value  # a bare word such as gross
    return changes


async def run_policy(settings: Settings, council_id: str, assignments: list[str]) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        async with conn.transaction():
            current = await repository.policy(conn, council_id)
            if assignments:
                try:
                    current = PaymentsPolicy.from_mapping({**current.to_mapping(), **parse_assignments(assignments)})
                except (PolicyError, TypeError) as exc:
                    print(f"policy: {exc}", file=sys.stderr)
                    return 2
                await repository.save_policy(conn, council_id, current)
    finally:
        await conn.close()
    print(orjson.dumps({"council_id": council_id, **current.to_mapping()}, option=orjson.OPT_INDENT_2).decode())
    return 0
