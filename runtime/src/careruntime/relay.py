"""The outbox relay: publishes committed outbox rows to Kafka, then deletes them.

What it reads, and how it marks rows done, is a `RelaySource`: by default `OutboxSource` (the `outbox`
table, rows deleted once published). A service whose own append-only table already holds everything
a message needs can relay from it instead, with a cursor (the ledger's journal: ledger.adapters
.entries_relay); leadership, transactions, batching and back-off are the same for every source.

Owns the read side of the `outbox` table. Only the leader relays: the relay that holds a session
advisory lock on a dedicated connection (standbys retry the lock every second and take over when the
leader's session ends; a leader whose session PostgreSQL ended, say by a restart, takes the lock again on a new
session once it can). One pass, in one PostgreSQL transaction: select the oldest rows
(`ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED`), send them all and await every delivery, delete
exactly those rows by id, commit.

Delivery is at least once. A crash (or a lost connection) after Kafka has the records but before the
DELETE commits leaves the rows in place and they are sent again; consumers dedupe by event id
(same id + same content hash = same outcome). Nothing is lost: a row leaves the outbox only after
Kafka acknowledged it.

Why delete instead of remembering "published up to id N": BIGSERIAL ids are handed out at INSERT
time, not at commit time. With two writers, id 11 can commit before id 10; a reader that advanced its
position to 11 would never see 10. Deleting what was published makes the question "which rows are
left?", which has no such gap: row 10 is simply still there on the next pass.

Per-key order: rows of one key are written by one writer (the consumer owning that partition) in
commit order, and within a transaction in list order, so ascending id is their order. The relay
sends in id order and a producer keeps send order per partition. Two more things keep it whole:
 - leadership makes one relay per database active at a time, so two relays never split rows of
   one key between them (SKIP LOCKED alone would allow that), and standbys hold no producer;
 - by default each iteration is a Kafka transaction (transactional id derived from the database
   name). If a send fails part-way, the transaction is aborted and `read_committed` consumers never
   see the records that did get through, so a retry cannot put a later record before an earlier one.
   The fixed transactional id also fences a former leader that has not noticed it lost the lock.
   With `transactional_id=None` the producer is only idempotent; then a partial failure followed by a
   retry can deliver a duplicate of a later record ahead of an earlier one.

A row for a topic the broker does not have stops the relay (each pass fails, is logged and retried
with backoff, and `outbox_oldest_age_seconds` climbs): declare every topic, `<topic>.dlq` included.

Wake-up: LISTEN on the `outbox` channel (a statement trigger notifies) with a short poll as fallback.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import orjson
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from aiokafka.partitioner import DefaultPartitioner

from .kafka_security import client_options
from .metrics import RuntimeMetrics
from .sql import OUTBOX_CHANNEL

log = structlog.get_logger("careruntime.relay")

RELAY_LOCK_KEY = 0x6F7574626F78  # "outbox" in ASCII: the leadership lock, one per database
AUTO = "auto"
_PARTITIONER = DefaultPartitioner()

_SELECT = """
SELECT id, topic, key, value, headers, created_at FROM outbox
ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
"""
_DELETE = "DELETE FROM outbox WHERE id = ANY($1::bigint[])"


class RelaySource(Protocol):
    """Where a relay's rows come from. A row maps `id`, `topic`, `key` (bytes), `value` (bytes),
    `headers` (a JSON object as text) and `created_at` (timestamptz) like an outbox row."""

    name: str  # the Kafka transactional id is "<name>.<database>"
    lock_key: int  # the session advisory lock that makes one relay per database the leader
    channel: str  # LISTEN channel that wakes the relay

    async def take(self, conn: asyncpg.Connection, limit: int) -> Sequence[Mapping[str, Any]]:
        """Up to `limit` rows to publish, in publication order (inside the pass's transaction)."""

    async def done(self, conn: asyncpg.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Mark `rows` published (same transaction; it commits only after Kafka acknowledged them)."""


class OutboxSource:
    """The `outbox` table: oldest rows first, deleted once published."""

    name = "careruntime-outbox-relay"
    lock_key = RELAY_LOCK_KEY
    channel = OUTBOX_CHANNEL

    async def take(self, conn: asyncpg.Connection, limit: int) -> Sequence[Mapping[str, Any]]:
        return await conn.fetch(_SELECT, limit)

    async def done(self, conn: asyncpg.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        await conn.execute(_DELETE, [r["id"] for r in rows])


class OutboxRelay:
    """Relays the outbox of the database behind `pool` to the Kafka cluster at `bootstrap`.

    The leader keeps one pool connection for its lock and LISTEN, and uses one more per pass: give it
    a pool of at least two connections.
    """

    def __init__(
        self, pool: asyncpg.Pool, bootstrap: str, *, batch_size: int = 5000, poll_interval_s: float = 0.2,
        transactional_id: str | None = AUTO, listen: bool = True, metrics: RuntimeMetrics | None = None,
        producer_options: Mapping[str, Any] | None = None, retry_backoff_max_s: float = 10.0,
        standby_interval_s: float = 1.0, source: RelaySource | None = None,
    ) -> None:
        self.source: RelaySource = source or OutboxSource()
        self.pool, self.bootstrap, self.batch_size = pool, bootstrap, batch_size
        self.poll_interval_s, self.listen, self.metrics = poll_interval_s, listen, metrics
        self.transactional_id = transactional_id
        self.producer_options = dict(producer_options or {})
        self.retry_backoff_max_s = retry_backoff_max_s
        self.standby_interval_s = standby_interval_s
        self.producer: AIOKafkaProducer | None = None
        self._transactional = False
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._leader_conn: asyncpg.Connection | None = None  # holds the lock (and LISTENs)

    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @property
    def is_leader(self) -> bool:
        conn = self._leader_conn
        if conn is None:
            return False
        try:
            return not conn.is_closed()
        except asyncpg.InterfaceError:
            # The session was lost (PostgreSQL restarted, failed over or went away) and asyncpg's pool took
            # the connection back; its proxy refuses every call. Not leading: _lead() takes the lock anew.
            return False

    async def run(self) -> None:
        """Relay until `request_stop()`; errors are logged and retried with backoff, never fatal."""
        failures = 0
        try:
            while not self._stop.is_set():
                try:
                    if not await self._lead():
                        await self._wait(self.standby_interval_s)
                        continue
                    sent = await self.relay_once()
                    failures = 0
                except Exception as exc:
                    failures += 1
                    unreachable = isinstance(exc, KafkaConnectionError)  # a line each attempt, no traceback
                    log.warning("relay pass failed; will retry", attempt=failures, exc_info=not unreachable,
                                **({"error": str(exc)} if unreachable else {}))
                    await self._close_producer()  # a failed transactional producer may be unusable
                    await self._wait(min(0.1 * 2 ** failures, self.retry_backoff_max_s))
                    continue
                if sent < self.batch_size:
                    await self._wait(self.poll_interval_s)
        finally:
            await self._close_producer()
            await self._resign()

    async def relay_once(self) -> int:
        """One pass: publish and delete up to `batch_size` rows; returns how many were published.

        `run()` calls it only while leading; calling it directly bypasses the leadership check.
        """
        producer = await self._producer()
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                rows = await self.source.take(conn, self.batch_size)
                if self.metrics:
                    age = (datetime.now(UTC) - rows[0]["created_at"]).total_seconds() if rows else 0.0
                    self.metrics.outbox_oldest_age_seconds.set(max(age, 0.0))
                if not rows:
                    return 0
                started = time.perf_counter()
                await self._publish(producer, rows)
                await self.source.done(conn, rows)
        if self.metrics:
            for topic, n in Counter(r["topic"] for r in rows).items():
                self.metrics.relay_published.labels(topic).inc(n)
        log.debug("relayed", rows=len(rows), seconds=round(time.perf_counter() - started, 4))
        return len(rows)

    async def close(self) -> None:
        """Stop the producer and give up leadership (for callers of `relay_once`; `run()` does it itself)."""
        await self._close_producer()
        await self._resign()

    async def _publish(self, producer: AIOKafkaProducer, rows: Sequence[asyncpg.Record]) -> None:
        try:
            if self._transactional:  # all or nothing for the batch
                async with producer.transaction():
                    futures = await _send_all(producer, rows)
            else:
                futures = await _send_all(producer, rows)
            await asyncio.gather(*futures)  # raises the first failed delivery
        except MessageSizeTooLargeError:
            # retried like any failed pass, but it will fail again: say which row, for the operator
            log.error("Kafka refused a record of this pass as too large; it holds back every later row",
                      source=self.source.name, **largest_row(rows))
            raise

    async def _producer(self) -> AIOKafkaProducer:
        if self.producer is None:
            options: dict[str, Any] = {
                "acks": "all", "enable_idempotence": True, "linger_ms": 5, "max_batch_size": 256 * 1024,
                **client_options(),  # TLS/SASL from the environment (careruntime.kafka_security)
            }
            options.update(self.producer_options)
            txn_id = self.transactional_id
            if txn_id == AUTO:
                async with self.pool.acquire() as conn:
                    txn_id = f"{self.source.name}.{await conn.fetchval('SELECT current_database()')}"
            if txn_id is not None:
                options["transactional_id"] = txn_id
            producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, **options)
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self.producer, self._transactional = producer, txn_id is not None
        return self.producer

    async def _close_producer(self) -> None:
        producer, self.producer = self.producer, None
        if producer is not None:
            try:
                await producer.stop()
            except Exception:
                log.debug("producer stop failed", exc_info=True)

    async def _lead(self) -> bool:
        """True while this relay holds the leadership lock; tries to take it when it does not."""
        if self.is_leader:
            return True
        await self._resign()
        conn = await self.pool.acquire()
        try:
            if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self.source.lock_key):
                await self.pool.release(conn)
                return False
        except BaseException:
            await self.pool.release(conn)
            raise
        self._leader_conn = conn
        log.info("relay leading", source=self.source.name)
        if self.listen:
            try:
                await conn.add_listener(self.source.channel, self._on_notify)
            except Exception:  # polling still works; LISTEN only makes it prompt
                log.warning("LISTEN failed; polling only", channel=self.source.channel, exc_info=True)
        return True

    async def _resign(self) -> None:
        conn, self._leader_conn = self._leader_conn, None
        if conn is None:
            return
        try:
            if not conn.is_closed():
                await conn.remove_listener(self.source.channel, self._on_notify)
                await conn.execute("SELECT pg_advisory_unlock($1)", self.source.lock_key)
        except Exception:
            pass  # the session is gone, and its lock with it
        finally:
            await self.pool.release(conn)

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    async def _wait(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            pass
        self._wake.clear()


def largest_row(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Where the largest row of a pass is (its id when the source has one, its topic, key and value bytes)."""
    big = max(rows, key=lambda r: len(r["key"] or b"") + len(r["value"] or b""))
    return {"row_id": big["id"] if "id" in big.keys() else None, "topic": big["topic"],
            "bytes": len(big["key"] or b"") + len(big["value"] or b"")}


async def _send_all(producer: AIOKafkaProducer, rows: Sequence[asyncpg.Record]) -> list[asyncio.Future]:
    """Queue `rows` in id order as whole record batches per partition.

    Far cheaper than one `send()` per row: no per-record future, and the murmur2 key hash (pure
    Python in aiokafka) runs once per distinct key. Partitions are chosen by the same
    DefaultPartitioner as `send()`, so a key lands where any Kafka client would put it. Batches of a
    partition are queued in order and the producer keeps that order.
    """
    futures: list[asyncio.Future] = []
    open_batches: dict[tuple[str, int], Any] = {}
    partitions: dict[str, tuple[list[int], list[int]]] = {}
    chosen: dict[tuple[str, bytes], int] = {}
    parsed_headers: dict[str, list[tuple[str, bytes]]] = {}
    for row in rows:
        topic, key, value = row["topic"], row["key"], row["value"]
        if topic not in partitions:
            all_ids = sorted(await producer.partitions_for(topic))
            partitions[topic] = (all_ids, all_ids)
        if key is None:
            partition = _PARTITIONER(None, *partitions[topic])
        elif (partition := chosen.get((topic, key))) is None:
            partition = chosen[(topic, key)] = _PARTITIONER(key, *partitions[topic])
        raw_headers = row["headers"]
        if (headers := parsed_headers.get(raw_headers)) is None:
            headers = parsed_headers[raw_headers] = [
                (k, str(v).encode()) for k, v in orjson.loads(raw_headers).items()]
        batch = open_batches.get((topic, partition))
        if batch is None:
            batch = open_batches[(topic, partition)] = producer.create_batch()
        if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
            futures.append(await producer.send_batch(batch, topic, partition=partition))
            batch = open_batches[(topic, partition)] = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                raise ValueError(f"outbox row {row['id']} is larger than max_batch_size")
    for (topic, partition), batch in open_batches.items():
        futures.append(await producer.send_batch(batch, topic, partition=partition))
    return futures


__all__ = ["AUTO", "RELAY_LOCK_KEY", "OutboxRelay", "OutboxSource", "RelaySource"]
