"""Shared helpers of the reporting web tests (test_reporting_web_*.py): a reporting database built with
the service's own migrations and seeded with projection rows for two councils, access keys for both
roles of both councils, and the HTTP app served by a real uvicorn server on a free local port.

The seeded figures are small and known, so tests can check them to the penny:
- C001: a budget of 10,000.00 agreed in March 2026; April 2026 private 600.00 + in-house 400.00 (external share 60%); May 2026 private 800.00 +
  charity 100.00 + in-house 100.00 (90%).
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
    """Projection rows as the projection consumer writes them: providers, a budget, approved invoices."""
    conn = await asyncpg.connect(dsn)
    try:
        offset = 0
        for council, providers in PROVIDERS.items():
            events = [(pid, "allocation.ProviderRegistered.v1", pid,
                       {"provider_id": pid, "name": f"Provider {pid}", "provider_type": ptype,
                        "effective_date": "2026-03-01"}) for pid, ptype in providers]
            budget_id, person_ref = BUDGETS[council]
            events.append((budget_id, "allocation.PersonalBudgetAgreed.v1", budget_id,
                           {"budget_id": budget_id, "person_ref": person_ref, "effective_date": "2026-03-01"}))
            for subject, etype, _, data in events:
                offset += 1
                await conn.execute(
                    """INSERT INTO rp_domain_events (event_id, content_hash, council_id, type, subject, effective_date,
                       recorded_at, topic, partition, "offset", data) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,0,$9,$10::jsonb)""",
                    _id(council, etype, subject), "h" * 64, council, etype, subject, date(2026, 3, 1),
                    datetime(2026, 3, 1, 9, tzinfo=UTC), "allocation.events.v1", offset, json.dumps(data))
            await _seed_journal(conn, council)
    finally:
        await conn.close()


async def _seed_journal(conn: asyncpg.Connection, council: str) -> None:
    """The budget's agreement (funding -> budget), then each approved invoice (committed -> payable),
    chained per shard as the ledger chains them (prev_hash = the previous entry's hash)."""
    budget_id = BUDGETS[council][0]
    agreed = (date(2026, 3, 1), "allocation.PersonalBudgetAgreed.v1",
              [f"{council}/funding/{budget_id}/council", f"{council}/budget/{budget_id}"], 1_000_000)
    invoices = [(day, APPROVED, [f"{council}/committed/{budget_id}", f"{council}/payable/{provider}"], pence)
                for day, provider, pence in INVOICES[council]]
    prev = "0" * 64
    for seq, (day, cause_type, accounts, pence) in enumerate([agreed, *invoices], start=1):
        digest = hashlib.sha256(f"{prev}|{council}|{seq}".encode()).hexdigest()
        await conn.execute(
            """INSERT INTO rp_entries (entry_id, council_id, shard, shard_seq, effective_date, recorded_at,
               cause_event_id, cause_type, rule_version, accounts, debits, credits, prev_hash, hash)
               VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'1',$9,$10,$11,$12,$13)""",
            _id(council, "entry", seq), council, f"{council}-in:0", seq, day,
            datetime.combine(day, datetime.min.time(), UTC).isoformat(),  # rp_entries keeps the ledger's ISO text
            _id(council, "cause", seq), cause_type,
            accounts, [pence, 0], [0, pence], prev, digest)
        prev = digest


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
