"""The batch consumer: exactly-once processing of Kafka records into PostgreSQL.

Owns the consume loop every service runs. One batch is one unit of work: fetch up to `max_records`,
decode them, then in ONE PostgreSQL transaction let the handler write its state and outbox rows,
append dead letters for undecodable records and move the stored offsets past the batch. Kafka's own
committed offsets are written afterwards, best effort, for lag dashboards only.

Why this is exactly once: the offsets live in the same database as the effects, so a crash anywhere
leaves either both or neither. On assignment the consumer seeks to the offsets stored in PostgreSQL
(partitions never stored start from the beginning). Offsets are saved compare-and-set
(careruntime.offsets), which fences a consumer that lost its partitions without noticing.

Failures: a failed batch (connection lost, serialization failure, a handler exception) is rolled back,
its partitions are sought back to the stored positions and re-fetched after an exponential backoff.
Handler exceptions are retried too: stalling a partition is better than skipping money. A failure is
counted and logged as "transient" (a warning: PostgreSQL lost, restarting or busy; TRANSIENT_ERRORS) or
"error", whether it came in the batch transaction or while a pipelining handler prepared the batch. A handler
that cannot finish a partition yet (a dependency has not arrived) returns {tp: offset}; the batch
commits up to that offset for that partition, and the records from there on are held, decoded, for a
later batch (careruntime.held; paused for `deferred_retry_s` first when that is not zero).

A handler that decided a batch on an assumption the database then refuted (say, that none of its
events was processed before, with a unique index as the judge) raises `Rerun` from its write: the batch
is rolled back and decided again at once, without the backoff of a failure or an error in the log,
counted as `batch_failures{kind="rerun"}`. `prepare` may raise it too (it found, while deciding, that the
batch must be decided differently): the batches in flight commit first, then the same happens. The retry
must not rest on that assumption again (the handler learns of the rollback through `on_rollback`), or the
batch would be decided over and over.

The handler is a `BatchHandler`; its optional hooks `on_assigned(conn, tps)` (in a transaction with
the offset load: load per-shard state there), `on_revoked(tps)` (after the batch in hand) and
`on_rollback()` (a batch it handled was not committed: drop any cache of it) are called when present.

Pipelining: a handler that also has `prepare(pool, decoded, rejects) -> PreparedBatch` splits its
work in two. `prepare` reads what it needs (outside any transaction) and decides everything in memory;
`PreparedBatch.write(conn)` only writes, inside the batch transaction. The consumer then prepares
batch N+1 while batch N's transaction is still running on PostgreSQL, so the worker's CPU and the
database's overlap. Commits stay one at a time and in order, each with its own offsets: if batch N
fails, the prepared N+1 is thrown away with it (`on_rollback`), every partition is sought back to its
stored offset and nothing held is kept. `prepare` may rely on its own in-memory state holding
everything earlier batches wrote: the consumer never prepares after a hook call until the batch in
flight has committed. With `pipeline_depth` 2 the consumer goes on to prepare batch N+2 while N is
being written and N+1 waits its turn (each transaction starts only once the one before it has
committed, and a failure voids every batch queued behind it, as above).

Kafka outages: started while no broker answers, the consumer waits for one (a warning line per attempt,
backing off up to KAFKA_START_RETRY_MAX_S) instead of exiting; /readyz fails on Kafka meanwhile. Once
started, aiokafka itself reconnects and rejoins the group; the offsets in PostgreSQL decide where it reads.
"""
from __future__ import annotations

import asyncio
import signal
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.errors import IllegalStateError, KafkaConnectionError
from aiokafka.structs import TopicPartition

from . import outbox
from .codec import DecodeError, Decoded, decode_batch
from .dlq import dlq_row
from .held import Part, split
from .kafka_security import client_options
from .metrics import RuntimeMetrics
from .offsets import OffsetConflict, load_offsets, save_offsets

log = structlog.get_logger("careruntime.consumer")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
    asyncpg.exceptions.SerializationError, asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.OperatorInterventionError, asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.LockNotAvailableError,
)


# Longest wait between two attempts to reach Kafka at start-up: the worker reads within this of the
# broker's return.
KAFKA_START_RETRY_MAX_S = 5.0

