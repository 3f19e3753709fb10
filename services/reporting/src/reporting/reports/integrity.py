"""Ledger integrity: hash chains verified (by `python -m ledger verify`, through its CLI, recorded in
rp_chain_checks), the chain links of the council's entries, balanced entries, a zero trial balance, and
every consumed event accounted for as posted, noted or rejected."""
from __future__ import annotations

from .contract import Column, ReportQuery, ReportSpec, ReportTable
from .sql import bitemporal, events, fetch

LINKS_SQL = f"""
SELECT count(*) AS entries,
       count(*) FILTER (WHERE e.shard_seq > 1 AND NOT EXISTS (
           SELECT 1 FROM rp_entries prev WHERE prev.shard = e.shard AND prev.shard_seq = e.shard_seq - 1
              AND prev.hash = e.prev_hash)) AS broken_links,
       count(*) FILTER (WHERE (SELECT sum(x) FROM unnest(e.debits) x) <> (SELECT sum(x) FROM unnest(e.credits) x))
         AS unbalanced,
       coalesce(sum((SELECT sum(x) FROM unnest(e.debits) x) - (SELECT sum(x) FROM unnest(e.credits) x)), 0)::bigint
         AS net
  FROM rp_entries e WHERE {bitemporal('e', text_time=True)}"""

ACCOUNTED_SQL = f"""
WITH consumed AS (SELECT event_id, type FROM {events(None)} ev),
posted AS (SELECT DISTINCT cause_event_id FROM rp_entries e WHERE {bitemporal('e', text_time=True)}),
rejected AS (SELECT DISTINCT cause_event_id FROM rp_rejections r WHERE {bitemporal('r')}),
noted AS (SELECT DISTINCT event_id FROM rp_outcomes o WHERE o.council_id = $1 AND o.outcome = 'noted')
SELECT c.type, count(*) AS consumed,
       count(*) FILTER (WHERE p.cause_event_id IS NOT NULL) AS posted,
       count(*) FILTER (WHERE p.cause_event_id IS NULL AND r.cause_event_id IS NOT NULL) AS rejected,
       count(*) FILTER (WHERE p.cause_event_id IS NULL AND r.cause_event_id IS NULL AND n.event_id IS NOT NULL) AS noted
  FROM consumed c LEFT JOIN posted p ON p.cause_event_id = c.event_id
  LEFT JOIN rejected r ON r.cause_event_id = c.event_id LEFT JOIN noted n ON n.event_id = c.event_id
 GROUP BY c.type ORDER BY c.type"""

MISSING_SQL = f"""
SELECT count(*) FROM rp_outcomes o JOIN {events(None)} ev ON ev.event_id = o.event_id AND ev.content_hash = o.content_hash
 WHERE o.council_id = $1 AND o.outcome = 'posted'
   AND NOT EXISTS (SELECT 1 FROM rp_entries e WHERE e.entry_id = o.entry_id)"""


def _status(ok: bool | None) -> str:
    return "not checked" if ok is None else "ok" if ok else "FAILED"


async def ledger_integrity(conn, query: ReportQuery) -> ReportTable:
    rows = []
    check = await conn.fetchrow("SELECT * FROM rp_chain_checks WHERE $1::timestamptz IS NULL OR checked_at <= $1 "
                                "ORDER BY checked_at DESC LIMIT 1", query.known_at)
    if check is None:
        rows.append(("check", "hash chains and balances (ledger verify)", _status(None), None, None, None, None, None,
                     "run `python -m reporting sync-ledger` to record `python -m ledger verify`"))
    else:
        # Only the verdict and its counts: the tool's own output may name other councils' accounts.
        rows.append(("check", "hash chains and balances (ledger verify)", _status(check["ok"]), check["entries"],
                     None, None, None, None, f"checked {check['checked_at']:%Y-%m-%d %H:%M:%S %Z}: "
                     f"{check['entries']} entries in {check['shards']} shard chains, all councils"))
    links = (await fetch(conn, LINKS_SQL, query))[0]
    rows.append(("check", "chain links of this council's entries", _status(links["broken_links"] == 0),
                 links["entries"], None, None, None, links["broken_links"],
                 "each entry's prev_hash is the hash of the entry before it in its shard"))
    rows.append(("check", "every entry balances", _status(links["unbalanced"] == 0), links["entries"], None, None,
                 None, links["unbalanced"], "debits = credits in every entry"))
    rows.append(("check", "trial balance is zero", _status(links["net"] == 0), None, None, None, None, None,
                 f"debits - credits = {links['net']} pence"))
    synced = await conn.fetchval("SELECT count(*) FROM rp_outcomes WHERE council_id = $1", query.council_id)
    missing = (await fetch(conn, MISSING_SQL, query))[0][0]
    rows.append(("check", "posted outcomes present in the projection", _status(missing == 0 if synced else None),
                 None, None, None, None, missing if synced else None,
                 "every event in scope the ledger logged as posted has its entry in the projection" if synced else "outcome log not synced"))
    all_ok = True
    for r in await fetch(conn, ACCOUNTED_SQL, query):
        noted = r["noted"] if synced else None
        unaccounted = r["consumed"] - r["posted"] - r["rejected"] - (noted or 0)
        ok = unaccounted == 0 if synced else None
        all_ok = all_ok and ok is not False
        rows.append(("event type", r["type"], _status(ok), r["consumed"], r["posted"], r["rejected"], noted,
                     unaccounted, "" if synced else "noted events are only known from the ledger's outcome log"))
    notes = ("Noted = recorded by the ledger without an entry (the posting rule posts nothing for it).",
             "Every consumed event accounted for: " + ("yes" if all_ok and synced else "not proven" if not synced
                                                      else "NO"))
    return ReportTable("ledger_integrity", "Ledger integrity", query, (
        Column("section", "Section", "text"), Column("item", "Check / event type", "text"),
        Column("status", "Status", "text"), Column("consumed", "Entries / events", "int"),
        Column("posted", "Posted", "int"), Column("rejected", "Rejected", "int"), Column("noted", "Noted", "int"),
        Column("problems", "Problems / unaccounted", "int"), Column("detail", "Detail", "text")), tuple(rows), notes)


SPECS = (
    ReportSpec("ledger_integrity", "Ledger integrity", "Hash chains verified, chain links, balanced entries, "
               "zero trial balance, and every consumed event accounted for as posted, noted or rejected.",
               ledger_integrity),
)
