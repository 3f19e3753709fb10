"""Keeps the budget views whole when faust-streaming 0.15.3 fails to deliver records across a rebalance.

Two failures were seen in CI and local runs, both right after a partition moved between views workers:
- a **hole**: the new owner's agent received offsets 22..29 of a partition without 27, and faust
  committed past it (faust-streaming issues #216, #221 describe the family);
- a **stall**: the new owner stopped receiving a partition at all, nothing being processed, while
  records waited on it (faust-streaming issue #629 describes the same).

`StreamGuard.admit` runs before the agent projects each record: it skips a record already projected
and, when a record lies further on than the next one expected (or, first after a rebalance, than where
faust was to start: the group's committed offset, or the partition's first offset while nothing is
committed), projects what lies between first, read from the topic (adapters/partition_reader.py).
Projecting again is exact: the table remembers each budget's last offset (views.fold).

`StreamGuard.watch` runs on a timer: a partition this worker owns whose next expected record exists
but has not arrived for `stall_s` is sought back to that offset and resumed in faust's consumer, which
makes faust fetch it again; if that does not help within three more periods the partition is reported
by `/readyz` (check "stream"), as is a hole that could not be read back.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from aiokafka.errors import KafkaError

from ..adapters.partition_reader import PartitionReader
from ..service.stream_order import StreamOrder

log = logging.getLogger("allocation.views")

READ_ERRORS = (KafkaError, OSError, TimeoutError)


class StreamGuard:
    def __init__(self, app: Any, topic: str, reader: PartitionReader, project: Callable[..., bool],
                 count: Callable[[str], None], stall_s: float) -> None:
        self.app, self.topic, self.reader, self.project, self.count = app, topic, reader, project, count
        self.stall_s = stall_s
        self.order = StreamOrder()
        self.problems: list[str] = []  # holes not read back, partitions stalled: /readyz fails
        self.waiting: dict[Any, tuple[int, float]] = {}  # partition -> (offset awaited, since when)
        self.starts: dict[Any, int] = {}  # partition -> where faust was to start it, since the last rebalance

    async def admit(self, tp: Any, offset: int) -> bool:
        """Before projecting the record at `offset`: False if it was projected already; otherwise any
        record faust left out before it has been projected first."""
        place, missed_from = self.order.place(tp, offset)
        if place == "read":  # faust went back to its committed offset: this one is in the table
            self.count("reread")
            return False
        if place == "first":
            missed_from = await self.start_of(tp)
            log.info("first record of %s:%d since the rebalance at offset %d; faust was to start at %s",
                     tp.topic, tp.partition, offset, missed_from)
            place = "jump" if missed_from is not None and missed_from < offset else "next"
        if place == "jump":
            await self.fill(tp, missed_from, offset)
        return True

    def projected(self, tp: Any, offset: int) -> None:
        self.order.projected(tp, offset)
        self.waiting.pop(tp, None)

    def forget(self) -> None:
        """A rebalance: partitions may have moved; faust starts each where the group committed."""
        self.order.forget()
        self.waiting.clear()
        self.starts.clear()

    async def fill(self, tp: Any, start: int, end: int) -> None:
        """Project the records faust left out between two offsets of a partition, read from the topic."""
        try:
            missed = await self.reader.between(tp.topic, tp.partition, start, end)
        except READ_ERRORS as exc:
            self._problem(f"{tp.topic}:{tp.partition} offsets {start}..{end - 1} not read back: {exc!r}")
            return
        filled = [r.offset for r in missed if self.project(r.key, r.value, r.offset, applied="hole_filled")]
        if filled:  # records read again that the view had applied already are only repeats
            log.warning("faust skipped %d record(s) of %s:%d between offsets %d and %d (at %s); projected them "
                        "from the topic", len(filled), tp.topic, tp.partition, start, end - 1, filled)

    async def start_of(self, tp: Any) -> int | None:
        """Where faust was to start a partition: the group's committed offset, else (nothing committed
        yet, auto_offset_reset earliest) the partition's first offset. Asked of the broker once per
        partition between rebalances (the watch asks on every tick until a record arrives)."""
        if tp in self.starts:
            return self.starts[tp]
        try:
            committed = await self.reader.committed(tp.topic, tp.partition)
            start = committed if committed is not None else await self.reader.beginning(tp.topic, tp.partition)
            self.starts[tp] = start
            return start
        except READ_ERRORS as exc:
            self._problem(f"{tp.topic}:{tp.partition}: where faust was to start is unknown: {exc!r}")
            return None

    async def watch(self) -> None:
        """One look at every partition of the topic this worker owns (see the module docstring)."""
        if self.app.rebalancing or self.app.in_recovery:
            self.waiting.clear()
            return
        now = time.monotonic()
        for tp in [tp for tp in self.app.consumer.assignment() if tp.topic == self.topic]:
            try:
                awaited = self.order.expected.get(tp)
                if awaited is None:
                    awaited = await self.start_of(tp)
                pending = None if awaited is None else await self.reader.next_offset(tp.topic, tp.partition, awaited)
            except READ_ERRORS as exc:
                log.warning("stream watch of %s:%d failed: %r", tp.topic, tp.partition, exc)
                continue
            previous = self.waiting.get(tp)
            if pending is None or previous is None or previous[0] != pending:
                if pending is None:  # nothing but transaction markers past what was projected: not behind
                    self.waiting.pop(tp, None)
                else:
                    self.waiting[tp] = (pending, now)
                continue
            stalled_s = now - previous[1]
            if stalled_s >= 4 * self.stall_s:
                self._problem(f"{tp.topic}:{tp.partition} stalled at offset {pending} for {stalled_s:.0f}s")
                self.waiting[tp] = (pending, now)
            elif stalled_s >= self.stall_s:
                await self._unstick(tp, awaited, pending, stalled_s)

    async def _unstick(self, tp: Any, awaited: int, offset: int, stalled_s: float) -> None:
        consumer = self.app.consumer
        state = {"paused": tp in getattr(consumer, "_paused_partitions", ()),
                 "active": tp in (getattr(consumer, "_active_partitions", None) or ()),
                 "flow_active": getattr(consumer, "flow_active", None)}
        log.warning("no record of %s:%d for %.0fs although offset %d waits; seeking faust back to %d and resuming "
                    "it (faust's state: %s)", tp.topic, tp.partition, stalled_s, offset, awaited, state)
        self.count("stall_restarted")
        consumer.resume_partitions([tp])
        await consumer.seek(tp, awaited)

    def _problem(self, what: str) -> None:
        self.problems.append(what)
        log.error("the budget view is incomplete: %s", what)
        self.count("hole_unread")

    def check(self):
        """A readiness check: fails once a hole could not be read back or a partition stayed stalled."""

        async def check() -> None:
            if self.problems:
                raise RuntimeError(f"{len(self.problems)} stream problem(s), first: {self.problems[0]}")

        return check
