"""Shared helpers of the payments integration tests (test_payments_*.py): real topics and databases for
payments and the ledger, the payments worker and relay in-process or as `python -m payments` child
processes, the ledger in-process, wire messages as the allocation service and portals send them, and
read-backs from Kafka and PostgreSQL. No mocks anywhere."""
from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from careruntime.codec import KAFKA_HEADERS, decode, encode
from careruntime.consumer import ConsumerSettings
from careschemas.registry import make_envelope, payload_model
from careschemas.topics import message_key
from caretools import localstack
from caretools.bank_sim import directory_csv
from ledger.bootstrap import build_relay as build_ledger_relay
from ledger.bootstrap import build_worker as build_ledger_worker
from ledger.config import Settings as LedgerSettings
from payments.bootstrap import make_relay, make_worker
from payments.config import Settings

COUNCIL = "E08000025"
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
FAST = ConsumerSettings(max_records=2000, fetch_timeout_ms=100, retry_backoff_s=0.05)
ALLOCATION, COMMANDS, EVENTS, ENTRIES = ("allocation.events.v1", "payments.commands.v1", "payments.events.v1",
                                         "ledger.entries.v1")
LOGICAL = (ALLOCATION, COMMANDS, EVENTS, ENTRIES, ALLOCATION + ".dlq", COMMANDS + ".dlq", EVENTS + ".dlq")


def wire(type_name: str, message_id: str, *, at: datetime = T0, source: str = "urn:test", **fields) -> tuple[bytes, bytes]:
    """(key, value) of a payload as its producer sends it; effective_date defaults to 2026-04-01."""
    fields.setdefault("effective_date", date(2026, 4, 1))
    payload = payload_model(type_name).model_validate(fields)
    key = message_key(payload)
    env = make_envelope(payload, id=message_id, source=source, subject=key, council_id=COUNCIL,
                        correlation_id=f"conv-{message_id}", time=at)
    return key.encode(), encode(env)


def alloc(short: str, event_id: str, **fields) -> tuple[bytes, bytes]:
    return wire(f"allocation.{short}.v1", event_id, source="urn:careledger:allocation", **fields)


def command(family_short: str, command_id: str, **fields) -> tuple[bytes, bytes]:
    """`payments.CreatePaymentRun` or `invoices.ReceiveInvoice` etc."""
    family, short = family_short.split(".")
    return wire(f"{family}.{short}.v1", command_id, source="urn:test:portal", **fields)


