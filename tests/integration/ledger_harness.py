"""Shared helpers of the ledger's integration tests (test_ledger_*.py): real topics, a real ledger
database, `python -m ledger worker|relay` as child processes, and read-backs from Kafka and PostgreSQL.

Owns nothing the ledger owns: it only starts the ledger's own entry points (through
caretools.localstack, as `make demo` does) and reads what they wrote. No mocks anywhere.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from careruntime.dlq import dlq_topic
from careruntime.migrate import migrate
from careruntime.stackinfo import StackInfo
from careruntime.topics import TopicSpec, delete_topics, ensure_topics
from careschemas.envelope import Envelope
from careschemas.registry import payload_model
from caretools import localstack
from caretools.badinput import bad_messages
from caretools.generator import generate
from caretools.messages import Message

ALLOCATION = "allocation.events.v1"
PAYMENTS = "payments.events.v1"
ENTRIES = "ledger.entries.v1"
INPUTS = (ALLOCATION, PAYMENTS)
# Every topic the ledger reads or writes; the relay stops on a row for a topic the broker lacks,
# so the dead-letter topics must exist too.
LEDGER_TOPICS = (ALLOCATION, PAYMENTS, ENTRIES, dlq_topic(ALLOCATION), dlq_topic(PAYMENTS))
CONTENT_TYPE = [("content-type", b"application/cloudevents+json; charset=UTF-8")]


async def ledger_topics(topics, partitions: int = 3) -> dict[str, str]:
    """Per-test topics under one prefix, so `<real input>.dlq` is exactly the dead-letter topic the
    runtime derives (careruntime.dlq.dlq_topic)."""
    names = await topics(list(LEDGER_TOPICS), partitions=partitions)
    for logical in INPUTS:
        assert names[dlq_topic(logical)] == dlq_topic(names[logical])
    return names


free_port_pair = localstack.free_port_pair  # below the ephemeral range (reporting_harness imports it from here)


@dataclass
class LedgerRun:
    """One ledger deployment for a test: database, topics, group, and its worker/relay processes."""

    stack: StackInfo
    dsn: str
    names: dict[str, str]
    log_dir: Path
    group: str = field(default_factory=lambda: f"ledger-it-{uuid.uuid4().hex[:10]}")
    extra: dict = field(default_factory=dict)
    procs: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.env = localstack.ledger_env(self.stack, self.dsn, self.names, self.group,
                                         health_port=free_port_pair(), **self.extra)
        self.worker = localstack.LedgerProcess("worker", self.env, self.log_dir / f"{self.group}-worker.log")
        self.relay = localstack.LedgerProcess("relay", self.env, self.log_dir / f"{self.group}-relay.log")

    @property
    def inputs(self) -> list[str]:
        return [self.names[t] for t in INPUTS]

    def start(self, worker: bool = True, relay: bool = True) -> None:
        if worker:
            self.worker.start()
        if relay:
            self.relay.start()

    def stop(self) -> dict[str, int | None]:
        return {"worker": self.worker.stop(), "relay": self.relay.stop()}

    def kill(self) -> None:
        self.worker.kill()
        self.relay.kill()

    def logs(self, lines: int = 40) -> str:
        out = []
        for proc in (self.worker, self.relay):
            if proc.log_path.exists():
                tail = proc.log_path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {proc.log_path.name}\n" + "\n".join(tail))
        return "\n".join(out)

    def assert_alive(self) -> None:
        for proc in (self.worker, self.relay):
            if proc.proc is not None:
                assert proc.proc.poll() is None, f"ledger {proc.command} exited {proc.proc.returncode}\n{self.logs()}"

    async def end_offsets(self) -> dict[TopicPartition, int]:
        return await localstack.end_offsets(self.stack.bootstrap, self.inputs)

    async def wait_consumed(self, timeout_s: float = 60, targets: dict | None = None) -> float:
        """Until the stored offsets reach the inputs' end offsets and the outbox is drained."""
        targets = targets if targets is not None else await self.end_offsets()
        try:
            return await localstack.wait_consumed(self.dsn, self.group, targets, timeout_s)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from None

    async def stored_offsets(self, conn: asyncpg.Connection) -> dict[TopicPartition, int]:
        rows = await conn.fetch("SELECT topic, partition, next_offset FROM consumer_offsets WHERE group_id = $1",
                                self.group)
        return {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}


