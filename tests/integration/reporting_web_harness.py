"""Shared helpers of the reporting web tests (test_reporting_web_*.py): a reporting database built with
the service's own migrations and seeded with projection rows for two councils, access keys for both
roles of both councils, and the HTTP app served by a real uvicorn server on a free local port.

The seeded figures are small and known, so tests can check them to the penny:
- C001: a budget of 10,000.00 agreed in March 2026; April 2026 private 600.00 + in-house 400.00
  (external share 60%); May 2026 private 800.00 + charity 100.00 + in-house 100.00 (90%).
- C002: April 2026 private 7,777.00 from a provider only C002 has (100%).
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import uvicorn
from reporting.adapters.store import insert_new
from reporting.adapters.wire import DOMAIN_COLUMNS, ENTRY_COLUMNS
from reporting.web.access import hash_key
from reporting.web.app import create_app
from reporting.web.config import ApiKey, WebSettings

COUNCILS = ("C001", "C002")
KEYS = {(c, role): f"test-key-{c.lower()}-{role}-0123456789" for c in COUNCILS for role in ("finance", "auditor")}
# Values that belong to one council only: they must never appear in the other council's answers.
MARKERS = {"C001": ("P-ONLY-C001-PRIV", "PR-C001-0001"), "C002": ("P-ONLY-C002-PRIV", "PR-C002-0001", "777700")}
APPROVED = "invoices.InvoiceApproved.v1"
PROVIDERS = {
    "C001": [("P-ONLY-C001-PRIV", "private"), ("P-C001-INH", "in_house"), ("P-C001-CHAR", "charity")],
    "C002": [("P-ONLY-C002-PRIV", "private")],
}
INVOICES = {  # council -> (effective date, provider, pence)
    "C001": [(date(2026, 4, 10), "P-ONLY-C001-PRIV", 60000), (date(2026, 4, 12), "P-C001-INH", 40000),
             (date(2026, 5, 10), "P-ONLY-C001-PRIV", 80000), (date(2026, 5, 11), "P-C001-CHAR", 10000),
             (date(2026, 5, 12), "P-C001-INH", 10000)],
    "C002": [(date(2026, 4, 15), "P-ONLY-C002-PRIV", 777700)],
}
BUDGETS = {"C001": ("PB-C001-1", "PR-C001-0001"), "C002": ("PB-C002-1", "PR-C002-0001")}


def api_keys() -> list[ApiKey]:
    return [ApiKey(key_sha256=hash_key(key), council_id=c, role=role, label=f"{c} {role} (tests)")
            for (c, role), key in KEYS.items()]


def bearer(council: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[(council, role)]}"}


def _id(*parts: object) -> str:
    return "E" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:24]


async def seed_reporting_db(dsn: str) -> None:
    """Projection rows written through the projection store (reporting.adapters.store.insert_new, the
    consumer's own idempotent writer): providers, a budget, its agreement and the approved invoices."""
    entries = [row for council in COUNCILS for row in _journal(council)]
    events = [row for council in COUNCILS for row in _domain_events(council)]
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await insert_new(conn, "rp_domain_events", [tuple(r[c] for c in DOMAIN_COLUMNS) for r in events])
            await insert_new(conn, "rp_entries", [tuple(r[c] for c in ENTRY_COLUMNS) for r in entries])
    finally:
        await conn.close()


def _domain_events(council: str) -> list[dict]:
    budget_id, person_ref = BUDGETS[council]
    facts = [("allocation.ProviderRegistered.v1", pid, {"provider_id": pid, "name": f"Provider {pid}",
                                                         "provider_type": ptype, "effective_date": "2026-03-01"})
             for pid, ptype in PROVIDERS[council]]
    facts.append(("allocation.PersonalBudgetAgreed.v1", budget_id,
                  {"budget_id": budget_id, "person_ref": person_ref, "effective_date": "2026-03-01"}))
    return domain_event_rows(council, facts)


def domain_event_rows(council: str, facts: list[tuple[str, str, dict]]) -> list[dict]:
    """Rows of rp_domain_events for (type, subject, data) facts, effective 1 March 2026."""
    return [{"event_id": _id(council, etype, subject), "content_hash": "h" * 64, "council_id": council,
             "type": etype, "subject": subject, "effective_date": date(2026, 3, 1),
             "recorded_at": datetime(2026, 3, 1, 9, tzinfo=UTC), "topic": "allocation.events.v1", "partition": 0,
             "offset": offset, "data": json.dumps(data)}
            for offset, (etype, subject, data) in enumerate(facts)]


async def insert_domain_events(dsn: str, council: str, facts: list[tuple[str, str, dict]]) -> None:
    """Add (type, subject, data) facts of one council to a reporting database, through the projection store."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            rows = domain_event_rows(council, facts)
            await insert_new(conn, "rp_domain_events", [tuple(r[c] for c in DOMAIN_COLUMNS) for r in rows])
    finally:
        await conn.close()


def _journal(council: str) -> list[dict]:
    """The budget's agreement (funding -> budget), then each approved invoice (committed -> payable),
    chained per shard as the ledger chains them (prev_hash = the previous entry's hash)."""
    budget_id = BUDGETS[council][0]
    agreed = (date(2026, 3, 1), "allocation.PersonalBudgetAgreed.v1",
              [f"{council}/funding/{budget_id}/council", f"{council}/budget/{budget_id}"], 1_000_000)
    invoices = [(day, APPROVED, [f"{council}/committed/{budget_id}", f"{council}/payable/{provider}"], pence)
                for day, provider, pence in INVOICES[council]]
    rows, prev = [], "0" * 64
    for seq, (day, cause_type, accounts, pence) in enumerate([agreed, *invoices], start=1):
        digest = hashlib.sha256(f"{prev}|{council}|{seq}".encode()).hexdigest()
        rows.append({"entry_id": _id(council, "entry", seq), "council_id": council, "shard": f"{council}-in:0",
                     "shard_seq": seq, "effective_date": day,
                     # as the ledger wrote the cause's recorded time: ISO 8601 text
                     "recorded_at": datetime.combine(day, datetime.min.time(), UTC).isoformat(),
                     "cause_event_id": _id(council, "cause", seq), "cause_type": cause_type, "rule_version": "1",
                     "reverses_entry_id": None, "accounts": accounts, "debits": [pence, 0], "credits": [0, pence],
                     "prev_hash": prev, "hash": digest})
        prev = digest
    return rows


def web_settings(dsn: str, pack_dir: Path, **overrides) -> WebSettings:
    return WebSettings(database_url=dsn, api_keys=api_keys(), audit_pack_dir=pack_dir, cookie_secure=False,
                       **overrides)


@contextlib.asynccontextmanager
async def running_server(settings: WebSettings) -> AsyncIterator[str]:
    """The app behind a real uvicorn server on 127.0.0.1 and a free port; yields the base URL."""
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    if not server.started:
        task.cancel()
        raise RuntimeError("uvicorn did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
