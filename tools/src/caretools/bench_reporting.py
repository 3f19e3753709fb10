"""`make bench` (reporting part): replay of a large journal into fresh projections, and the two heaviest
reports over a million budgets, each against a naive baseline in the same run.

Method:
  1. A scratch ledger-shaped database (the ledger's own migrations: CHECK, triggers, indexes) is filled
     set-based with generate_series: five entries per budget (agreed, commissioned, invoice approved,
     DP instructed, DP settled), one council, 100 providers of every type. Reused when it already holds
     exactly the requested number of entries (--fresh-journal forces a new one).
  2. Replay (set-based): `reporting.service.rebuild.copy_journal`, the journal part of
     `python -m reporting rebuild --from journal`: binary COPY from the journal into fresh projections in
     checkpointed chunks, indexes made once at the end. Rate = entries / (copy + index) seconds.
  3. Replay (naive baseline): the first --baseline-entries journal rows read one by one and inserted one
     INSERT ... ON CONFLICT DO NOTHING per entry, each its own transaction (a per-event consumer).
  4. Reports: trial balance and spend by provider type (the real ReportSpecs), run twice each over the
     projection; naive baseline: fetch every journal line of the council and add up in Python. The
     figures of both must agree (the run fails otherwise).
Figures go to stdout and out/bench-reporting.json. Absolute numbers move with whatever else runs on the
machine; the set-based/naive ratio is the steadier figure.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import asyncpg
from careruntime.stackinfo import StackInfo
from reporting.config import Settings
from reporting.reports import ReportQuery, run_report
from reporting.service.progress import ProgressBar
from reporting.service.rebuild import RebuildResult, copy_journal

from . import localstack

COUNCIL = "E10000001"
PROVIDER_TYPES = ("in_house", "private", "charity", "social_enterprise", "mutual", "other_council", "nhs")
AS_OF = date(2027, 3, 31)
LEDGER_DB, PROJECTION_DB, NAIVE_DB = "bench_reporting_ledger", "bench_reporting", "bench_reporting_naive"

# Entry k (0..4) of budget b: which event caused it, which accounts it moves, how much, and when.
SYNTHESISE = f"""
INSERT INTO journal_entries (entry_id, shard, shard_seq, council_id, effective_date, recorded_at, cause_event_id,
                             cause_type, rule_version, accounts, debits, credits, prev_hash, hash)
