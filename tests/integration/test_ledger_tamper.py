"""Tamper evidence of the journal: what the database refuses, and what `python -m ledger verify` catches.

A small year is posted once per module by the ledger's own composition root (bootstrap.build_worker:
a real BatchConsumer on the real broker, LedgerIngest, the asyncpg repository), in process. Every test
then gets its own copy of that database (CREATE DATABASE ... TEMPLATE), so tampering never leaks.
"""
from __future__ import annotations

import asyncio
import os
import sys
from datetime import date

import asyncpg
import pytest
import pytest_asyncio
from ledger.bootstrap import build_worker
from ledger.config import Settings
from ledger.domain import chain

from .ledger_harness import (
    ALLOCATION,
    ENTRIES,
    PAYMENTS,
    connect,
    database_copy,
    journal,
    module_deployment,
    processed,
    produce,
)

pytestmark = [pytest.mark.integration]

COUNCIL = "E10000099"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def template_db(stack, tmp_path_factory):
    """Name of a database holding a small posted journal (no connections left open to it)."""
    from caretools import localstack
    from caretools.generator import generate

    async with module_deployment(stack, tmp_path_factory.mktemp("ledger-tamper")) as run:
        await produce(stack, generate(people=4, seed=1, council_id=COUNCIL), run.names)
        settings = Settings(kafka_bootstrap=stack.bootstrap, database_url=run.dsn, group_id=run.group,
                            budget_topics=[run.names[ALLOCATION]], other_topics=[run.names[PAYMENTS]],
                            entries_topic=run.names[ENTRIES], max_defer_seconds=5)
        worker = await build_worker(settings)
        task = asyncio.create_task(worker.consumer.run())
        try:
            await localstack.wait_consumed(run.dsn, run.group, await run.end_offsets(), 60, outbox_empty=False)
        finally:
            worker.consumer.request_stop()
            await asyncio.wait_for(task, 30)
            await worker.pool.close()
        conn = await connect(run.dsn)
        try:
            assert await conn.fetchval("SELECT count(*) FROM journal_entries") > 100
            assert await conn.fetchval("SELECT count(DISTINCT shard) FROM journal_entries") >= 3
        finally:
            await conn.close()
        yield run.dsn.rsplit("/", 1)[1]


@pytest.fixture
async def dsn(stack, template_db):
    async with database_copy(stack, template_db, "t_ledger_tamper") as copy:
        yield copy


@pytest.fixture
async def conn(dsn):
    connection = await connect(dsn)
    yield connection
    await connection.close()


async def ledger_verify(dsn: str) -> tuple[int, str]:
    """`python -m ledger verify` against `dsn`: (exit code, output)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ledger", "verify", env={**os.environ, "LEDGER_DATABASE_URL": dsn},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode()


async def behind_the_triggers(conn, *statements: tuple) -> None:
    """Run statements with the append-only triggers off, as a superuser could, then switch them on."""
    async with conn.transaction():
        await conn.execute("ALTER TABLE journal_entries DISABLE TRIGGER USER")
        for sql, *args in statements:
            await conn.execute(sql, *args)
        await conn.execute("ALTER TABLE journal_entries ENABLE TRIGGER USER")


async def a_two_line_entry_with_a_successor(conn):
    return await conn.fetchrow(
        """SELECT e.* FROM journal_entries e
            WHERE cardinality(e.accounts) = 2
              AND EXISTS (SELECT 1 FROM journal_entries n WHERE n.shard = e.shard AND n.shard_seq = e.shard_seq + 1)
            ORDER BY e.seq LIMIT 1""")


def moved(entry, pence: int) -> tuple[list[int], list[int]]:
    """The entry's lines with `pence` more on both the debit and the credit side: still balanced."""
    debits, credits = list(entry["debits"]), list(entry["credits"])
    debits[next(i for i, d in enumerate(debits) if d > 0)] += pence
    credits[next(i for i, c in enumerate(credits) if c > 0)] += pence
    return debits, credits


