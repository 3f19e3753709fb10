"""Property: the projections, however built, give the figures of a from-scratch recomputation over the
journal. Hypothesis draws journals (two councils, budgets, providers, balanced entries with effective dates
and recorded times that disagree in order) and a point in time; the journal goes into a ledger-shaped
database; the projection is built both by the set-based journal copy and by the projection consumer's
handler (fed the same entries as EntryPosted events); the trial balance and the budget statement of each
must equal the same figures added up in Python straight from the drawn entries."""
from __future__ import annotations

import asyncio
import types
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import asyncpg
import orjson
from aiokafka.structs import TopicPartition
from careruntime.codec import decode
from careruntime.migrate import migrate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reporting.config import MIGRATIONS_DIR, Settings
from reporting.reports import ReportQuery, run_report
from reporting.service.project import ProjectionHandler
from reporting.service.rebuild import RebuildResult, copy_journal

from .ledger_harness import drop_database

COUNCILS = ("C1", "C2")
BUDGETS = ("B1", "B2", "B3")
DAY0, T0 = date(2026, 4, 1), datetime(2026, 4, 1, 9, tzinfo=timezone.utc)
CAUSES = ("allocation.PersonalBudgetAgreed.v1", "payments.PaymentInstructed.v1", "payments.PaymentSettled.v1",
          "payments.PaymentReturned.v1", "invoices.InvoiceApproved.v1")
ACCOUNTS = ([f"funding/{b}/{s}" for b in BUDGETS for s in ("council", "icb", "contribution")]
            + [f"{k}/{b}" for k in ("budget", "committed", "pending") for b in BUDGETS]
            + ["payable/P1", "pending/P1", "bank", "recovered"])


@st.composite
def entry(draw):
    pairs = draw(st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from(ACCOUNTS),
                                    st.integers(1, 10**9)), min_size=1, max_size=2))
    lines = [(d, amt, 0) for d, _, amt in pairs] + [(c, 0, amt) for _, c, amt in pairs]
    return {"council": draw(st.sampled_from(COUNCILS)), "day": DAY0 + timedelta(days=draw(st.integers(0, 60))),
            "at": T0 + timedelta(minutes=draw(st.integers(0, 100_000))), "cause": draw(st.sampled_from(CAUSES)),
            "lines": lines}


def expected(entries, query: ReportQuery):
    scope = [e for e in entries if e["council"] == query.council_id and e["day"] <= query.as_of
             and (query.known_at is None or e["at"] <= query.known_at)]
    groups = defaultdict(lambda: [0, 0])
    per_budget = defaultdict(lambda: defaultdict(int))
    for e in scope:
        for account, d, c in e["lines"]:
            kind, *rest = account.split("/")
            groups[f"funding/{rest[1]}" if kind == "funding" else kind][0] += d
            groups[f"funding/{rest[1]}" if kind == "funding" else kind][1] += c
            if rest and rest[0] in BUDGETS:
                key = "contribution" if kind == "funding" and rest[1] == "contribution" else kind
                per_budget[rest[0]][kind] += d - c
                if key == "contribution":
                    per_budget[rest[0]]["contribution"] += d - c
        if e["cause"] in ("payments.PaymentSettled.v1", "payments.PaymentReturned.v1"):
            owners = [a.split("/")[1] for a, _, _ in e["lines"] if a.startswith("pending/")]
            bank = [c - d for a, d, c in e["lines"] if a == "bank"]
            if owners and bank and max(owners) in BUDGETS:
                per_budget[max(owners)]["paid"] += sum(bank)
    trial = sorted((g, v[0], v[1], v[0] - v[1]) for g, v in groups.items())
    statement = []
    for b in sorted(per_budget):
        m = per_budget[b]
        if not any(a.startswith(f"funding/{b}/") for e in scope for a, _, _ in e["lines"]):
            continue
        agreed, committed, balance = m["funding"], -m["committed"], -m["budget"]
        statement.append((b, agreed, m["contribution"], committed, agreed - balance - committed, m["paid"],
                          -m["pending"], balance))
    return trial, statement


def actual(trial_table, statement_table):
    trial = sorted((r[0], r[2], r[3], r[4]) for r in trial_table.rows if r[0] != "TOTAL")
    statement = [(r[0], *r[2:]) for r in statement_table.rows]
    return trial, statement


def full_account(council: str, account: str) -> str:
    return f"{council}/{account}"


