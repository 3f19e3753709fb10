"""Business-time order across the ledger's input topics, so that outcomes do not depend on batching.

A budget's allocation events and payment events share a key, so partition N of every input topic
holds the same budgets. Within a batch, the records of one partition number are merged by
(recorded time, topic rank, offset) — the order in which the facts happened — and released only up
to the *watermark*: the last key seen on each partner partition that still has records behind this
batch. Anything after the watermark waits for the next batch, when the partner has caught up. Reading
a backlog after an outage therefore gives the same outcomes as reading the events live.

Pure and synchronous: the caller supplies which partitions are behind (`lagging`).
"""
from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Item = Any  # (record, envelope, event); only record.offset and envelope.time are read here


@dataclass
class Release:
    """Items to apply now, in order, per partition group; and where each held-back partition resumes.

    `sequence` is every released item of every group, merged by business time: a provider-keyed
    invoice on one partition may refer to a budget agreed on another, so groups interleave too.
    """

    resume: dict[Any, int] = field(default_factory=dict)
    sequence: list[tuple[Any, Item]] = field(default_factory=list)
    fallback: bool = False  # nothing could be released in order, so the batch was taken as it came
    waiting: bool = False  # nothing could be released in order and falling back was not allowed yet
    # per group, in key order: (key, group number, member number, partition, item), as `_merge` makes them
    merged: list[list[tuple]] = field(default_factory=list, repr=False)

    @property
    def groups(self) -> list[list[tuple[Any, Item]]]:
        """The released items per partition group, each group in business order (for inspection)."""
        return [[(entry[3], entry[4]) for entry in group] for group in self.merged]


def order_key(rank: int, item: Item) -> tuple:
    record, envelope, _ = item
    return (envelope.time, rank, record.offset)


def release(batch: Mapping[Any, Sequence[Item]], assigned: Iterable[Any], lagging: Callable[[Any], bool],
            rank: Callable[[str], int], may_fall_back: bool = True) -> Release:
    """Merge each partition number's records in business order and hold back what a lagging partner
    partition might still precede. When nothing at all can be released, the batch is taken as it came
    if `may_fall_back`, else everything is held (`waiting`) for the partner's records to arrive."""
    members: dict[int, set] = defaultdict(set)
    for tp in [*assigned, *batch]:
        members[tp.partition].add(tp)
    groups = [sorted(members[p], key=lambda t: (rank(t.topic), t.topic)) for p in sorted(members)]
    out = Release()
    merged: list[list[tuple]] = []  # per group: (key, group, member, partition, item), in key order
    for g, tps in enumerate(groups):
        watermark = _watermark(tps, batch, lagging, rank)
        if watermark is not None:
            merged.append(_merge(tps, _before_watermark(tps, batch, rank, watermark, out.resume), rank, g))
        else:
            merged.append(_merge(tps, batch, rank, g))
    if batch and not any(merged) and not may_fall_back:
        # Every group waits on a partner with nothing fetched yet (just after a restart or an
        # assignment, its first fetch is not back): hold everything and look again with its records.
        return Release(resume={tp: items[0][0].offset for tp, items in batch.items() if items}, waiting=True)
    if batch and not any(merged):
        # Still nothing after the caller's patience ran out: take the batch as it came rather than
        # stall (counted, so an operator can see how often ordering could not be guaranteed).
        out = Release(fallback=True)
        merged = [_merge(tps, batch, rank, g) for g, tps in enumerate(groups)]
    out.merged = [group for group in merged if group]
    # Across groups the entries compare by key, then group number: heapq.merge's order of the groups.
    out.sequence = [(entry[3], entry[4]) for entry in _kmerge(out.merged)]
    return out


def _kmerge(streams: list[list[tuple]]) -> list[tuple]:
    """What `list(heapq.merge(*streams))` gives, for tuples whose first elements (before the items
    themselves) differ between any two streams: `_merge` makes (key, group, member, ...), so within a
    group the member numbers differ and across groups the group numbers, and comparisons never reach the
    items. Without heapq.merge's Python generator: one or two streams (the usual case) by walking them,
    more through heapq's C heap functions."""
    streams = [stream for stream in streams if stream]
    if not streams:
        return []
    if len(streams) == 1:
        return list(streams[0])
    out: list[tuple] = []
    if len(streams) == 2:
        a, b = streams
        i, j, na, nb = 0, 0, len(a), len(b)
        while i < na and j < nb:
            if b[j] < a[i]:
                out.append(b[j])
                j += 1
            else:
                out.append(a[i])
                i += 1
        out.extend(a[i:])
        out.extend(b[j:])
        return out
    heap = [(stream[0], k, 0) for k, stream in enumerate(streams)]
    heapq.heapify(heap)
    while heap:
        item, k, pos = heap[0]
        out.append(item)
        pos += 1
        if pos < len(streams[k]):
            heapq.heapreplace(heap, (streams[k][pos], k, pos))
        else:
            heapq.heappop(heap)
    return out


def _merge(tps, batch, rank, group: int) -> list[tuple]:
    """A k-way merge by key that never reorders records within a partition, even when a partition's
    recorded times are not monotonic (a resend carries its original time): (key, group, member,
    partition, item) in key order, ties between partitions going to the earlier member."""
    streams = []
    for n, tp in enumerate(tps):
        r = rank(tp.topic)
        streams.append([((it[1].time, r, it[0].offset), group, n, tp, it) for it in batch.get(tp, ())])
    return _kmerge(streams)


def _before_watermark(tps, batch, rank, watermark: tuple, resume: dict) -> dict:
    """Each partition's records up to its first one past the watermark, which is where it resumes.

    A partition is never reordered, so everything after its first held record is held too: merging
    only these prefixes releases exactly what merging everything and then holding would, and a
    partition held whole (its first record already past the watermark: the usual state of one that
    runs ahead of its partner for several batches) costs one comparison, not a merge of all it holds."""
    prefixes = {}
    for tp in tps:
        items = batch.get(tp)
        if not items:
            continue
        r = rank(tp.topic)
        for n, it in enumerate(items):
            if (it[1].time, r, it[0].offset) > watermark:
                resume[tp] = it[0].offset
                items = items[:n]
                break
        prefixes[tp] = items
    return prefixes


def _watermark(tps, batch, lagging, rank) -> tuple | None:
    """The smallest key a lagging partition's next record could have: its last fetched key (or the
    very start when nothing of it was fetched). None when no partner is behind."""
    marks = []
    for tp in tps:
        if not lagging(tp):
            continue
        items = batch.get(tp)
        marks.append(order_key(rank(tp.topic), items[-1]) if items else ())
    return min(marks) if marks else None
