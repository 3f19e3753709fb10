"""The reporting stage of `make demo`: projections from the demo's ledger, the audit pack, headline figures.

`run_reporting_stage(info, ledger_dsn, topics, council_id)` is what demo.py calls once the ledger has
consumed the year: it makes a fresh projection database, rebuilds it from the ledger's journal (and the
domain topics), records `ledger verify`, rebuilds a second one from the topics alone and checks that every
report agrees between the two, then writes the audit pack (every report in CSV, JSON, XLSX, the HTML
page, a manifest and a zip) under out/ as at the year end. It returns the pack's path and headline figures.

Standalone, against a demo that already ran:
    python -m caretools.demo_reporting --ledger-db ledger_demo --prefix demo20261127120000. [--council E10000099]
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from datetime import date
from pathlib import Path

import asyncpg
from careruntime.stackinfo import StackInfo
from reporting.config import Settings
from reporting.reports import REGISTRY, ReportQuery, run_report
from reporting.service.audit_pack import build_audit_pack, headline
from reporting.service.ledger_sync import sync_ledger, sync_outcomes
from reporting.service.rebuild import rebuild_from_journal, rebuild_from_topics

from . import localstack

ENTRIES, ALLOCATION, PAYMENTS = "ledger.entries.v1", "allocation.events.v1", "payments.events.v1"


def year_end_covered(last_day: date) -> date:
    """The last 31 March on or before the last effective date: the latest financial year the data completes."""
    return date(last_day.year if (last_day.month, last_day.day) >= (3, 31) else last_day.year - 1, 3, 31)


async def _all_rows(dsn: str, query: ReportQuery) -> dict[str, tuple]:
    conn = await asyncpg.connect(dsn)
    try:
        return {name: (await run_report(conn, name, query)).rows for name in REGISTRY if name != "ledger_integrity"}
    finally:
        await conn.close()


async def run_reporting_stage(info: StackInfo, ledger_dsn: str, topics: dict[str, str], council_id: str,
                              out: Path | None = None, as_of: date | None = None, progress: bool = True,
                              database: str = "reporting_demo") -> dict:
    """Build the projections, check journal and topic rebuilds agree, write the audit pack; return figures."""
    out = out or localstack.REPO / "out"
    started = time.perf_counter()
    settings = Settings(kafka_bootstrap=info.bootstrap, ledger_database_url=ledger_dsn,
                        database_url=await localstack.fresh_database(info, database, "reporting"), group_id=f"reporting-demo-{int(time.time())}",
                        entries_topic=topics[ENTRIES], domain_topics=[topics[ALLOCATION], topics[PAYMENTS]])
    from_topics = settings.model_copy(update={"database_url": await localstack.fresh_database(info, database + "_topics", "reporting"),
                                              "group_id": settings.group_id + "-topics"})
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=4)
    tpool = await asyncpg.create_pool(from_topics.database_url, min_size=1, max_size=4)
    try:
        journal = await rebuild_from_journal(settings, pool, progress=progress)
        outcomes, check = await sync_ledger(ledger_dsn, pool)
        topic = await rebuild_from_topics(from_topics, tpool, progress=progress)
        await sync_outcomes(ledger_dsn, tpool)
        async with pool.acquire() as conn:
            if as_of is None:
                as_of = year_end_covered(await conn.fetchval(
                    "SELECT max(effective_date) FROM rp_entries WHERE council_id = $1", council_id) or date.today())
            query = ReportQuery(council_id, as_of)
            agree = await _all_rows(settings.database_url, query) == await _all_rows(from_topics.database_url, query)
            pack = await build_audit_pack(conn, query, out, extra_meta={
                "Rebuilt from": "ledger journal; checked against a rebuild from the topics",
                "Journal and topic rebuilds agree": "yes" if agree else "NO",
                "Ledger verify": "OK" if check.ok else "FAILED"})
    finally:
        await pool.close()
        await tpool.close()
    return {"audit_pack": str(pack.folder), "zip": str(pack.zip_path), "as_of": as_of.isoformat(),
            "headline": headline(pack), "journal_and_topics_agree": agree, "ledger_verify_ok": check.ok,
            "entries": journal.entries, "rejections": journal.rejections, "domain_events": journal.domain_events,
            "outcomes": outcomes, "journal_copy_entries_per_s": round(journal.entries_per_second),
            "topic_rebuild_s": round(topic.seconds.get("entries", 0.0), 1),
            "seconds": round(time.perf_counter() - started, 1)}


def render(figures: dict) -> str:
    lines = [f"reporting: audit pack as at {figures['as_of']}: {figures['audit_pack']} (zip: {figures['zip']})",
             f"  projections: {figures['entries']:,} entries, {figures['rejections']:,} rejections, "
             f"{figures['domain_events']:,} domain events; ledger verify {'OK' if figures['ledger_verify_ok'] else 'FAILED'}",
             f"  rebuild from the journal and from the topics agree on every report: "
             f"{'yes' if figures['journal_and_topics_agree'] else 'NO'}"]
    lines += [f"  {k}: {v}" for k, v in figures["headline"].items()]
    return "\n".join(lines)


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger-db", required=True, help="the demo's ledger database name, e.g. ledger_demo")
    parser.add_argument("--prefix", required=True, help="the demo's topic prefix, e.g. demo20261127120000.")
    parser.add_argument("--council", default="E10000099")
    parser.add_argument("--as-of", help="default: the last 31 March the journal reaches")
    args = parser.parse_args()
    info = StackInfo.from_env(localstack.REPO)
    topics = {t: args.prefix + t for t in (ENTRIES, ALLOCATION, PAYMENTS)}
    figures = asyncio.run(run_reporting_stage(info, info.dsn(args.ledger_db), topics, args.council,
                                              as_of=date.fromisoformat(args.as_of) if args.as_of else None))
    print(render(figures))
    return 0 if figures["journal_and_topics_agree"] and figures["ledger_verify_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
