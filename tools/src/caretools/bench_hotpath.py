"""CPU per event of the ledger worker's own code, in process, without Kafka or PostgreSQL.

Runs the generator's stream (in recorded-time order) through exactly what the worker does per event
between fetch and COPY: `careruntime.codec.decode`, the content hash, `wire.to_event` and `wire.refs_of`,
`domain.ledger.apply`, a rejection's outgoing message, and per batch `snapshot.batch_rows` (an entry's
message is built later, by the relay, from the journal).
Each stage is timed with process CPU time over the whole stream, the collector frozen and disabled (as
`tune_gc` leaves the worker, near enough), best of `--repeat` runs, so the figures move little on a
shared machine. Point PYTHONPATH at another checkout's src folders to compare two versions on the
same machine in the same session (docs/performance.md shows how).

    python -m caretools.bench_hotpath --people 400 --repeat 5
"""
from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable

from careruntime import codec
from careruntime.codec import OUTBOX_HEADERS
from careruntime.outbox import OutboxRow
from ledger import native
from ledger.adapters import snapshot, wire
from ledger.domain.ledger import apply
from ledger.domain.model import Book

from .generator import generate

BATCH = 500
SHARD_OF_TOPIC = {"allocation.events.v1": "allocation.events.v1:0", "payments.events.v1": "payments.events.v1:0"}


def _best(run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        run()
        best = min(best, time.process_time() - t0)
    return best


def _decide(records: list[tuple[str, object, str]]) -> tuple[Book, int]:
    """apply + rejection messages + batch rows for the whole stream on a fresh book; (book, entries).

    Records come with their content hash already computed (timed as a stage of its own)."""
    book, entries, results = Book(), 0, []
    for n, (shard, decoded, content_hash) in enumerate(records, 1):
        env = decoded.envelope
        ev = wire.to_event(env, decoded.payload, content_hash)
        wire.refs_of(env.councilid, decoded.payload, {})
        outcome = apply(book, ev, shard)
        if outcome.entry is not None:
            entries += 1
        elif outcome.kind == "rejected":
            OutboxRow("ledger.entries.v1", shard.encode(), wire.rejection_message(outcome, shard, env), OUTBOX_HEADERS)
        results.append((outcome, shard, n, env))
        if n % BATCH == 0:
            snapshot.batch_rows(book, results)
            results = []
    snapshot.batch_rows(book, results)
    return book, entries


def measure(people: int, seed: int, repeat: int) -> dict:
    messages = sorted(generate(people=people, seed=seed), key=lambda m: m.at)
    values = [(SHARD_OF_TOPIC.get(m.topic, f"{m.topic}:0"), m.value) for m in messages]
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        decoded = [(shard, codec.decode(value)) for shard, value in values]
        hashed = [(shard, d, d.content_hash) for shard, d in decoded]
        stages = {  # disjoint: their sum is the whole path
            "decode": _best(lambda: [codec.decode(v) for _, v in values], repeat),
            "content_hash": _best(lambda: [d.content_hash for _, d in decoded], repeat),
            "decide_and_rows": _best(lambda: _decide(hashed), repeat),
        }
        book, entries = _decide(hashed)
    finally:
        gc.enable()
        gc.unfreeze()
    events = len(values)
    per_event = {name: round(seconds / events * 1e6, 2) for name, seconds in stages.items()}
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
