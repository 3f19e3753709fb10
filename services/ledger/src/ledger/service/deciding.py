"""The per-record loops of a ledger batch, compiled with the rules (ledger.native).

`service.ingest` owns the batch (reads, ordering, deferral policy, the event loop); these functions are
its inner loops over records, which ran as interpreted Python at ~1 µs per event: `collect` gathers what
the batch's fresh records refer to, `build` turns them into domain events, and `decide` applies a chunk
of the business-ordered sequence to the book. `ingest` calls `build` and `decide` a chunk at a time and
yields to the event loop in between, as it did inside its own loops. Pure and synchronous: what they read
from outside the book comes in as arguments (`defer_allowed` is the ingest's deferral policy).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..adapters import wire
from ..domain.ledger import apply
from ..domain.model import Book, Outcome


def collect(decoded_by_tp: dict[Any, list[Any]], held_items: dict[Any, list[Any]], batch: dict[Any, list[Any]],
            refs: dict[str, set[str]], event_ids: set[str], fresh: list[Any]) -> None:
    """Fill `batch` (per partition: held items, or None for a fresh record) and, for fresh records, `refs`,
    `event_ids` and `fresh` ((their batch list, index, record, decoded)).

    `held_items` holds each partition's items built in an earlier batch and held back, in offset order. The
    consumer offers those records again first, the same record objects, so they are matched as a prefix
    (one identity check per record) rather than looked up one by one; by offset when they are not."""
    for tp, pairs in decoded_by_tp.items():
        known = held_items.get(tp)
        start = held_prefix(pairs, known) if known else 0
        items: list[Any] = known[:start] if known else []
        batch[tp] = items
        by_offset: dict[int, Any] = {item[0].offset: item for item in known} if known and not start else {}
        for n in range(start, len(pairs)):
            record, decoded = pairs[n]
            item = by_offset.get(record.offset) if by_offset else None
            if item is None:
                env = decoded.envelope
                wire.refs_of(env.councilid, decoded.payload, refs)
                event_ids.add(env.id)
                fresh.append((items, len(items), record, decoded))
            items.append(item)


def held_prefix(pairs: list[Any], known: list[Any]) -> int:
    """len(known) when the first pairs of a partition's batch are the records `known` holds, in order
    (the same objects); else 0."""
    count = len(known)
    if len(pairs) < count:
        return 0
    for n in range(count):
        if pairs[n][0] is not known[n][0]:
            return 0
    return count


def held_from(items: list[Any], offset: int) -> list[Any]:
    """The items of a partition's batch (in offset order) at or after `offset`: what it holds back."""
    start = len(items)
    while start > 0 and items[start - 1][0].offset >= offset:
        start -= 1
    return items[start:]


def build(fresh: list[Any], start: int, end: int) -> None:
    """Put each fresh record's item, (record, envelope, event), in its place in the batch."""
    for n in range(start, min(end, len(fresh))):
        items, index, record, decoded = fresh[n]
        env = decoded.envelope
        items[index] = (record, env, wire.to_event(env, decoded.payload, decoded.content_hash))


def decide(book: Book, sequence: list[Any], start: int, end: int, shards: dict[Any, tuple[str, bool]],
           stopped: set[int], resume: dict[Any, int], deferred_since: dict[Any, float],
           defer_allowed: Callable[[Any, int], bool], stats: dict[str, int],
           results: list[tuple[Outcome, str, int, Any]], rejected: list[tuple[Outcome, str, Any]]) -> None:
    """Apply sequence[start:end] ((partition, (record, envelope, event)) in business order) to `book`.

    A partition stops at its first event deferred (a retriable rejection `defer_allowed` lets wait):
    it and everything after it on that partition resume later (`resume`, `stopped`). Every other
    outcome goes to `results`, and rejections also to `rejected`; `stats` counts outcomes by kind."""
    for n in range(start, min(end, len(sequence))):
        tp, item = sequence[n]
        record, env, ev = item
        offset: int = record.offset
        if tp.partition in stopped:
            resume[tp] = min(resume.get(tp, offset), offset)
            continue
        shard, may_wait = shards[tp]
        outcome = apply(book, ev, shard, may_wait)
        if outcome.kind == "deferred" and not defer_allowed(tp, offset):
            outcome = apply(book, ev, shard)
        kind = outcome.kind
        if kind == "deferred":
            stopped.add(tp.partition)
            resume[tp] = min(resume.get(tp, offset), offset)
            continue
        if deferred_since:
            deferred_since.pop((tp.topic, tp.partition, offset), None)
        stats[kind] = stats.get(kind, 0) + 1
        results.append((outcome, shard, offset, env))
        if kind == "rejected":
            rejected.append((outcome, shard, env))