def rehash(entry, debits, credits) -> str:
    text = chain.canonical(entry["entry_id"], entry["effective_date"].isoformat(), entry["recorded_at"],
                           entry["cause_event_id"], entry["cause_type"], entry["rule_version"],
                           entry["reverses_entry_id"], zip(entry["accounts"], debits, credits))
    return chain.link(entry["prev_hash"], text)


# -- what the database refuses ---------------------------------------------------------------------------

JOURNAL_CHANGES = {
    "UPDATE": "UPDATE journal_entries SET debits = debits, credits = credits WHERE seq = (SELECT min(seq) FROM journal_entries)",
    "UPDATE all": "UPDATE journal_entries SET effective_date = effective_date + 1",
    "DELETE": "DELETE FROM journal_entries WHERE seq = (SELECT max(seq) FROM journal_entries)",
    "TRUNCATE": "TRUNCATE journal_entries",
    "TRUNCATE CASCADE": "TRUNCATE journal_entries CASCADE",
}


@pytest.mark.parametrize("change", list(JOURNAL_CHANGES))
async def test_the_database_refuses_to_change_the_journal(conn, change):
    before = await journal(conn)
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError) as refused:
        await conn.execute(JOURNAL_CHANGES[change])
    op = change.split()[0]
    assert str(refused.value) == f"the journal is append-only: {op} on journal_entries is refused"
    assert await journal(conn) == before


PROCESSED_CHANGES = {
    "UPDATE": "UPDATE processed_events SET outcome = 'noted', reason_code = NULL WHERE outcome = 'posted'",
    "DELETE": "DELETE FROM processed_events WHERE event_id = (SELECT min(event_id) FROM processed_events)",
}


@pytest.mark.parametrize("change", list(PROCESSED_CHANGES))
async def test_the_database_refuses_to_change_the_outcome_log(conn, change):
    before = await processed(conn)
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError) as refused:
        await conn.execute(PROCESSED_CHANGES[change])
    assert str(refused.value) == f"the journal is append-only: {change} on processed_events is refused"
    assert await processed(conn) == before


async def test_the_database_refuses_to_truncate_the_outcome_log(conn):
    try:
        await conn.execute("TRUNCATE processed_events")
    except asyncpg.exceptions.InsufficientPrivilegeError:
        return
    raise AssertionError("TRUNCATE processed_events was accepted")


async def test_verify_catches_a_truncated_outcome_log(dsn, conn):
    # refused normally (see the test above); a superuser can still disable the trigger first
    await conn.execute("ALTER TABLE processed_events DISABLE TRIGGER USER")
    await conn.execute("TRUNCATE processed_events")
    await conn.execute("ALTER TABLE processed_events ENABLE TRIGGER USER")
    code, out = await ledger_verify(dsn)
    assert code == 1 and "events marked posted but" in out, out


UNBALANCED = {  # accounts, debits, credits
    "debits exceed credits": (["a", "b"], [100, 0], [0, 99]),
    "credits exceed debits": (["a", "b", "c"], [100, 0, 0], [0, 60, 41]),
    "a single line": (["a"], [100], [100]),
    "a line with both sides": (["a", "b"], [100, 0], [100, 0]),
    "a line with neither side": (["a", "b", "c"], [100, 0, 0], [0, 100, 0]),
    "negative amounts": (["a", "b"], [-100, 0], [0, -100]),
    "arrays of different lengths": (["a", "b"], [100, 0, 0], [0, 100]),
    "no lines": ([], [], []),
}
NULL_LINES = {  # the CHECK is NULL (so it passes) when an element is NULL
    "NULL debits": (["a", "b"], [None, None], [0, 100]),
    "NULL amounts on both sides": (["a", "b"], [100, None], [None, 100]),
    "a NULL account": (["a", None], [100, 0], [0, 100]),
}
@pytest.mark.parametrize("lines", [*UNBALANCED, *NULL_LINES])
async def test_the_database_refuses_an_unbalanced_entry(conn, lines):
    accounts, debits, credits = {**UNBALANCED, **NULL_LINES}[lines]
    shard, seq, head = await conn.fetchrow("SELECT shard, shard_seq, hash FROM shard_heads ORDER BY shard LIMIT 1")
    try:
        await conn.execute(
            """INSERT INTO journal_entries (entry_id, shard, shard_seq, council_id, effective_date, recorded_at,
                   cause_event_id, cause_type, rule_version, accounts, debits, credits, prev_hash, hash)
               VALUES ($1, $2, $3, $4, '2026-04-01', '2026-04-01T12:00:00+00:00', 'forged', 'payments.PaymentSettled.v1',
                       '2026.1', $5, $6, $7, $8, $8)""",
            f"{shard}:{seq + 1}", shard, seq + 1, COUNCIL, accounts, debits, credits, head)
    except asyncpg.exceptions.CheckViolationError as refused:
        assert refused.constraint_name == "entry_balances"
        return
    raise AssertionError(f"an unbalanced entry was accepted: {accounts} {debits} {credits}")