async def send(bootstrap: str, topic: str, messages: list[tuple[bytes | None, bytes | None]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key, headers=KAFKA_HEADERS) for key, value in messages]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def read_records(bootstrap: str, topic: str) -> list:
    """Every committed record of `topic` up to its end now (read_committed), partition by partition."""
    ends = await localstack.record_ends(bootstrap, [topic])
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed",
                                enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [tp for tp, end in ends.items() if end > 0]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        records = []
        while tps and [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def read_events(bootstrap: str, topic: str) -> list:
    """Every decoded envelope on a topic (read_committed), in partition order."""
    return [decode(r.value).envelope for r in await read_records(bootstrap, topic)]


@dataclass
class Deployment:
    """Payments + ledger for one test: topics, databases, settings, and what runs."""

    stack: object
    names: dict[str, str]
    payments_dsn: str
    ledger_dsn: str
    out_dir: Path
    group: str = field(default_factory=lambda: f"payments-it-{uuid.uuid4().hex[:8]}")
    tasks: list = field(default_factory=list)
    stoppers: list = field(default_factory=list)
    pools: list = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return Settings(kafka_bootstrap=self.stack.bootstrap, database_url=self.payments_dsn, group_id=self.group,
                        allocation_events_topic=self.names[ALLOCATION], commands_topic=self.names[COMMANDS],
                        events_topic=self.names[EVENTS], out_dir=self.out_dir,
                        bank_directory=self.out_dir / "directory.csv")

    @property
    def ledger_settings(self) -> LedgerSettings:
        return LedgerSettings(kafka_bootstrap=self.stack.bootstrap, database_url=self.ledger_dsn,
                              group_id=f"ledger-{self.group}", budget_topics=[self.names[ALLOCATION]],
                              other_topics=[self.names[EVENTS]], entries_topic=self.names[ENTRIES])

    def env(self) -> dict[str, str]:
        """The settings as PAYMENTS_* environment variables, for `python -m payments ...`."""
        s = self.settings
        return {"PAYMENTS_KAFKA_BOOTSTRAP": s.kafka_bootstrap, "PAYMENTS_DATABASE_URL": s.database_url,
                "PAYMENTS_GROUP_ID": s.group_id, "PAYMENTS_ALLOCATION_EVENTS_TOPIC": s.allocation_events_topic,
                "PAYMENTS_COMMANDS_TOPIC": s.commands_topic, "PAYMENTS_EVENTS_TOPIC": s.events_topic,
                "PAYMENTS_OUT_DIR": str(s.out_dir), "PAYMENTS_BANK_DIRECTORY": str(s.bank_directory),
                "PAYMENTS_HEALTH_PORT": str(localstack.free_port_pair()), "PAYMENTS_LOG_LEVEL": "WARNING"}

    def write_directory(self, account_refs: list[str]) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / "directory.csv").write_text(directory_csv(account_refs))

    async def pool(self) -> asyncpg.Pool:
        pool = await asyncpg.create_pool(self.payments_dsn, min_size=1, max_size=6)
        self.pools.append(pool)
        return pool

    async def start_payments(self, relay: bool = True, consumer_settings: ConsumerSettings = FAST):
        pool = await self.pool()
        worker = make_worker(self.settings, pool, consumer_settings)
        self.tasks.append(asyncio.create_task(worker.consumer.run()))
        self.stoppers.append(worker.consumer.request_stop)
        if relay:
            rel, _ = make_relay(self.settings, pool, poll_interval_s=0.05)
            self.tasks.append(asyncio.create_task(rel.run()))
            self.stoppers.append(rel.request_stop)
        return worker

    async def start_ledger(self) -> None:
        worker = await build_ledger_worker(self.ledger_settings)
        pool, relays, _ = await build_ledger_relay(self.ledger_settings)
        self.pools += [worker.pool, pool]
        self.tasks += [asyncio.create_task(worker.consumer.run()), *(asyncio.create_task(r.run()) for r in relays)]
        self.stoppers += [worker.consumer.request_stop, *(r.request_stop for r in relays)]

    async def payments_settled(self, timeout_s: float = 90, procs=()) -> None:
        """The payments worker has consumed both its inputs and its relay has published everything
        (`procs`: child processes that must stay alive meanwhile)."""
        for proc in procs:
            assert proc.poll() is None, f"{proc.args} exited {proc.returncode}"
        targets = await localstack.record_ends(self.stack.bootstrap, [self.names[ALLOCATION], self.names[COMMANDS]])
        await localstack.wait_consumed(self.payments_dsn, self.group, targets, timeout_s)

    async def ledger_settled(self, timeout_s: float = 120) -> None:
        targets = await localstack.record_ends(self.stack.bootstrap, [self.names[ALLOCATION], self.names[EVENTS]])
        await localstack.wait_consumed(self.ledger_dsn, f"ledger-{self.group}", targets, timeout_s)

    async def stop(self) -> None:
        for stop in self.stoppers:
            stop()
        if self.tasks:
            await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), timeout=30)
        self.tasks, self.stoppers = [], []
        for pool in self.pools:
            with contextlib.suppress(Exception):
                await pool.close()
        self.pools = []


async def deployment(stack, fresh_db, topics, tmp_path: Path, partitions: int = 3) -> Deployment:
    names = await topics(list(LOGICAL), partitions=partitions)
    return Deployment(stack, names, await fresh_db("payments"), await fresh_db("ledger"), tmp_path / "out")
