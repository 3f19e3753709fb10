"""Helpers the demo and benchmarks share: the local stack, a fresh service database and topic set,
producing messages, running service processes (`python -m ledger|allocation ...`), and waiting until a
consumer group has consumed everything."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from careruntime.codec import KAFKA_HEADERS
from careruntime.migrate import migrate
from careruntime.stackinfo import StackInfo
from careruntime.topics import ensure_topics, load_topic_specs

from .messages import Message

REPO = Path(__file__).resolve().parents[3]
STACK = REPO / "deploy" / "local" / "stack.sh"


def stack_running(env: dict | None = None) -> bool:
    return subprocess.run([str(STACK), "status"], env=env, capture_output=True).returncode == 0


def stack_up(env: dict | None = None) -> None:
    subprocess.run([str(STACK), "up"], env=env, check=True, stdout=subprocess.DEVNULL)


def stack_down(env: dict | None = None) -> None:
    subprocess.run([str(STACK), "down"], env=env, check=True, stdout=subprocess.DEVNULL)


def ensure_stack() -> bool:
    """Start the local stack unless it runs; True when this call started it (the caller stops it then)."""
    if stack_running():
        return False
    print("starting the local stack (Kafka 4.1 KRaft + PostgreSQL) ...", flush=True)
    stack_up()
    return True


def release_stack(started: bool) -> None:
    """Stop the local stack if `ensure_stack` started it."""
    if started:
        stack_down()
        print("local stack stopped")


def quiet_logging() -> None:
    """Warnings only (stdlib logging and structlog, which services' code run in-process uses); aiokafka's
    leader-election chatter about fresh topics not even that."""
    import logging

    import structlog
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


async def fresh_database(info: StackInfo, name: str, service: str = "ledger") -> str:
    """Drop and recreate database `name` with the migrations of `service` applied; its DSN."""
    admin = await asyncpg.connect(info.dsn("postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    dsn = info.dsn(name)
    await asyncio.to_thread(migrate, dsn, str(REPO / "services" / service / "migrations"))
    return dsn


async def fresh_topics(info: StackInfo, prefix: str) -> dict[str, str]:
    specs = load_topic_specs(REPO / "deploy" / "topics.yaml", prefix=prefix)
    await ensure_topics(info.bootstrap, specs)
    return {spec.name[len(prefix):]: spec.name for spec in specs}


async def produce(bootstrap: str, messages: Sequence[Message], topics: dict[str, str]) -> float:
    """Send all messages (idempotent producer, acks=all); returns the seconds it took."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                                linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    started = time.perf_counter()
    try:
        futures = []
        for m in messages:
            futures.append(await producer.send(topics[m.topic], m.value, key=m.key, headers=KAFKA_HEADERS))
            if len(futures) >= 20_000:
                await asyncio.gather(*futures)
                futures.clear()
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def end_offsets(bootstrap: str, topics: Sequence[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        if not tps:
            await consumer._client.force_metadata_update()
            tps = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        return await consumer.end_offsets(tps)
    finally:
        await consumer.stop()


async def record_ends(bootstrap: str, topics: Sequence[str], window: int = 64) -> dict[TopicPartition, int]:
    """Per partition, the offset after its last committed record: what a consumer's stored offset reaches
    when it has read everything. Unlike the end offset it leaves out the commit markers a transactional
    producer (an outbox relay) writes after its records, which a consumer never stores an offset past."""
    ends = await end_offsets(bootstrap, topics)
    out: dict[TopicPartition, int] = {}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    try:
        for tp, end in ends.items():
            start, last = end, None
            while last is None and start > 0:
                start = max(0, start - window)
                consumer.assign([tp])
                consumer.seek(tp, start)
                while await consumer.position(tp) < end:
                    for records in (await consumer.getmany(tp, timeout_ms=1000)).values():
                        last = max([last or 0, *(r.offset + 1 for r in records)])
                window *= 4
            out[tp] = last or 0
    finally:
        await consumer.stop()
    return out


async def read_records(bootstrap: str, topic: str) -> list[tuple[bytes, bytes]]:
    """(key, value) of every committed record of `topic` up to its end now, partition by partition."""
    ends = {tp: end for tp, end in (await record_ends(bootstrap, [topic])).items() if end > 0}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed",
                                enable_auto_commit=False)
    await consumer.start()
    records: list[tuple[bytes, bytes]] = []
    try:
        if ends:
            consumer.assign(list(ends))
            await consumer.seek_to_beginning(*ends)
        while [tp for tp in ends if await consumer.position(tp) < ends[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500, max_records=10_000)).values():
                records += [(r.key, r.value) for r in batch if r.offset < ends[TopicPartition(r.topic, r.partition)]]
    finally:
        await consumer.stop()
    return records


async def unpublished(conn) -> int:
    """Rows waiting in the outbox, plus, in a ledger database, committed entries its journal relay has not
    published yet (the journal is the outbox of ledger.entries: ledger.adapters.entries_relay)."""
    waiting = await conn.fetchval("SELECT count(*) FROM outbox")
    if await conn.fetchval("SELECT to_regclass('entries_unrelayed') IS NOT NULL"):
        waiting += await conn.fetchval("SELECT coalesce(sum(entries), 0)::bigint FROM entries_unrelayed")
    return waiting


async def wait_consumed(dsn: str, group: str, targets: dict[TopicPartition, int], timeout_s: float,
                        outbox_empty: bool = True) -> float:
    """Wait until the group's offsets stored in PostgreSQL reach `targets` (and the outbox drained)."""
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        while True:
            rows = await conn.fetch("SELECT topic, partition, next_offset FROM consumer_offsets WHERE group_id = $1", group)
            stored = {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}
            done = all(stored.get(tp, 0) >= end for tp, end in targets.items())
            if done and outbox_empty:
                done = await unpublished(conn) == 0
            if done:
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout_s:
                behind = {f"{tp.topic}:{tp.partition}": (stored.get(tp, 0), end) for tp, end in targets.items()
                          if stored.get(tp, 0) < end}
                raise TimeoutError(f"not consumed after {timeout_s}s: {behind}")
            await asyncio.sleep(0.25)
    finally:
        await conn.close()


class ServiceProcess:
    """`python -m <service> <command>` (e.g. `allocation worker`) as a child process with its own settings."""

    service = "ledger"

    def __init__(self, command: str, env: dict[str, str], log_path: Path, service: str | None = None) -> None:
        self.command, self.env, self.log_path = command, env, log_path
        self.service = service or self.service
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", self.service, self.command],
                                         env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 20) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode


class LedgerProcess(ServiceProcess):
    """`python -m ledger worker|relay` as a child process with its own settings."""

    service = "ledger"


def ledger_env(info: StackInfo, dsn: str, topics: dict[str, str], group: str, health_port: int, **extra) -> dict[str, str]:
    import json
    env = {
        "LEDGER_KAFKA_BOOTSTRAP": info.bootstrap, "LEDGER_DATABASE_URL": dsn, "LEDGER_GROUP_ID": group,
        "LEDGER_BUDGET_TOPICS": json.dumps([topics["allocation.events.v1"]]),
        "LEDGER_OTHER_TOPICS": json.dumps([topics["payments.events.v1"]]),
        "LEDGER_ENTRIES_TOPIC": topics["ledger.entries.v1"], "LEDGER_HEALTH_PORT": str(health_port),
        "LEDGER_LOG_LEVEL": "WARNING",
    }
    env.update({f"LEDGER_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def allocation_env(info: StackInfo, dsn: str, topics: dict[str, str], group: str, health_port: int,
                   **extra) -> dict[str, str]:
    """Settings of `python -m allocation worker|relay` (the relay serves health on health_port + 1)."""
    env = {
        "ALLOCATION_KAFKA_BOOTSTRAP": info.bootstrap, "ALLOCATION_DATABASE_URL": dsn, "ALLOCATION_GROUP_ID": group,
        "ALLOCATION_COMMANDS_TOPIC": topics["allocation.commands.v1"],
        "ALLOCATION_EVENTS_TOPIC": topics["allocation.events.v1"], "ALLOCATION_HEALTH_PORT": str(health_port),
        "ALLOCATION_LOG_LEVEL": "WARNING",
    }
    env.update({f"ALLOCATION_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def free_port_pair() -> int:
    """A port p with p and p + 1 both free (a worker serves health on p, its relay on p + 1), chosen below the
    kernel's ephemeral range: a port from that range can be taken by any outgoing connection (to Kafka, to
    PostgreSQL) between this check and the process's own bind, which a test saw once ('address already in
    use' from a ledger worker)."""
    import random
    import socket
    ceiling = _ephemeral_floor() - 1
    for _ in range(200):
        port = random.randrange(20_000, ceiling)
        try:
            for p in (port, port + 1):
                with socket.socket() as s:
                    s.bind(("0.0.0.0", p))
        except OSError:
            continue
        return port
    raise RuntimeError("no two adjacent free ports")


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default
