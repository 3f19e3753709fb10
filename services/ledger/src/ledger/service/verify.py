"""`ledger verify`: recompute every shard's hash chain and cross-check balances against the journal.

Reads the journal in (shard, shard_seq) order through a server-side cursor, so memory stays flat at
any size. Checkpoints (migration 0005) are checked as a chain of their own, and the last head each
checkpoint chain recorded for a shard must still be in the journal with that hash: a shard cut short
and its head moved back shows up there. (An earlier recorded head is covered by the later one: each
shard's chain runs through it.) Reports every break it finds; the caller exits non-zero when there is any.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..domain import chain


@dataclass
class VerifyReport:
    entries: int = 0
    shards: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def note(self, problem: str) -> None:
        if len(self.problems) < 100:
            self.problems.append(problem)


_ENTRIES = """SELECT entry_id, shard, shard_seq, effective_date, recorded_at, cause_event_id, cause_type,
                     rule_version, reverses_entry_id, accounts, debits, credits, prev_hash, hash
                FROM journal_entries ORDER BY shard, shard_seq"""

_CHECKPOINTS = """SELECT checkpoint_seq, shards, shard_seqs, hashes, prev_hash, hash
                     FROM ledger_checkpoints ORDER BY checkpoint_seq"""

_BALANCES = """WITH lines AS (SELECT account, sum(debit_pence - credit_pence) AS net FROM entry_lines GROUP BY account)
               SELECT coalesce(a.account, l.account) AS account, a.balance_pence, l.net
                 FROM accounts a FULL JOIN lines l USING (account)
                WHERE a.balance_pence IS DISTINCT FROM l.net"""

_ACCOUNTED = """SELECT
    (SELECT count(*) FROM processed_events WHERE outcome = 'posted') AS posted,
    (SELECT count(*) FROM journal_entries) AS entries,
    (SELECT count(*) FROM processed_events p WHERE outcome = 'posted'
        AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.entry_id = p.entry_id)) AS missing,
    (SELECT coalesce(sum(balance_pence), 0) FROM accounts) AS trial"""


async def verify(conn) -> VerifyReport:
    report = VerifyReport()
    heads = {r["shard"]: (r["shard_seq"], r["hash"]) for r in await conn.fetch("SELECT * FROM shard_heads")}
    shard, seq, prev, seen = None, 0, chain.GENESIS, set()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        pinned = await _checkpoints(conn, report)  # (shard, seq) -> (checkpoint, hash) it must have
        async for e in conn.cursor(_ENTRIES, prefetch=5000):
            pin = pinned.pop((e["shard"], e["shard_seq"]), None)
            if pin is not None and pin[1] != e["hash"]:
                report.note(f"{e['entry_id']}: checkpoint {pin[0]} recorded hash {pin[1][:12]}…, the journal has another")
            if e["shard"] != shard:
                _close_shard(report, heads, shard, seq, prev)
                shard, seq, prev = e["shard"], 0, chain.GENESIS
                seen.add(shard)
                report.shards += 1
            seq += 1
            report.entries += 1
            if e["shard_seq"] != seq:
                report.note(f"{shard}: gap, expected seq {seq}, found {e['shard_seq']}")
                seq = e["shard_seq"]
            if e["prev_hash"] != prev:
                report.note(f"{e['entry_id']}: prev_hash does not match the previous entry's hash")
            if sum(e["debits"]) != sum(e["credits"]):
                report.note(f"{e['entry_id']}: debits {sum(e['debits'])} != credits {sum(e['credits'])}")
            text = chain.canonical(e["entry_id"], e["effective_date"].isoformat(), e["recorded_at"],
                                   e["cause_event_id"], e["cause_type"], e["rule_version"], e["reverses_entry_id"],
                                   zip(e["accounts"], e["debits"], e["credits"]))
            computed = chain.link(e["prev_hash"], text)
            if computed != e["hash"]:
                report.note(f"{e['entry_id']}: hash does not match its content")
            prev = e["hash"]
        _close_shard(report, heads, shard, seq, prev)
        for (pinned_shard, pinned_seq), (checkpoint, _) in sorted(pinned.items()):
            report.note(f"{pinned_shard}: checkpoint {checkpoint} recorded seq {pinned_seq}, not in the journal")
        for orphan in sorted(set(heads) - seen):
            report.note(f"{orphan}: a stored head but no entries in the journal")
        for r in await conn.fetch(_BALANCES):
            report.note(f"account {r['account']}: balance {r['balance_pence']} but journal says {r['net']}")
        counts = await conn.fetchrow(_ACCOUNTED)
    if counts["posted"] != counts["entries"] or counts["missing"]:
        report.note(f"{counts['posted']} events marked posted but {counts['entries']} entries ({counts['missing']} missing)")
    if counts["trial"] != 0:
        report.note(f"trial balance does not sum to zero: {counts['trial']}")
    return report


async def _checkpoints(conn, report: VerifyReport) -> dict[tuple[str, int], tuple[int, str]]:
    """Check the checkpoint chain; return the last recorded head of every shard it mentions."""
    prev, last = chain.GENESIS, {}
    expected_seq = 1
    async for cp in conn.cursor(_CHECKPOINTS, prefetch=1000):
        number = cp["checkpoint_seq"]
        if number != expected_seq:
            report.note(f"checkpoint {number}: gap, expected checkpoint {expected_seq}")
        expected_seq = number + 1
        heads = list(zip(cp["shards"], cp["shard_seqs"], cp["hashes"]))
        if not len(cp["shards"]) == len(cp["shard_seqs"]) == len(cp["hashes"]):
            report.note(f"checkpoint {number}: shards, seqs and hashes differ in length")
        if cp["prev_hash"] != prev:
            report.note(f"checkpoint {number}: prev_hash does not match the previous checkpoint's hash")
        if chain.link(cp["prev_hash"], chain.checkpoint_text(heads)) != cp["hash"]:
            report.note(f"checkpoint {number}: hash does not match its content")
        prev = cp["hash"]
        for shard, seq, digest in heads:
            last[shard] = (number, seq, digest)
    return {(shard, seq): (number, digest) for shard, (number, seq, digest) in last.items()}


def _close_shard(report: VerifyReport, heads, shard, seq, prev) -> None:
    if shard is None:
        return
    head = heads.get(shard)
    if head is None or head[0] != seq or head[1] != prev:
        report.note(f"{shard}: stored head {head} differs from the chain's last entry ({seq}, {prev[:12]}…)")
