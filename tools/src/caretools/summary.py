"""The demo's closing summary, all read back from PostgreSQL and Kafka: the allocation service's
outcomes (commands accepted, rejected by reason, conflicts, dead letters, events published), the
payments service's (commands, invoices and holds, runs, files, statements, payments by status, refusals,
dead letters), the ledger's entries, outcomes, rejections and dead letters by reason, the trial balance by account kind,
and the verify result."""
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


async def collect_allocation(dsn: str, bootstrap: str, topics: dict[str, str]) -> dict:
    """What the allocation service decided (processed_commands), refused to read (its DLQ) and published."""
    conn = await asyncpg.connect(dsn)
    try:
        outcomes = dict(await conn.fetch(
            "SELECT CASE WHEN conflict THEN 'conflict' ELSE outcome END, count(*) FROM processed_commands GROUP BY 1"))
        reasons = dict(await conn.fetch("SELECT reason_code, count(*) FROM processed_commands "
                                        "WHERE reason_code IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"))
        by_type = dict(await conn.fetch(
            "SELECT split_part(command_type, '.', 2), count(*) FROM processed_commands WHERE outcome = 'accepted' "
            "AND NOT conflict GROUP BY 1 ORDER BY 1"))
        emitted = await conn.fetchval("SELECT coalesce(sum(cardinality(event_ids)), 0) FROM processed_commands")
        budgets = dict(await conn.fetch("SELECT status, count(*) FROM budgets GROUP BY 1 ORDER BY 1"))
    finally:
        await conn.close()
    dlq = await count_topic(bootstrap, topics["allocation.commands.v1"] + ".dlq", "dlq.reason")
    published = sum((await count_topic(bootstrap, topics["allocation.events.v1"])).values())
    return {"outcomes": outcomes, "rejections": reasons, "accepted_by_type": by_type, "events_emitted": emitted,
            "events_published": published, "dead_letters": dict(dlq), "budgets": budgets}


def render_allocation(a: dict, sent: int) -> list[str]:
    o = a["outcomes"]
    decided = sum(o.values())
    lines = [
        "--- allocation service: commands in, events out ---",
        f"commands sent            {sent:>10,}",
        f"commands accepted        {o.get('accepted', 0):>10,}",
    ]
    lines += [f"    {name:<26}{n:>8,}" for name, n in a["accepted_by_type"].items()]
    lines.append(f"commands rejected        {o.get('rejected', 0) + o.get('conflict', 0):>10,}   "
                 f"(CommandRejected with the command id and a reason code)")
    lines += [f"    {code:<26}{n:>8,}" for code, n in a["rejections"].items()]
    resends = sent - sum(a["dead_letters"].values()) - decided
    lines.append(f"exact resends ignored    {resends:>10,}   (same id, same content: same outcome, nothing new)")
    lines.append(f"dead letters             {sum(a['dead_letters'].values()):>10,}")
    lines += [f"    {code:<26}{n:>8,}" for code, n in sorted(a["dead_letters"].items())]
    lines.append(f"events emitted           {a['events_emitted']:>10,}   "
                 f"({a['events_published']:,} records on allocation.events.v1, via the outbox)")
    lines.append("budgets by status         " + ", ".join(f"{k} {v:,}" for k, v in a["budgets"].items()))
    return lines


async def collect_payments(dsn: str, ledger_dsn: str, bootstrap: str, topics: dict[str, str], council: str) -> dict:
    """What the payments service decided (processed_messages), holds, runs and payments by status, what
    it refused to read (its DLQ) and published; and what the ledger still holds reserved."""
    conn = await asyncpg.connect(dsn)
    try:
        outcomes = dict(await conn.fetch(
            "SELECT CASE WHEN conflict THEN 'conflict' ELSE outcome END, count(*) FROM processed_messages "
            "WHERE message_type NOT LIKE 'allocation.%' GROUP BY 1 ORDER BY 1"))
        refused = dict(await conn.fetch(
            "SELECT coalesce(reason_code, 'DUPLICATE_CONFLICT'), count(*) FROM processed_messages WHERE "
            "message_type NOT LIKE 'allocation.%' AND (outcome = 'rejected' OR conflict) GROUP BY 1 ORDER BY 2 DESC, 1"))
        invoices = dict(await conn.fetch("SELECT status, count(*) FROM invoices WHERE council_id = $1 GROUP BY 1 "
                                         "ORDER BY 1", council))
        holds = dict(await conn.fetch("SELECT hold_reason, count(*) FROM invoices WHERE council_id = $1 AND "
                                      "status = 'held' GROUP BY 1 ORDER BY 1", council))
        payments = [dict(r) for r in await conn.fetch(
            "SELECT kind, status, count(*) AS n, coalesce(sum(coalesce(paid_pence, due_pence)), 0) AS pence "
            "FROM payments WHERE council_id = $1 GROUP BY 1, 2 ORDER BY 1, 2", council)]
        schedules = dict(await conn.fetch("SELECT status, count(*) FROM schedules WHERE council_id = $1 GROUP BY 1",
                                          council))
        files = dict(await conn.fetch("SELECT file_format, count(*) FROM run_files WHERE council_id = $1 GROUP BY 1",
                                      council))
    finally:
        await conn.close()
    ledger = await asyncpg.connect(ledger_dsn)
    try:
        reserved = await ledger.fetchval("SELECT coalesce(sum(balance_pence), 0) FROM accounts WHERE kind = 'pending'")
    finally:
        await ledger.close()
    dlq = await count_topic(bootstrap, topics["payments.commands.v1"] + ".dlq", "dlq.reason")
    published = sum((await count_topic(bootstrap, topics["payments.events.v1"])).values())
    commands_in = sum((await count_topic(bootstrap, topics["payments.commands.v1"])).values())
    return {"commands_on_topic": commands_in, "outcomes": outcomes, "refused": refused, "invoices": invoices,
            "holds": holds, "payments": payments,
            "schedules": schedules, "files": files, "dead_letters": dict(dlq), "events_on_topic": published,
            "left_reserved": reserved}