@pytest.mark.parametrize("entry_id", ["{shard}:{next_seq}0", "{shard}:1", "other:{next_seq}"])
async def test_the_database_refuses_an_entry_id_that_is_not_its_shard_and_seq(conn, entry_id):
    """Entry ids are unique because each is `<shard>:<shard_seq>` (migration 0009), whatever else it is."""
    shard, seq, head = await conn.fetchrow("SELECT shard, shard_seq, hash FROM shard_heads ORDER BY shard LIMIT 1")
    with pytest.raises(asyncpg.exceptions.CheckViolationError) as refused:
        await conn.execute(
            """INSERT INTO journal_entries (entry_id, shard, shard_seq, council_id, effective_date, recorded_at,
                   cause_event_id, cause_type, rule_version, accounts, debits, credits, prev_hash, hash)
               VALUES ($1, $2, $3, $4, '2026-04-01', '2026-04-01T12:00:00+00:00', 'forged', 'payments.PaymentSettled.v1',
                       '2026.1', '{a,b}', '{100,0}', '{0,100}', $5, $5)""",
            entry_id.format(shard=shard, next_seq=seq + 1), shard, seq + 1, COUNCIL, head)
    assert refused.value.constraint_name == "entry_id_is_shard_and_seq"


# -- what `ledger verify` catches ----------------------------------------------------------------------

async def test_verify_passes_the_clean_journal(dsn, conn):
    entries = await conn.fetchval("SELECT count(*) FROM journal_entries")
    shards = await conn.fetchval("SELECT count(*) FROM shard_heads")
    code, out = await ledger_verify(dsn)
    assert code == 0, out
    assert out.strip() == f"verify: OK ({entries} entries in {shards} shard chains)"


async def test_verify_catches_a_balanced_edit_of_an_entry_by_its_hash(dsn, conn):
    entry = await a_two_line_entry_with_a_successor(conn)
    debits, credits = moved(entry, 100)
    # The forger also moves the balances, so only the hash chain can tell.
    deltas = {a: (d - od) - (c - oc) for a, d, c, od, oc
              in zip(entry["accounts"], debits, credits, entry["debits"], entry["credits"])}
    await behind_the_triggers(conn, ("UPDATE journal_entries SET debits = $1, credits = $2 WHERE seq = $3",
                                     debits, credits, entry["seq"]))
    for account, delta in deltas.items():
        await conn.execute("UPDATE accounts SET balance_pence = balance_pence + $1 WHERE account = $2", delta, account)

    code, out = await ledger_verify(dsn)
    assert code == 1, out
    assert out.startswith("verify: FAILED")
    assert f"  - {entry['entry_id']}: hash does not match its content" in out.splitlines()
    assert "balance" not in out  # the balances were made to agree: the chain alone caught it

    # Put it back: verify is happy again, so what it reported was exactly this edit.
    await behind_the_triggers(conn, ("UPDATE journal_entries SET debits = $1, credits = $2 WHERE seq = $3",
                                     entry["debits"], entry["credits"], entry["seq"]))
    for account, delta in deltas.items():
        await conn.execute("UPDATE accounts SET balance_pence = balance_pence - $1 WHERE account = $2", delta, account)
    code, out = await ledger_verify(dsn)
    assert code == 0, out