SELECT 'bench:' || (b % 6) || ':' || g, 'bench:' || (b % 6), g, '{COUNCIL}', day, day::text || 'T12:00:00+00:00', 'ev-' || g,
       (ARRAY['allocation.PersonalBudgetAgreed.v1', 'allocation.ServiceOrderCommissioned.v1',
              'invoices.InvoiceApproved.v1', 'payments.PaymentInstructed.v1', 'payments.PaymentSettled.v1'])[k + 1],
       '2026.1',
       CASE k WHEN 0 THEN ARRAY['{COUNCIL}/funding/PB-' || b || '/council', '{COUNCIL}/budget/PB-' || b]
              WHEN 1 THEN ARRAY['{COUNCIL}/budget/PB-' || b, '{COUNCIL}/committed/PB-' || b]
              WHEN 2 THEN ARRAY['{COUNCIL}/committed/PB-' || b, '{COUNCIL}/payable/PR-' || (b % 100)]
              WHEN 3 THEN ARRAY['{COUNCIL}/budget/PB-' || b, '{COUNCIL}/pending/PB-' || b]
              ELSE ARRAY['{COUNCIL}/pending/PB-' || b, '{COUNCIL}/bank'] END,
       ARRAY[amount, 0::bigint], ARRAY[0::bigint, amount],
       md5(g::text) || md5((g - 1)::text), md5((g + 1)::text) || md5(g::text)
  FROM generate_series($1::bigint, $2::bigint) AS g,
       LATERAL (SELECT (g - 1) / 5 + 1 AS b, ((g - 1) % 5)::int AS k) AS bk,
       LATERAL (SELECT (1000000 + (b % 997) * 1000)::bigint AS agreed) AS a,
       LATERAL (SELECT CASE k WHEN 0 THEN agreed WHEN 1 THEN agreed * 6 / 10 WHEN 2 THEN agreed / 20
                              ELSE agreed / 50 END AS amount,
                       CASE WHEN k < 2 THEN date '2026-04-01' + (b % 28)::int
                            ELSE date '2026-05-01' + (b % 300)::int END AS day) AS x"""


async def ensure_journal(info: StackInfo, entries: int, fresh: bool) -> str:
    dsn = info.dsn(LEDGER_DB)
    if not fresh:
        try:
            conn = await asyncpg.connect(dsn)
            try:
                if await conn.fetchval("SELECT count(*) FROM journal_entries") == entries:
                    print(f"reusing the scratch journal of {entries:,} entries ({LEDGER_DB})")
                    return dsn
            finally:
                await conn.close()
        except (asyncpg.InvalidCatalogNameError, asyncpg.UndefinedTableError):
            pass
    dsn = await localstack.fresh_database(info, LEDGER_DB)
    conn = await asyncpg.connect(dsn)
    try:
        bar, step = ProgressBar("synthesise journal", entries), 500_000
        for start in range(1, entries + 1, step):
            await conn.execute(SYNTHESISE, start, min(start + step - 1, entries))
            bar.update(min(start + step - 1, entries))
        seconds = bar.finish()
        await conn.execute("ANALYZE journal_entries")
    finally:
        await conn.close()
    print(f"synthesised {entries:,} journal entries in {seconds:.0f} s")
    return dsn


async def add_providers(conn: asyncpg.Connection) -> None:
    rows = []
    for p in range(100):
        data = {"provider_id": f"PR-{p}", "name": f"Provider {p}", "provider_type": PROVIDER_TYPES[p % 7],
                "effective_date": "2026-03-01"}
        rows.append((f"bench-prov-{p}", "0" * 64, COUNCIL, "allocation.ProviderRegistered.v1", f"PR-{p}",
                     date(2026, 3, 1), date(2026, 3, 1), "bench", 0, p, json.dumps(data)))
    await conn.copy_records_to_table("rp_domain_events", records=rows)


async def replay_set_based(settings: Settings) -> dict:
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=4)
    try:
        result = RebuildResult("journal")
        await copy_journal(settings, pool, result, progress=True)
        async with pool.acquire() as conn:
            await add_providers(conn)
    finally:
        await pool.close()
    total_s = result.seconds["entries"] + result.seconds["indexes"]
    return {"entries": result.entries, "copy_s": round(result.seconds["entries"], 2),
            "index_s": round(result.seconds["indexes"], 2), "total_s": round(total_s, 2),
            "entries_per_s": round(result.entries / total_s)}


async def replay_naive(ledger_dsn: str, dsn: str, count: int) -> dict:
    ledger, conn = await asyncpg.connect(ledger_dsn), await asyncpg.connect(dsn)
    try:
        rows = await ledger.fetch(
            "SELECT entry_id, council_id, shard, shard_seq, effective_date, recorded_at, "
            "cause_event_id, cause_type, rule_version, reverses_entry_id, accounts, debits, credits, "
            "prev_hash::text, hash::text FROM journal_entries ORDER BY seq LIMIT $1", count)
        insert = ("INSERT INTO rp_entries VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
                  "ON CONFLICT DO NOTHING")
        started = time.perf_counter()
        for r in rows:
            await conn.execute(insert, *r.values())  # autocommit: one transaction per entry
        seconds = time.perf_counter() - started
    finally:
        await ledger.close()
        await conn.close()
    return {"entries": len(rows), "total_s": round(seconds, 2), "entries_per_s": round(len(rows) / seconds)}


async def timed_report(conn: asyncpg.Connection, name: str, query: ReportQuery) -> tuple[list[float], object]:
    times, table = [], None
    for _ in range(2):
        started = time.perf_counter()
        table = await run_report(conn, name, query, only_its_params=True)  # one query for both reports
        times.append(round(time.perf_counter() - started, 2))
    return times, table


async def naive_reports(conn: asyncpg.Connection) -> tuple[float, dict, dict]:
    """Every line of the council to the client, added up in Python: the trial balance by account group and
    provider spend (payable credits of invoice approvals, DP bank payments) by provider type."""
    types = {f"PR-{p}": PROVIDER_TYPES[p % 7] for p in range(100)}
    debit, credit = defaultdict(int), defaultdict(int)
    spend = defaultdict(int)
    started = time.perf_counter()
    async with conn.transaction():
        async for r in conn.cursor("SELECT cause_type, accounts, debits, credits FROM rp_entries "
                                   "WHERE council_id = $1 AND effective_date <= $2", COUNCIL, AS_OF, prefetch=20_000):
            for account, d, c in zip(r["accounts"], r["debits"], r["credits"]):
                parts = account.split("/")
                group = f"funding/{parts[3]}" if parts[1] == "funding" else parts[1]
                debit[group] += d
                credit[group] += c
                if parts[1] == "payable" and r["cause_type"] == "invoices.InvoiceApproved.v1":
                    spend[types.get(parts[2], "unknown")] += c - d
                elif parts[1] == "bank" and r["cause_type"] == "payments.PaymentSettled.v1":
                    spend["direct_payment"] += c - d
    seconds = time.perf_counter() - started
    return round(seconds, 2), {g: (debit[g], credit[g]) for g in debit}, dict(spend)


async def run(entries: int, baseline_entries: int, fresh_journal: bool) -> dict:
    started_stack = not localstack.stack_running()
    if started_stack:
        print("starting the local stack ...", flush=True)
        localstack.stack_up()
    info = StackInfo.from_env(localstack.REPO)
    try:
        ledger_dsn = await ensure_journal(info, entries, fresh_journal)
        dsn = await localstack.fresh_database(info, PROJECTION_DB, "reporting")
        settings = Settings(database_url=dsn, ledger_database_url=ledger_dsn, kafka_bootstrap=info.bootstrap)
        print(f"replay (set-based) of {entries:,} entries ...", flush=True)
        replay = await replay_set_based(settings)
        print(f"replay (naive, one INSERT and transaction per entry) of {baseline_entries:,} entries ...", flush=True)
        naive = await replay_naive(ledger_dsn, await localstack.fresh_database(info, NAIVE_DB, "reporting"), baseline_entries)
        conn = await asyncpg.connect(dsn)
        try:
            query = ReportQuery(COUNCIL, AS_OF, params={"period": "year"})
            tb_times, tb = await timed_report(conn, "trial_balance", query)
            sp_times, sp = await timed_report(conn, "provider_type_spend", query)
            naive_s, naive_tb, naive_spend = await naive_reports(conn)
        finally:
            await conn.close()
        set_tb = {r[0]: (r[2], r[3]) for r in tb.rows if r[0] != "TOTAL"}
        set_spend = {r[1]: r[3] for r in sp.rows if r[1] != "ALL"}
        agree = set_tb == naive_tb and set_spend == naive_spend
        budgets = entries // 5
        return {
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                        "load_average_at_end": [round(x, 1) for x in os.getloadavg()]},
            "journal_entries": entries, "budgets": budgets,
            "replay_set_based": replay, "replay_naive": naive,
            "replay_speedup": round(replay["entries_per_s"] / naive["entries_per_s"], 1),
            "trial_balance_s": tb_times, "provider_type_spend_s": sp_times,
            "naive_both_reports_s": naive_s, "figures_agree": agree,
            "targets": {"replay_entries_per_s": 250_000, "report_s": 10},
        }
    finally:
        if started_stack:
            localstack.stack_down()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5_000_000, help="journal entries (5 per budget)")
    parser.add_argument("--baseline-entries", type=int, default=20_000)
    parser.add_argument("--fresh-journal", action="store_true", help="synthesise the scratch journal again")
    parser.add_argument("--json", default=str(localstack.REPO / "out" / "bench-reporting.json"))
    args = parser.parse_args()
    figures = asyncio.run(run(args.entries, args.baseline_entries, args.fresh_journal))
    r, n = figures["replay_set_based"], figures["replay_naive"]
    print(f"\nreplay set-based: {r['entries']:,} entries in {r['total_s']} s (copy {r['copy_s']} s + indexes "
          f"{r['index_s']} s) = {r['entries_per_s']:,} entries/s (target >= 250,000)")
    print(f"replay naive:     {n['entries']:,} entries in {n['total_s']} s = {n['entries_per_s']:,} entries/s "
          f"(set-based is {figures['replay_speedup']}x)")
    print(f"trial balance over {figures['budgets']:,} budgets: {figures['trial_balance_s']} s (two runs; target < 10 s)")
    print(f"spend by provider type:          {figures['provider_type_spend_s']} s (two runs; target < 10 s)")
    print(f"naive baseline, both reports in Python: {figures['naive_both_reports_s']} s; "
          f"figures agree: {figures['figures_agree']}")
    print(f"machine: {figures['machine']['cpus']} CPUs, load average {figures['machine']['load_average_at_end']} "
          "(other work on the machine slows every figure)")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {out}")
    return 0 if figures["figures_agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