# Records decoded between two yields to the event loop while a batch transaction is in flight: about a
# millisecond of CPU, so each statement of that transaction waits at most that long to be sent.
DECODE_CHUNK = 64

DecodedBatch = dict[TopicPartition, list[tuple[Any, Decoded]]]  # (aiokafka ConsumerRecord, Decoded)
RejectedBatch = dict[TopicPartition, list[tuple[Any, DecodeError]]]


class Rerun(Exception):
    """Raised by a handler's write: this batch was decided on an assumption that turned out false; roll it
    back and decide it again, at once (see the module docstring). Not a failure."""


class BatchHandler(Protocol):
    async def handle(
        self, conn: asyncpg.Connection, decoded: DecodedBatch, rejects: RejectedBatch
    ) -> Mapping[TopicPartition, int] | None:
        """Apply a batch on `conn` (inside its transaction). Return {tp: offset} for partitions to
        resume from `offset` later (records from there on count as not done), or None."""


class PreparedBatch(Protocol):
    """A batch a pipelining handler has decided (see the module docstring)."""

    resume: Mapping[TopicPartition, int]  # as handle() returns it

    async def write(self, conn: asyncpg.Connection) -> None:
        """Write the decided effects on `conn`, inside the batch transaction."""


@dataclass(frozen=True)
class ConsumerSettings:
    max_records: int = 5000
    fetch_timeout_ms: int = 500
    retry_backoff_s: float = 0.1  # first retry delay of a failed batch; doubles up to the max
    retry_backoff_max_s: float = 30.0
    deferred_retry_s: float = 0.5  # how long a partition the handler stopped stays paused
    # A partition with this many records held for the next batch is not fetched further until they
    # go (None: max_records). Held records are offered to the handler again with every batch.
    max_held_records: int | None = None
    kafka_commit_interval_s: float = 1.0
    # Pipelining handlers: how many batch transactions may be queued or running while the next batch is
    # prepared. 1: batch N+1 is prepared while N is written. 2: N+2 may be prepared while N is written
    # and N+1 waits its turn; commits stay one at a time, in order (see the module docstring).
    pipeline_depth: int = 1
    # Passed to AIOKafkaConsumer, over the TLS/SASL options of careruntime.kafka_security.
    kafka_options: Mapping[str, Any] = field(default_factory=dict)


