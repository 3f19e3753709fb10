"""The demo's closing summary: entries, outcomes, rejections and dead letters by reason, the trial
balance by account kind, and the verify result, all read back from PostgreSQL and Kafka."""
from __future__ import annotations

from collections import Counter

import asyncpg
from aiokafka import AIOKafkaConsumer
from ledger.service.verify import verify

from .localstack import end_offsets


async def count_topic(bootstrap: str, topic: str, header: str | None = None) -> Counter:
    """Read a topic from the start to its current end; count records (by a header's value if given)."""
    ends = {tp: off for tp, off in (await end_offsets(bootstrap, [topic])).items() if off > 0}
    counts: Counter = Counter()
    if not ends:
        return counts
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        remaining = dict(ends)
        while remaining:
            for tp, records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).items():
                for r in records:
                    value = dict(r.headers).get(header, b"?").decode() if header else "records"
                    counts[value] += 1
            # positions, not last offsets: transaction markers take offsets that carry no record
            for tp in list(remaining):
                if await consumer.position(tp) >= remaining[tp]:
                    remaining.pop(tp)
    finally:
        await consumer.stop()
    return counts


async def collect(dsn: str, bootstrap: str, topics: dict[str, str]) -> dict:
    conn = await asyncpg.connect(dsn)
    try:
        outcomes = dict(await conn.fetch("SELECT outcome, count(*) FROM processed_events GROUP BY 1 ORDER BY 1"))
        reasons = dict(await conn.fetch("SELECT reason_code, count(*) FROM processed_events "
                                        "WHERE outcome = 'rejected' GROUP BY 1 ORDER BY 2 DESC, 1"))
        entries = await conn.fetchrow("SELECT count(*) AS entries, coalesce(sum(cardinality(accounts)), 0) AS lines, "
                                      "count(DISTINCT shard) AS shards FROM journal_entries")
        totals = await conn.fetchrow("SELECT coalesce(sum(debit_pence), 0) AS debits, coalesce(sum(credit_pence), 0) AS credits "
                                     "FROM entry_lines")
        by_kind = [dict(r) for r in await conn.fetch(
            "SELECT kind, count(*) AS accounts, sum(greatest(balance_pence, 0)) AS debit, "
            "sum(greatest(-balance_pence, 0)) AS credit FROM accounts GROUP BY kind ORDER BY kind")]
        report = await verify(conn)
    finally:
        await conn.close()
    dlq: Counter = Counter()
    for name in ("allocation.events.v1", "payments.events.v1"):
        dlq += await count_topic(bootstrap, topics[name] + ".dlq", "dlq.reason")
    published = sum((await count_topic(bootstrap, topics["ledger.entries.v1"])).values())
    return {"outcomes": outcomes, "rejections": reasons, "dead_letters": dict(dlq), "entries": dict(entries),
            "totals": dict(totals), "by_kind": by_kind, "published": published,
            "verify": {"ok": report.ok, "entries": report.entries, "shards": report.shards, "problems": report.problems}}


def pounds(pence: int) -> str:
    return f"£{pence / 100:,.2f}"


def render(s: dict, sent: int, seconds: float) -> str:
    o, t = s["outcomes"], s["totals"]
    lines = [
        "", "=== Care budget ledger: demo summary ===",
        f"messages sent            {sent:>10,}   consumed and settled in {seconds:.1f} s",
        f"journal entries          {s['entries']['entries']:>10,}   ({s['entries']['lines']:,} lines in {s['entries']['shards']} shard chains)",
        f"events posted            {o.get('posted', 0):>10,}",
        f"events noted (no money)  {o.get('noted', 0):>10,}",
        f"events rejected          {o.get('rejected', 0):>10,}",
    ]
    lines += [f"    {code:<26}{n:>8,}" for code, n in s["rejections"].items()]
    duplicates = sent - sum(s["dead_letters"].values()) - sum(o.values())
    lines.append(f"exact resends ignored    {duplicates:>10,}   (same id, same content: same outcome, nothing new)")
    lines.append(f"dead letters             {sum(s['dead_letters'].values()):>10,}")
    lines += [f"    {code:<26}{n:>8,}" for code, n in sorted(s["dead_letters"].items())]
    lines.append(f"ledger.entries published {s['published']:>10,}   (entries + rejections, via the outbox)")
    lines += ["", "Trial balance by account kind (closing balances)",
              f"    {'kind':<14}{'accounts':>9}{'debit':>20}{'credit':>20}"]
    for row in s["by_kind"]:
        lines.append(f"    {row['kind']:<14}{row['accounts']:>9,}{pounds(row['debit']):>20}{pounds(row['credit']):>20}")
    debit = sum(r["debit"] for r in s["by_kind"])
    credit = sum(r["credit"] for r in s["by_kind"])
    lines.append(f"    {'total':<14}{'':>9}{pounds(debit):>20}{pounds(credit):>20}")
    balanced = debit == credit and t["debits"] == t["credits"]
    lines.append(f"journal debits {pounds(t['debits'])} = credits {pounds(t['credits'])}: "
                 f"{'BALANCED' if balanced else 'NOT BALANCED'}")
    v = s["verify"]
    lines.append(f"verify: {'OK' if v['ok'] else 'FAILED'} ({v['entries']:,} entries, {v['shards']} chains recomputed)")
    lines += [f"  - {p}" for p in v["problems"]]
    return "\n".join(lines)
