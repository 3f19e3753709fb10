"""CPU per event of the ledger worker's own code, in process, without Kafka or PostgreSQL.

Runs the generator's stream (in recorded-time order, one partition per input topic, batches of `BATCH`
records) through exactly what the worker does between fetch and the batch transaction, stage by stage:
`careruntime.codec.decode`, the content hash, then per batch what `service.ingest` calls:
`deciding.collect` and `deciding.build` (references, domain events), `ordering.release` (business-time
order), `deciding.decide` (the rules, the chain; a rejection's outgoing message), `snapshot.batch_rows`
and `repository.render` (COPY text and the statements' literals). Not in it: the reads of `load_slice`,
aiokafka, asyncpg, and freeing each batch's objects (docs/performance.md, "Ninth pass").
Each stage is timed with process CPU time, the collector frozen and disabled (as `tune_gc` leaves the
worker, near enough), best of `--repeat` runs, so the figures move little on a shared machine. Point
PYTHONPATH at another checkout's src folders to compare two versions on the same machine in the same
session (docs/performance.md shows how).

    python -m caretools.bench_hotpath --people 400 --repeat 5
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time
from collections import namedtuple
from typing import Any, NamedTuple

from aiokafka.structs import TopicPartition
from careruntime import codec
from ledger import native
from ledger.adapters import repository, snapshot
from ledger.domain.model import Book
from ledger.service import deciding, ordering
from ledger.service.ingest import rejection_rows

from .generator import generate

BATCH = 500
BUDGET_TOPIC = "allocation.events.v1"  # where budgets are agreed: ranked first at equal recorded times
STAGES = ("decode", "content_hash", "build", "order", "decide", "rows", "render")
Record = namedtuple("Record", "topic partition offset value")  # what the worker reads of a ConsumerRecord


class Hashed(NamedTuple):
    """A decoded record with its content hash already computed (timed as a stage of its own)."""

    envelope: Any
    payload: Any
    content_hash: str


def _batches(messages) -> list[dict]:
    """The stream as batches of BATCH records, each {partition: [(record, value)]}, offsets per topic."""
    offsets: dict[str, int] = {}
    batches = []
    for start in range(0, len(messages), BATCH):
        batch: dict = {}
        for m in messages[start:start + BATCH]:
            offset = offsets.get(m.topic, 0)
            offsets[m.topic] = offset + 1
            batch.setdefault(TopicPartition(m.topic, 0), []).append((Record(m.topic, 0, offset, m.value), m.value))
        batches.append(batch)
    return batches


async def _pipeline(batches: list[dict], hashed: dict[bytes, Hashed], clock: dict[str, float]) -> tuple[Book, int]:
    """Every batch through the worker's stages on a fresh book, adding each stage's CPU to `clock`."""
    book, stored, stats, entries = Book(), repository.Stored(), {}, 0
    topics = sorted({tp.topic for batch in batches for tp in batch})
    rank = {topic: n for n, topic in enumerate(sorted(topics, key=lambda t: (t != BUDGET_TOPIC, t)))}
    shards = {TopicPartition(t, 0): (f"{t}:0", t != BUDGET_TOPIC) for t in topics}
    for records in batches:
        decoded = {tp: [(record, hashed[value]) for record, value in pairs] for tp, pairs in records.items()}
        t = time.process_time()
        batch: dict = {}
        refs: dict[str, set[str]] = {}
        fresh: list = []
        deciding.collect(decoded, {}, batch, refs, set(), fresh)
        deciding.build(fresh, 0, len(fresh))
        t = _lap(clock, "build", t)
        plan = ordering.release(batch, list(batch), lambda tp: False, lambda topic: rank[topic])
        t = _lap(clock, "order", t)
        results: list = []
        rejected: list = []
        deciding.decide(book, plan.sequence, 0, len(plan.sequence), shards, set(), {}, {},
                        lambda tp, offset: False, stats, results, rejected)
        rejection_rows("ledger.entries.v1", rejected)
        t = _lap(clock, "decide", t)
        rows = snapshot.batch_rows(book, results)
        t = _lap(clock, "rows", t)
        await repository.render(rows, stored)
        stored.record(rows)
        _lap(clock, "render", t)
        entries += sum(1 for outcome, *_ in results if outcome.entry is not None)
    return book, entries


def _lap(clock: dict[str, float], stage: str, since: float) -> float:
    now = time.process_time()
    clock[stage] = clock.get(stage, 0.0) + now - since
    return now


def _timed(run, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        run()
        best = min(best, time.process_time() - t0)
    return best


def measure(people: int, seed: int, repeat: int) -> dict:
    messages = sorted(generate(people=people, seed=seed), key=lambda m: m.at)
    values = [m.value for m in messages]
    batches = _batches(messages)
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        decoded = [codec.decode(value) for value in values]
        hashed = {value: Hashed(d.envelope, d.payload, d.content_hash) for value, d in zip(values, decoded, strict=True)}
        best = {"decode": _timed(lambda: [codec.decode(v) for v in values], repeat),
                "content_hash": _timed(lambda: [d.content_hash for d in decoded], repeat)}
        for _ in range(repeat):
            clock: dict[str, float] = {}
            book, entries = asyncio.run(_pipeline(batches, hashed, clock))
            for stage, seconds in clock.items():
                best[stage] = min(best.get(stage, float("inf")), seconds)
    finally:
        gc.enable()
        gc.unfreeze()
    events = len(values)
    per_event = {name: round(best[name] / events * 1e6, 2) for name in STAGES}  # disjoint: they sum to the path
    per_event["total"] = round(sum(per_event.values()), 2)
    heads = sorted((shard, seq, digest) for shard, (seq, digest) in book.heads.items())
    return {"events": events, "entries": entries, "us_per_event": per_event, "heads": heads}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    result = measure(args.people, args.seed, args.repeat)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['events']:,} events, {result['entries']:,} entries; worker CPU per event (best of {args.repeat}), "
          f"ledger decision code {native.mode()}:")
    for name, us in result["us_per_event"].items():
        print(f"  {name:16} {us:7.2f} us")
    print("  chain heads:", "; ".join(f"{s} {q} {h[:12]}" for s, q, h in result["heads"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