class _Listener(ConsumerRebalanceListener):
    def __init__(self, owner: BatchConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._owner._on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        await self._owner._on_assigned(set(assigned))


class BatchConsumer:
    """Consumes `topics` as `group_id`, handing decoded batches to `handler` (see module docstring)."""

    def __init__(
        self, bootstrap: str, group_id: str, topics: Sequence[str], pool: asyncpg.Pool, handler: BatchHandler,
        settings: ConsumerSettings | None = None, metrics: RuntimeMetrics | None = None,
    ) -> None:
        self.group_id, self.topics, self.pool, self.handler = group_id, list(topics), pool, handler
        self.settings = settings or ConsumerSettings()
        self.metrics = metrics
        self.bootstrap = bootstrap
        self.consumer: AIOKafkaConsumer | None = None  # made in run(): aiokafka needs a running loop
        # Held for a whole batch and by the rebalance callbacks: a revoke waits for the batch in hand.
        self._lock = asyncio.Lock()
        self._generation = 0  # bumped by every rebalance; a fetch that spans one is rewound
        self._stored: dict[TopicPartition, int | None] = {}  # ready partitions -> stored next offset
        self._unloaded: set[TopicPartition] = set()  # assigned, offsets not loaded yet (kept paused)
        self._deferred: dict[TopicPartition, float] = {}  # paused on handler request -> resume time
        self._kafka_pending: dict[TopicPartition, int] = {}
        self._kafka_task: asyncio.Task[None] | None = None
        self._kafka_last = 0.0
        self._failures = 0
        self._batches = 0
        self._stop = asyncio.Event()
        self._held: dict[TopicPartition, Part] = {}  # decoded, not committed: the next batch starts with them
        self._full: set[TopicPartition] = set()  # paused because max_records of it are held
        # Batch transactions queued or running (pipelined), oldest first; each awaits the one before it.
        self._writes: deque[asyncio.Task[str]] = deque()

    # -- lifecycle ---------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Finish the batch in hand, then stop (what SIGTERM does)."""
        self._stop.set()

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)

    async def run(self) -> None:
        """Consume until `request_stop()` (or cancellation, which rolls back the batch in hand)."""
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group_id, enable_auto_commit=False,
            auto_offset_reset="earliest", isolation_level="read_committed",
            **(client_options() | dict(self.settings.kafka_options)),
        )
        self.consumer.subscribe(self.topics, listener=_Listener(self))
        try:
            await self._start_kafka()
            while not self._stop.is_set():
                await self._tick()
            async with self._lock:
                await self._settle()  # a stop finishes the batch in hand
        finally:
            if self._writes:  # cancelled: roll the batches in hand back
                for task in self._writes:
                    task.cancel()
                await asyncio.wait(list(self._writes))
                self._writes.clear()
            await self._shutdown()

    async def _start_kafka(self) -> None:
        """Start the Kafka consumer, waiting as long as no broker answers (or until a stop is requested)."""
        attempt = 0
        while not self._stop.is_set():
            try:
                await self.consumer.start()  # a failed bootstrap leaves it unstarted: it may be started again
            except KafkaConnectionError as exc:
                attempt += 1
                delay = min(self.settings.retry_backoff_s * 2 ** attempt, KAFKA_START_RETRY_MAX_S)
                log.warning("Kafka unreachable at start; will retry", bootstrap=self.bootstrap, attempt=attempt,
                            retry_in_s=round(delay, 1), error=str(exc))
                await self._sleep(delay)
                continue
            log.info("consumer started", group_id=self.group_id, topics=self.topics)
            return

    async def _shutdown(self) -> None:
        try:
            if self._kafka_task is not None:
                await asyncio.wait([self._kafka_task], timeout=5)
            if self._kafka_pending:
                await asyncio.wait_for(self._commit_kafka(dict(self._kafka_pending)), timeout=5)
        except Exception:  # best effort only: PostgreSQL already holds the truth
            pass
        finally:
            await self.consumer.stop()
            log.info("consumer stopped", group_id=self.group_id)

    # -- rebalance ---------------------------------------------------------------------------------
    async def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:
            await self._settle()  # the batch in flight commits (or fails) while the partitions are ours
            self._generation += 1
            for tp in revoked:
                self._stored.pop(tp, None)
                self._deferred.pop(tp, None)
                self._kafka_pending.pop(tp, None)
                self._held.pop(tp, None)
                self._full.discard(tp)
                if self.metrics:
                    self.metrics.forget_partition(tp.topic, tp.partition)
            self._unloaded -= revoked
            hook = getattr(self.handler, "on_revoked", None)
            if hook is not None and revoked:
                await hook(revoked)

    async def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        async with self._lock:
            await self._settle()
            self._generation += 1
            if not assigned:
                return
            self.consumer.pause(*assigned)  # nothing is fetched from Kafka's positions meanwhile
            self._unloaded |= assigned
            try:
                await self._load_and_seek()
            except Exception:
                # Retried from the loop; the partitions stay paused until it works.
                log.warning("loading stored offsets failed; will retry", exc_info=True)

    async def _load_and_seek(self) -> None:
        tps = self._unloaded & self.consumer.assignment()
        if not tps:
            self._unloaded = set()
            return
        await self._settle()  # on_assigned may reset the handler's state: nothing may be in flight
        async with self.pool.acquire() as conn:
            async with conn.transaction(isolation="repeatable_read"):
                stored = await load_offsets(conn, self.group_id, tps)
                hook = getattr(self.handler, "on_assigned", None)
                if hook is not None:
                    await hook(conn, sorted(tps))
        for tp, offset in stored.items():
            self.consumer.seek(tp, offset)
        fresh = [tp for tp in tps if tp not in stored]
        if fresh:
            await self.consumer.seek_to_beginning(*fresh)
        self._stored.update({tp: stored.get(tp) for tp in tps})
        for tp in tps:
            self._held.pop(tp, None)
            self._full.discard(tp)
        self._unloaded = set()
        self.consumer.resume(*(tp for tp in tps if tp not in self._deferred))
        log.info("partitions ready", group_id=self.group_id,
                 stored={f"{tp.topic}:{tp.partition}": stored.get(tp) for tp in sorted(tps)})

    # -- the loop ----------------------------------------------------------------------------------
    async def _tick(self) -> None:
        await self._housekeeping()
        generation = self._generation
        # What is held waits for news (a partner partition's records) as a re-fetch of it would: a batch
        # of nothing but held records, offered at once, would mostly be held again.
        fetched = await self.consumer.getmany(
            timeout_ms=self.settings.fetch_timeout_ms, max_records=self.settings.max_records
        )
        async with self._lock:
            if generation != self._generation:
                # A rebalance happened during the fetch. These records may have been fetched before or
                # after its seeks; either way, go back to the stored offsets (never just drop them:
                # the fetch position has already moved past them).
                await self._settle()
                for tp in fetched:
                    self._held.pop(tp, None)
                await self._rewind([tp for tp in fetched if tp in self._stored])
                return
            parts = await self._compose(fetched)
            status = await self._process(parts) if parts else await self._settle()
        if status == "failed":
            backoff = self.settings.retry_backoff_s * 2 ** (self._failures - 1)
            await self._sleep(min(backoff, self.settings.retry_backoff_max_s))

    async def _compose(self, fetched: Mapping[TopicPartition, list[Any]]) -> dict[TopicPartition, Part]:
        """The next batch: per partition, what is held from earlier batches, then what was just fetched
        (decoded here, once). A partition paused for a deferral keeps all of it held."""
        new = self._owned_records(fetched)
        parts, rejects = {}, {}
        for tp, records in new.items():
            good, bad = [], []
            for start in range(0, len(records), DECODE_CHUNK):
                if self._writes:
                    await asyncio.sleep(0)  # the batch in flight sends its next statement while this decodes
                chunk_good, chunk_bad = decode_batch(records[start:start + DECODE_CHUNK])
                good += chunk_good
                bad += chunk_bad
            if bad:
                rejects[tp] = bad
            part = Part(records, good, bad)
            held = self._held.get(tp)
            parts[tp] = held.then(part) if held is not None else part
        if self.metrics:
            self.metrics.batch_decoded(new, rejects)
        for tp, held in self._held.items():
            parts.setdefault(tp, held)
        for tp in [tp for tp in parts if tp in self._deferred]:
            self._held[tp] = parts.pop(tp)
        return parts

    def _owned_records(self, fetched: Mapping[TopicPartition, list[Any]]) -> dict[TopicPartition, list[Any]]:
        """The records of ready partitions, never below the stored offset (that would apply twice)."""
        batch = {}
        for tp, records in fetched.items():
            if not records or tp not in self._stored:
                continue  # not ready: its offsets load (and seek) before it is fetched again
            stored = self._stored[tp]
            if stored is not None and records[0].offset < stored:
                log.error("fetched below the stored offset; skipping those", partition=str(tp),
                          first=records[0].offset, stored=stored)
                records = [r for r in records if r.offset >= stored]
            if records:
                batch[tp] = records
        return batch

    async def _housekeeping(self) -> None:
        now = time.monotonic()
        due = [tp for tp, at in self._deferred.items() if at <= now]
        for tp in due:
            del self._deferred[tp]
        self._resume(due)
        if self._unloaded:
            async with self._lock:
                try:
                    await self._load_and_seek()
                except Exception:
                    log.warning("loading stored offsets failed; will retry", exc_info=True)
                    await self._sleep(self.settings.retry_backoff_s * 5)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except TimeoutError:
            pass

    async def _process(self, parts: dict[TopicPartition, Part]) -> str:
        """Hand one batch to the handler and start (or run) its transaction: "ok", or the status of the
        failure ("failed" makes the loop back off; "fenced" reloads offsets first; "rerun" goes again at once)."""
        self._batches += 1
        batch, decoded, rejects = split(parts)
        prepare = getattr(self.handler, "prepare", None)
        if prepare is None:  # not pipelined: the handler works inside the transaction
            status = await self._settle()
            if status != "ok":
                return status
            self._writes.append(asyncio.create_task(self._write(parts, batch, decoded, rejects, None)))
            return await self._settle()
        try:
            prepared = await prepare(self.pool, decoded, rejects)
        except Rerun as exc:  # decided on something found false while deciding: again, at once
            self._count_rerun("batch to be decided again", exc)
            await self._settle()
            await self._abandon()
            return "rerun"
        except Exception as exc:
            self._count_failure(kind := _failure_kind(exc))
            log.log(_LOG_LEVEL[kind], "batch preparation failed; will retry", kind=kind, attempt=self._failures,
                    exc_info=True)
            await self._settle()
            await self._abandon()
            return "failed"
        status = await self._settle(keep=max(1, self.settings.pipeline_depth) - 1)
        if status != "ok":  # a batch before this one was not committed: this one is void too
            return status
        self._hold(parts, _next_offsets(batch, prepared.resume or {}))
        before = self._writes[-1] if self._writes else None
        self._writes.append(asyncio.create_task(self._write_after(before, parts, batch, decoded, rejects, prepared)))
        return "ok"

    async def _settle(self, keep: int = 0) -> str:
        """Wait for batch transactions until at most `keep` are left in flight: "ok", "fenced", "rerun" or "failed".
        Unless ok, everything decided after the failed one is void: the handler drops its cache
        (on_rollback), nothing stays held and every partition goes back to its stored offset."""
        while len(self._writes) > keep:
            status = await self._writes[0]
            self._writes.popleft()
            if status != "ok":
                for later in self._writes:  # each awaits the one before it: they end with this status
                    await later
                self._writes.clear()
                await self._abandon()
                return status
        return "ok"

    async def _write_after(self, before: asyncio.Task[str] | None, *args) -> str:
        """The batch transaction of `args`, once the one before it has committed (else its status)."""
        if before is not None:
            status = await before
            if status != "ok":
                return status
        return await self._write(*args)

    async def _abandon(self) -> None:
        hook = getattr(self.handler, "on_rollback", None)
        if hook is not None:
            hook()
        self._held.clear()
        full, self._full = list(self._full), set()
        self._resume(full)
        await self._rewind(list(self._stored))

    async def _write(self, parts, batch, decoded, rejects, prepared: PreparedBatch | None) -> str:
        """One batch transaction: effects, dead letters, offsets. "ok", "fenced", "rerun" or "failed"."""
        started = time.perf_counter()
        size = sum(len(recs) for recs in batch.values())
        context = {"group_id": self.group_id, "batch": self._batches, "records": size}
        with structlog.contextvars.bound_contextvars(**context):
            try:
                async with self.pool.acquire() as conn:
                    async with conn.transaction():
                        if prepared is None:
                            stops = await self.handler.handle(conn, decoded, rejects) or {}
                            next_offsets = _next_offsets(batch, stops)
                        else:
                            await prepared.write(conn)
                            next_offsets = _next_offsets(batch, prepared.resume or {})
                        dead = [dlq_row(tp.topic, rec, err.code, err.detail, group_id=self.group_id)
                                for tp, items in rejects.items() for rec, err in items
                                if rec.offset < next_offsets[tp]]
                        await outbox.append(conn, dead)
                        await save_offsets(conn, self.group_id, next_offsets,
                                           expected={tp: self._stored[tp] for tp in next_offsets})
            except OffsetConflict as exc:
                log.warning("stored offsets moved under us; reloading", partitions=str(exc.partitions))
                self._count_failure("offset_conflict")
                for tp in batch:
                    self._stored.pop(tp, None)
                self._unloaded |= set(batch)
                self.consumer.pause(*batch)
                return "fenced"  # _housekeeping reloads before the next fetch
            except Rerun as exc:
                self._count_rerun("batch rolled back to be decided again", exc)
                return "rerun"
            except Exception as exc:
                self._count_failure(kind := _failure_kind(exc))
                log.log(_LOG_LEVEL[kind], "batch rolled back; will retry",
                        kind=kind, attempt=self._failures, exc_info=True)
                return "failed"
            elapsed = time.perf_counter() - started
            self._failures = 0
            self._stored.update(next_offsets)
            if prepared is None:
                self._hold(parts, next_offsets)
            self._after_commit(batch, next_offsets, dead, elapsed)
        return "ok"

    def _hold(self, parts: dict[TopicPartition, Part], next_offsets: Mapping[TopicPartition, int]) -> None:
        """Keep each partition's records from its next offset on for the next batch (see held.py)."""
        now = time.monotonic()
        for tp, part in parts.items():
            rest = part.from_offset(next_offsets[tp])
            if rest is None:
                self._held.pop(tp, None)
                if tp in self._full:
                    self._full.discard(tp)
                    self._resume([tp])
                continue
            self._held[tp] = rest
            if self.settings.deferred_retry_s > 0:
                self.consumer.pause(tp)
                self._deferred[tp] = now + self.settings.deferred_retry_s
            if len(rest.records) >= (self.settings.max_held_records or self.settings.max_records):
                self._full.add(tp)
                self.consumer.pause(tp)
            elif tp in self._full:
                self._full.discard(tp)
                self._resume([tp])

    def _resume(self, tps: Iterable[TopicPartition]) -> None:
        """Resume fetching what no other reason keeps paused."""
        free = [tp for tp in tps if tp in self._stored and tp not in self._deferred and tp not in self._full
                and tp not in self._unloaded]
        if free:
            self.consumer.resume(*free)

    def _count_rerun(self, message: str, exc: Rerun) -> None:
        """A batch to be decided again: logged at info and counted, never backed off (module docstring)."""
        log.info(message, reason=str(exc))
        if self.metrics:
            self.metrics.batch_failures.labels("rerun").inc()

    def _count_failure(self, kind: str) -> None:
        self._failures += 1
        if self.metrics:
            self.metrics.batch_failures.labels(kind).inc()

    async def _rewind(self, tps: Iterable[TopicPartition]) -> None:
        fresh = []
        for tp in tps:
            self._held.pop(tp, None)
            stored = self._stored.get(tp)
            if stored is None:
                fresh.append(tp)
                continue
            try:
                self.consumer.seek(tp, stored)
            except IllegalStateError:
                pass  # no longer ours; the new owner starts from PostgreSQL
        if fresh:
            try:
                await self.consumer.seek_to_beginning(*fresh)
            except IllegalStateError:
                pass

    def _after_commit(self, batch, next_offsets, dead, elapsed: float) -> None:
        now = time.monotonic()
        if self.metrics:
            self.metrics.batch_committed(batch, next_offsets, dead, elapsed, self.consumer.highwater)
        self._kafka_pending.update(next_offsets)
        idle = self._kafka_task is None or self._kafka_task.done()
        if idle and now - self._kafka_last >= self.settings.kafka_commit_interval_s:
            self._kafka_last = now
            pending, self._kafka_pending = self._kafka_pending, {}
            self._kafka_task = asyncio.create_task(self._commit_kafka(pending))

    async def _commit_kafka(self, offsets: dict[TopicPartition, int]) -> None:
        owned = self.consumer.assignment()
        offsets = {tp: off for tp, off in offsets.items() if tp in owned}
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except Exception as exc:  # lag reporting only; the next interval tries again
            log.debug("kafka offset commit skipped", error=repr(exc))


_LOG_LEVEL = {"transient": 30, "error": 40}  # a lost or busy database is a warning; anything else an error


def _failure_kind(exc: BaseException) -> str:
    """How a failed batch is counted (batch_failures{kind}) and logged: "transient" or "error"."""
    return "transient" if isinstance(exc, TRANSIENT_ERRORS) else "error"


def _next_offsets(batch: Mapping[TopicPartition, Sequence[Any]], stops: Mapping[TopicPartition, int]) -> dict:
    """Offset to store per partition: past the batch, or where the handler asked to resume."""
    result = {}
    for tp, records in batch.items():
        end = records[-1].offset + 1
        stop = stops.get(tp, end)
        if not records[0].offset <= stop <= end:
            raise ValueError(f"handler asked to resume {tp} at {stop}, outside {records[0].offset}..{end}")
        result[tp] = stop
    return result


__all__ = [
    "BatchConsumer", "BatchHandler", "ConsumerSettings", "DecodedBatch", "PreparedBatch", "RejectedBatch",
    "Rerun", "TRANSIENT_ERRORS",
]
