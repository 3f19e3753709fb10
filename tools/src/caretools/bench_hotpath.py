"""CPU per event of the ledger worker's own code, in process, without Kafka or PostgreSQL.

Runs the generator's stream (in recorded-time order, one partition per input topic, batches of
`--batch` records, about what the worker's batches hold) through exactly what the worker does between
fetch and the batch transaction, stage by stage and batch by batch: `careruntime.codec.decode`, the
content hash, then what `service.ingest` calls: `deciding.collect` and `deciding.build` (references,
domain events), `ordering.release` (business-time order), `deciding.decide` (the rules, the chain; a
rejection's outgoing message), `snapshot.batch_rows` and `repository.render` (COPY text and the
statements' literals), and last freeing the batch's objects, as the worker does once a batch has committed
(~3.5 µs per event: the in-process figures left it out until the twelfth pass, docs/performance.md).
Not in it: the reads of `load_slice`, aiokafka, asyncpg and the event loop.
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

BATCH = 2700  # records per batch: the worker's mean with 512 KiB fetches (docs/performance.md)
BUDGET_TOPIC = "allocation.events.v1"  # where budgets are agreed: ranked first at equal recorded times
STAGES = ("decode", "content_hash", "build", "order", "decide", "rows", "render", "free")
Record = namedtuple("Record", "topic partition offset value")  # what the worker reads of a ConsumerRecord


class Hashed(NamedTuple):
    """A decoded record with its content hash already computed (timed as a stage of its own)."""

    envelope: Any
    payload: Any
    content_hash: str


def _batches(messages, size: int) -> list[dict]:
    """The stream as batches of `size` records, each {partition: [Record]}, offsets per topic."""
    offsets: dict[str, int] = {}
    batches = []
    for start in range(0, len(messages), size):
        batch: dict = {}
        for m in messages[start:start + size]:
            offset = offsets.get(m.topic, 0)
            offsets[m.topic] = offset + 1
            batch.setdefault(TopicPartition(m.topic, 0), []).append(Record(m.topic, 0, offset, m.value))
        batches.append(batch)
    return batches


async def _pipeline(batches: list[dict], clock: dict[str, float]) -> tuple[Book, int]:
    """Every batch through the worker's stages on a fresh book, adding each stage's CPU to `clock`."""
    book, stored, stats, entries = Book(), repository.Stored(), {}, 0
    topics = sorted({tp.topic for batch in batches for tp in batch})
    rank = {topic: n for n, topic in enumerate(sorted(topics, key=lambda t: (t != BUDGET_TOPIC, t)))}
    shards = {TopicPartition(t, 0): (f"{t}:0", t != BUDGET_TOPIC) for t in topics}
    for records in batches:
        t = time.process_time()
        decoded = {tp: [(record, codec.decode(record.value)) for record in part] for tp, part in records.items()}
        t = _lap(clock, "decode", t)
        hashes = {tp: [d.content_hash for _, d in pairs] for tp, pairs in decoded.items()}
        _lap(clock, "content_hash", t)
        decoded = {tp: [(record, Hashed(d.envelope, d.payload, h)) for (record, d), h in zip(pairs, hashes[tp], strict=True)]
                   for tp, pairs in decoded.items()}  # not timed: the worker hashes inside `build`
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
        messages = rejection_rows("ledger.entries.v1", rejected)
        t = _lap(clock, "decide", t)
        rows = snapshot.batch_rows(book, results)
        t = _lap(clock, "rows", t)
        rendered = await repository.render(rows, stored)
        stored.record(rows)
        t = _lap(clock, "render", t)
        entries += sum(1 for outcome, *_ in results if outcome.entry is not None)
        t = time.process_time()
        del decoded, hashes, batch, refs, fresh, plan, results, rejected, messages, rows, rendered
        _lap(clock, "free", t)
    return book, entries


def _lap(clock: dict[str, float], stage: str, since: float) -> float:
    now = time.process_time()
    clock[stage] = clock.get(stage, 0.0) + now - since
    return now


def measure(people: int, seed: int, repeat: int, batch: int = BATCH) -> dict:
    messages = sorted(generate(people=people, seed=seed), key=lambda m: m.at)
    events = len(messages)
    batches = _batches(messages, batch)
    del messages
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        best: dict[str, float] = {}
        for _ in range(repeat):
            clock: dict[str, float] = {}
            book, entries = asyncio.run(_pipeline(batches, clock))
            for stage, seconds in clock.items():
                best[stage] = min(best.get(stage, float("inf")), seconds)
    finally:
        gc.enable()
        gc.unfreeze()
    per_event = {name: round(best[name] / events * 1e6, 2) for name in STAGES}  # disjoint: they sum to the path
    per_event["total"] = round(sum(per_event.values()), 2)
    heads = sorted((shard, seq, digest) for shard, (seq, digest) in book.heads.items())
    return {"events": events, "entries": entries, "batch": batch, "us_per_event": per_event, "heads": heads}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=BATCH, help="records per batch")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    result = measure(args.people, args.seed, args.repeat, args.batch)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['events']:,} events, {result['entries']:,} entries, batches of {result['batch']:,}; "
          f"worker CPU per event (best of {args.repeat}), "
          f"ledger decision code {native.mode()}:")
    for name, us in result["us_per_event"].items():
        print(f"  {name:16} {us:7.2f} us")
    print("  chain heads:", "; ".join(f"{s} {q} {h[:12]}" for s, q, h in result["heads"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