@pytest.fixture
def ledger_runs():
    """Collects LedgerRuns; kills whatever is still running when the test ends, pass or fail."""
    runs: list[LedgerRun] = []
    yield runs
    for run in runs:
        run.kill()


@contextlib.asynccontextmanager
async def module_deployment(stack: StackInfo, log_dir: Path, partitions: int = 3, **extra):
    """A LedgerRun on its own database and topics for a whole test module (tests/conftest.py's
    `fresh_db` and `topics` are per test): made and dropped the same way those fixtures do it."""
    name = f"t_ledger_{uuid.uuid4().hex[:12]}"
    dsn = stack.dsn(name)
    await asyncio.to_thread(migrate, dsn, stack.repo_root / "services" / "ledger" / "migrations")
    prefix = f"t{uuid.uuid4().hex[:10]}."
    names = {logical: prefix + logical for logical in LEDGER_TOPICS}
    await ensure_topics(stack.bootstrap, [TopicSpec(real, partitions, 1, {}) for real in names.values()])
    run = LedgerRun(stack, dsn, names, log_dir, extra=extra)
    try:
        yield run
    finally:
        run.kill()
        with contextlib.suppress(Exception):
            await delete_topics(stack.bootstrap, list(names.values()))
        with contextlib.suppress(Exception):
            await drop_database(stack, name)


@contextlib.asynccontextmanager
async def database_copy(stack: StackInfo, template: str, prefix: str):
    """A fresh copy of database `template` (CREATE DATABASE ... TEMPLATE) for one test; yields its DSN."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(stack.dsn("postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await admin.close()
    try:
        yield stack.dsn(name)
    finally:
        await drop_database(stack, name)


async def drop_database(stack: StackInfo, name: str) -> None:
    admin = await asyncpg.connect(stack.dsn("postgres"), timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def produce(stack: StackInfo, messages: Sequence[Message], names: dict[str, str]) -> None:
    await localstack.produce(stack.bootstrap, messages, names)


async def produce_one(stack: StackInfo, topic: str, key: bytes | None, value: bytes | None):
    """Send one record and return its RecordMetadata (topic, partition, offset)."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        return await producer.send_and_wait(topic, value, key=key, headers=CONTENT_TYPE)
    finally:
        await producer.stop()