def render_payments(p: dict, sent: int) -> list[str]:
    c, o = p.get("cycles", {}), p["outcomes"]
    lines = [
        "--- payments service: schedules, invoices, runs, bank files, statements ---",
        (f"commands decided         {sum(o.values()):>10,}   ({o.get('accepted', 0):,} accepted; "
         f"{sent:,} bad ones sent after the year)"),
        (f"DP schedules             {sum(p['schedules'].values()):>10,}   "
         + ", ".join(f"{k} {v:,}" for k, v in sorted(p["schedules"].items()))),
        (f"invoices received        {c.get('invoices_received', 0):>10,}   ("
         + ", ".join(f"{k} {v:,}" for k, v in p["invoices"].items()) + " at the end)"),
    ]
    lines += [f"    held {code:<21}{n:>8,}" for code, n in p["holds"].items()]
    lines += [
        (f"payment runs             {c.get('runs', 0):>10,}   ({c.get('payments_instructed', 0):,} payments "
         f"instructed = reserved in the ledger; the creator's own approval refused: {c.get('self_approval_refused', 0)})"),
        (f"bank files written       {sum(p['files'].values()):>10,}   ("
         + ", ".join(f"{k} {v}" for k, v in sorted(p["files"].items())) + ")"),
        (f"statements imported      {c.get('statements', 0):>10,}   ({c.get('statement_settled', 0):,} settled, "
         f"{c.get('statement_returned', 0):,} returned, {c.get('statement_unmatched', 0)} lines not ours listed)"),
        "payments by status",
    ]
    lines += [f"    {r['kind'] + '/' + r['status']:<26}{r['n']:>8,}{pounds(r['pence']):>20}" for r in p["payments"]]
    lines.append(f"commands refused         {sum(p['refused'].values()):>10,}   (CommandRejected with a reason code)")
    lines += [f"    {code:<26}{n:>8,}" for code, n in p["refused"].items()]
    resends = p["commands_on_topic"] - sum(p["dead_letters"].values()) - sum(o.values())
    lines.append(f"exact resends ignored    {resends:>10,}   (same id, same content: same outcome, nothing new)")
    lines.append(f"dead letters             {sum(p['dead_letters'].values()):>10,}")
    lines += [f"    {code:<26}{n:>8,}" for code, n in sorted(p["dead_letters"].items())]
    lines.append(f"left reserved in ledger  {pounds(p['left_reserved']):>10}   (pending accounts: every instructed "
                 "payment settled or returned)")
    return lines


def pounds(pence: int) -> str:
    return f"£{pence / 100:,.2f}"


def render(s: dict, sent: int, seconds: float) -> str:
    """The summary as text. With an "allocation" part (the demo on commands), the ledger's input is
    what the allocation service published plus the payment events sent."""
    o, t = s["outcomes"], s["totals"]
    lines = ["", "=== Care budget ledger: demo summary ===",
             f"messages sent            {sent:>10,}   consumed and settled in {seconds:.1f} s"
             + ("   (case-system commands and bad input; the payments commands are counted below)"
                if "payments" in s else "")]
    ledger_in = sent
    if "allocation" in s:
        lines += render_allocation(s["allocation"], s["sent"].get("allocation.commands.v1", 0))
        ledger_in = s["allocation"]["events_published"] + s["sent"].get("payments.events.v1", 0)
    if "payments" in s:
        lines += render_payments(s["payments"], s["sent"].get("payments.commands.v1", 0))
        ledger_in = s["allocation"]["events_published"] + s["payments"]["events_on_topic"]
    if "allocation" in s:
        lines += ["--- ledger: allocation events + payment events in, entries out ---",
                  f"events in                {ledger_in:>10,}"]
    lines += [
        f"journal entries          {s['entries']['entries']:>10,}   ({s['entries']['lines']:,} lines in {s['entries']['shards']} shard chains)",
        f"events posted            {o.get('posted', 0):>10,}",
        f"events noted (no money)  {o.get('noted', 0):>10,}",
        f"events rejected          {o.get('rejected', 0):>10,}",
    ]
    lines += [f"    {code:<26}{n:>8,}" for code, n in s["rejections"].items()]
    duplicates = ledger_in - sum(s["dead_letters"].values()) - sum(o.values())
    lines.append(f"exact resends ignored    {duplicates:>10,}   (same id, same content: same outcome, nothing new)")
    lines.append(f"dead letters             {sum(s['dead_letters'].values()):>10,}")
    lines += [f"    {code:<26}{n:>8,}" for code, n in sorted(s["dead_letters"].items())]
    lines.append(f"ledger.entries published {s['published']:>10,}   (entries from the journal, rejections through the outbox)")
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