async def test_verify_catches_an_edit_whose_hash_was_recomputed_by_the_next_link(dsn, conn):
    entry = await a_two_line_entry_with_a_successor(conn)
    successor = await conn.fetchval("SELECT entry_id FROM journal_entries WHERE shard = $1 AND shard_seq = $2",
                                    entry["shard"], entry["shard_seq"] + 1)
    debits, credits = moved(entry, 100)
    new_hash = rehash(entry, debits, credits)
    assert rehash(entry, entry["debits"], entry["credits"]) == entry["hash"]  # the recipe is the ledger's
    await behind_the_triggers(conn, ("UPDATE journal_entries SET debits = $1, credits = $2, hash = $3 WHERE seq = $4",
                                     debits, credits, new_hash, entry["seq"]))
    code, out = await ledger_verify(dsn)
    assert code == 1, out
    problems = out.splitlines()
    assert f"  - {successor}: prev_hash does not match the previous entry's hash" in problems
    assert f"  - {entry['entry_id']}: hash does not match its content" not in problems


async def test_verify_catches_a_changed_balance(dsn, conn):
    account, balance = await conn.fetchrow(
        "SELECT account, balance_pence FROM accounts WHERE balance_pence <> 0 ORDER BY account LIMIT 1")
    await conn.execute("UPDATE accounts SET balance_pence = balance_pence + 1 WHERE account = $1", account)
    code, out = await ledger_verify(dsn)
    assert code == 1, out
    problems = out.splitlines()
    assert f"  - account {account}: balance {balance + 1} but journal says {balance}" in problems
    assert "  - trial balance does not sum to zero: 1" in problems


async def test_verify_catches_an_entry_deleted_behind_the_triggers(dsn, conn):
    entry = await a_two_line_entry_with_a_successor(conn)
    await behind_the_triggers(conn, ("DELETE FROM journal_entries WHERE seq = $1", entry["seq"]))
    code, out = await ledger_verify(dsn)
    assert code == 1, out
    assert f"  - {entry['shard']}: gap, expected seq {entry['shard_seq']}, found {entry['shard_seq'] + 1}" in out.splitlines()


async def test_verify_catches_a_forged_entry_that_passes_the_check(dsn, conn):
    """INSERT is allowed (append-only), and a balanced forgery with a correctly chained hash passes the
    CHECK and the chain itself; the stored shard head, the balances and the outcome log still expose it."""
    shard, seq, head = await conn.fetchrow("SELECT shard, shard_seq, hash FROM shard_heads ORDER BY shard LIMIT 1")
    account = await conn.fetchval("SELECT account FROM accounts WHERE kind = 'budget' ORDER BY account LIMIT 1")
    forged = {"entry_id": f"{shard}:{seq + 1}", "effective_date": date(2026, 4, 1),
              "recorded_at": "2026-04-01T12:00:00+00:00", "cause_event_id": "forged",
              "cause_type": "payments.PaymentSettled.v1", "rule_version": "2026.1", "reverses_entry_id": None,
              "accounts": [account, f"{COUNCIL}/bank"], "prev_hash": head}
    digest = rehash(forged, [500, 0], [0, 500])
    await conn.execute(
        """INSERT INTO journal_entries (entry_id, shard, shard_seq, council_id, effective_date, recorded_at,
               cause_event_id, cause_type, rule_version, accounts, debits, credits, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '{500,0}', '{0,500}', $11, $12)""",
        forged["entry_id"], shard, seq + 1, COUNCIL, forged["effective_date"], forged["recorded_at"],
        forged["cause_event_id"], forged["cause_type"], forged["rule_version"], forged["accounts"], head, digest)
    code, out = await ledger_verify(dsn)
    assert code == 1, out
    problems = out.splitlines()
    assert not any("hash does not match" in p or "prev_hash" in p for p in problems), out  # a well-made forgery
    assert any(p.startswith(f"  - {shard}: stored head ({seq}, ") for p in problems), out
    assert f"  - account {account}: balance {await balance(conn, account)} but journal says " \
           f"{await balance(conn, account) + 500}" in problems
    assert any("events marked posted but" in p for p in problems), out


async def balance(conn, account: str) -> int:
    return await conn.fetchval("SELECT balance_pence FROM accounts WHERE account = $1", account)