async def read_topic(bootstrap: str, topic: str, timeout_s: float = 30) -> list:
    """Every committed record of `topic`, from the beginning to its current end (read_committed:
    the relay publishes in Kafka transactions, and an aborted one must not count)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        assert tps, f"topic {topic} has no partitions"
        ends = await consumer.end_offsets(tps)
        wanted = [tp for tp in tps if ends[tp] > 0]
        if not wanted:
            return []
        consumer.assign(wanted)
        await consumer.seek_to_beginning(*wanted)
        records: list = []
        deadline = time.monotonic() + timeout_s
        remaining = {tp: ends[tp] for tp in wanted}
        while remaining:
            assert time.monotonic() < deadline, f"reading {topic}: not at the end after {timeout_s}s: {remaining}"
            for batch in (await consumer.getmany(timeout_ms=500, max_records=10_000)).values():
                records.extend(batch)
            for tp in list(remaining):  # positions, not offsets: transaction markers carry no record
                if await consumer.position(tp) >= remaining[tp]:
                    del remaining[tp]
        return records
    finally:
        await consumer.stop()


def header(record, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return bytes(value).decode()
    return None


def decode_ledger_message(value: bytes):
    """A ledger.entries record through the shared contracts (careschemas): envelope and typed payload."""
    envelope = Envelope.model_validate_json(value)
    model = payload_model(envelope.type)
    assert model is not None, f"no schema for {envelope.type}"
    return envelope, model.model_validate(envelope.data)


def envelope_id(message: Message) -> str:
    return orjson.loads(message.value)["id"]


# -- read-backs of the ledger database -----------------------------------------------------------------

JOURNAL_SQL = """SELECT entry_id, shard, shard_seq, council_id, effective_date, recorded_at, cause_event_id,
                        cause_type, rule_version, reverses_entry_id, accounts, debits, credits, prev_hash, hash
                   FROM journal_entries ORDER BY shard, shard_seq"""
PROCESSED_SQL = """SELECT event_id, content_hash, council_id, event_type, shard, source_offset, outcome, entry_id,
                          reason_code, detail FROM processed_events ORDER BY event_id, content_hash"""


async def journal(conn) -> list[tuple]:
    return [tuple(r.values()) for r in await conn.fetch(JOURNAL_SQL)]


async def balances(conn) -> dict[str, int]:
    return dict(await conn.fetch("SELECT account, balance_pence FROM accounts ORDER BY account"))


async def heads(conn) -> dict[str, tuple[int, str]]:
    return {r["shard"]: (r["shard_seq"], r["hash"]) for r in await conn.fetch("SELECT * FROM shard_heads")}


async def processed(conn) -> list[tuple]:
    return [tuple(r.values()) for r in await conn.fetch(PROCESSED_SQL)]


async def working_state(conn) -> list[tuple]:
    return [tuple(r.values()) for r in await conn.fetch(
        "SELECT kind, key, council_id, data::text FROM ledger_state ORDER BY kind, key")]


async def snapshot(conn) -> dict:
    """Everything the ledger keeps about money and outcomes (not offsets or outbox)."""
    return {"journal": await journal(conn), "balances": await balances(conn), "heads": await heads(conn),
            "processed": await processed(conn), "state": await working_state(conn)}


async def two_runs_of_a_year(stack: StackInfo, fresh_db, topics, ledger_runs: list, tmp_path: Path, council: str,
                             people: int, settings: dict) -> tuple[LedgerRun, LedgerRun, dict[TopicPartition, int]]:
    """A seeded year for `people` (and its bad input) on the ledger's input topics, and two LedgerRuns that read
    it, each with its own database and ledger.entries topic (neither started); returns them and the inputs'
    end offsets. The outage tests run one fault-free and one through the outage, and compare them."""
    valid = generate(people=people, seed=3, council_id=council)
    names = await ledger_topics(topics)
    other = {**names, ENTRIES: (await topics([ENTRIES]))[ENTRIES]}
    await produce(stack, valid + bad_messages(valid, council), names)
    first = LedgerRun(stack, await fresh_db("ledger"), names, tmp_path, extra=settings)
    second = LedgerRun(stack, await fresh_db("ledger"), other, tmp_path, extra=settings)
    ledger_runs.extend([first, second])
    return first, second, await first.end_offsets()


async def progress(conn: asyncpg.Connection, run: LedgerRun, total: int) -> float:
    """The share of `total` input records whose offsets `run` has stored."""
    return sum((await run.stored_offsets(conn)).values()) / total


async def verified_snapshots(runs: dict[str, LedgerRun]) -> dict[str, dict]:
    """Each run's `snapshot`, once `ledger verify` found its journal sound."""
    from ledger.service.verify import verify

    states = {}
    for name, run in runs.items():
        conn = await connect(run.dsn)
        try:
            report = await verify(conn)
            assert report.ok, (name, report.problems)
            states[name] = await snapshot(conn)
        finally:
            await conn.close()
    return states


async def published_once(bootstrap: str, topics: dict[str, str], expected: int) -> dict[str, Counter]:
    """Per name, the envelope ids on its ledger.entries topic (read_committed), each asserted to be there
    once and `expected` in all."""
    ids = {}
    for name, topic in topics.items():
        published = await read_topic(bootstrap, topic)
        ids[name] = Counter(orjson.loads(r.value)["id"] for r in published)
        assert len(published) == expected, (name, len(published), expected)
        assert max(ids[name].values()) == 1, f"{name} twice: {[i for i, n in ids[name].items() if n > 1][:5]}"
    return ids


def diff_summary(a: Iterable, b: Iterable, limit: int = 5) -> str:
    def hashable(row):
        return tuple(tuple(x) if isinstance(x, list) else x for x in row) if isinstance(row, (tuple, list)) else row

    sa, sb = Counter(map(hashable, a)), Counter(map(hashable, b))
    only_a, only_b = list((sa - sb).elements()), list((sb - sa).elements())
    return (f"{len(only_a)} only in the first, {len(only_b)} only in the second;\n"
            f"  first: {only_a[:limit]}\n  second: {only_b[:limit]}")


async def connect(dsn: str) -> asyncpg.Connection:
    return await asyncpg.connect(dsn)


async def until(predicate, timeout_s: float, interval_s: float = 0.05, what: str = "condition"):
    """Poll an async predicate until it returns something truthy; returns it."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(interval_s)