def journal_rows(entries):
    rows = []
    for n, e in enumerate(entries, 1):
        accounts = [full_account(e["council"], a) for a, _, _ in e["lines"]]
        rows.append((f"s:0:{n}", "s:0", n, e["council"], e["day"], e["at"].isoformat(), f"ev-{n}", e["cause"], "2026.1",
                     None, accounts, [d for _, d, _ in e["lines"]], [c for _, _, c in e["lines"]],
                     f"{n - 1:064d}", f"{n:064d}"))
    return rows


def entry_posted(n: int, e: dict):
    lines = [{"account": full_account(e["council"], a), "debit_pence": d, "credit_pence": c} for a, d, c in e["lines"]]
    data = {"entry_id": f"s:0:{n}", "shard": "s:0", "shard_seq": n, "effective_date": e["day"].isoformat(),
            "recorded_at": e["at"].isoformat(), "cause_event_id": f"ev-{n}", "cause_type": e["cause"],
            "rule_version": "2026.1", "lines": lines, "reverses_entry_id": None, "prev_hash": f"{n - 1:064d}",
            "hash": f"{n:064d}"}
    envelope = {"specversion": "1.0", "id": f"E{n:064d}", "source": "urn:test", "type": "ledger.EntryPosted.v1",
                "time": e["at"].isoformat(), "subject": "s:0", "datacontenttype": "application/json",
                "councilid": e["council"], "correlationid": f"c-{n}", "data": data}
    return types.SimpleNamespace(offset=n), decode(orjson.dumps(envelope))


JOURNAL_COLUMNS = ["entry_id", "shard", "shard_seq", "council_id", "effective_date", "recorded_at", "cause_event_id",
                   "cause_type", "rule_version", "reverses_entry_id", "accounts", "debits", "credits", "prev_hash",
                   "hash"]


async def one_example(ledger_dsn, journal_dsn, handler_dsn, entries, query) -> None:
    ledger = await asyncpg.connect(ledger_dsn)
    try:
        await ledger.execute("TRUNCATE journal_entries RESTART IDENTITY")
        await ledger.copy_records_to_table("journal_entries", records=journal_rows(entries), columns=JOURNAL_COLUMNS)
    finally:
        await ledger.close()
    pool = await asyncpg.create_pool(journal_dsn, min_size=1, max_size=2)
    try:
        await copy_journal(Settings(database_url=journal_dsn, ledger_database_url=ledger_dsn), pool,
                           RebuildResult("journal"), progress=False, chunk=7)
    finally:
        await pool.close()
    conn = await asyncpg.connect(handler_dsn)
    try:
        await conn.execute("TRUNCATE rp_entries")
        batch = {TopicPartition("ledger.entries.v1", 0): [entry_posted(n, e) for n, e in enumerate(entries, 1)]}
        async with conn.transaction():
            await ProjectionHandler("ledger.entries.v1").handle(conn, batch, {})
            await ProjectionHandler("ledger.entries.v1").handle(conn, batch, {})  # redelivered: no change
    finally:
        await conn.close()
    want = expected(entries, query)
    for dsn in (journal_dsn, handler_dsn):
        conn = await asyncpg.connect(dsn)
        try:
            got = actual(await run_report(conn, "trial_balance", query), await run_report(conn, "budget_statement", query))
        finally:
            await conn.close()
        assert got == want, dsn


async def make_databases(stack) -> list[str]:
    names = [f"t_reporting_prop_{i}_{asyncio.get_running_loop().time():.0f}".replace(".", "") for i in range(3)]
    admin = await asyncpg.connect(stack.dsn("postgres"))
    try:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    await asyncio.to_thread(migrate, stack.dsn(names[0]), stack.repo_root / "services" / "ledger" / "migrations")
    conn = await asyncpg.connect(stack.dsn(names[0]))
    try:  # a scratch ledger-shaped database: each example starts from an empty journal
        await conn.execute("ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_no_truncate")
    finally:
        await conn.close()
    for name in names[1:]:
        await asyncio.to_thread(migrate, stack.dsn(name), MIGRATIONS_DIR)
    return names


def test_projected_figures_equal_a_recomputation_over_the_journal(stack):
    names = asyncio.run(make_databases(stack))
    dsns = [stack.dsn(n) for n in names]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(entries=st.lists(entry(), min_size=1, max_size=25), council=st.sampled_from(COUNCILS),
           as_of=st.integers(0, 70).map(lambda d: DAY0 + timedelta(days=d)),
           known_at=st.none() | st.integers(0, 100_000).map(lambda m: T0 + timedelta(minutes=m)))
    def check(entries, council, as_of, known_at):
        asyncio.run(one_example(*dsns, entries, ReportQuery(council, as_of, known_at)))

    try:
        check()
    finally:
        async def drop():
            for name in names:
                await drop_database(stack, name)
        asyncio.run(drop())
