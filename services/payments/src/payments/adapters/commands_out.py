"""Sending payments commands to Kafka (for the council CLI) and waiting for their outcomes.

The CLI never writes the service's state itself: it sends commands on payments.commands.v1, like a
portal would, and reads what the worker decided from processed_messages (the service's own record).
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaProducer
from careruntime.codec import KAFKA_HEADERS, encode
from careruntime.kafka_security import client_options
from careschemas.common import Command
from careschemas.registry import make_envelope
from careschemas.topics import message_key

SOURCE = "urn:careledger:payments-cli"


class NotDecided(TimeoutError):
    """The worker has not decided every command sent within the time given (it may still)."""


def envelope_bytes(command: Command, command_id: str, council: str, correlation_id: str | None = None,
                   at: datetime | None = None) -> tuple[bytes, bytes]:
    """(key, value) of a command as the CLI sends it."""
    key = message_key(command)
    env = make_envelope(command, id=command_id, source=SOURCE, subject=key, council_id=council,
                        correlation_id=correlation_id or command_id, time=at or datetime.now(UTC))
    return key.encode(), encode(env)


async def send(bootstrap: str, topic: str, messages: Iterable[tuple[bytes, bytes]], progress=None) -> int:
    """Send with an idempotent producer (acks=all); `progress` (a tqdm bar) is advanced per message."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5,
                                **client_options())  # TLS/SASL from the environment, like every client
    await producer.start()
    sent = 0
    try:
        futures = []
        for key, value in messages:
            futures.append(await producer.send(topic, value, key=key, headers=KAFKA_HEADERS))
            sent += 1
            if progress is not None:
                progress.update(1)
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent


async def outcomes(dsn: str, command_ids: Sequence[str], timeout_s: float = 60.0, progress=None) -> dict[str, tuple]:
    """{command id: (outcome, reason_code)} once the worker has decided every one (or NotDecided)."""
    conn = await asyncpg.connect(dsn)
    found: dict[str, tuple] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < len(command_ids):
            rows = await conn.fetch(
                "SELECT message_id, outcome, reason_code FROM processed_messages WHERE message_id = ANY($1) "
                "AND NOT conflict", [c for c in command_ids if c not in found])
            for r in rows:
                found[r["message_id"]] = (r["outcome"], r["reason_code"])
            if progress is not None:
                progress.update(len(rows))
            if len(found) < len(command_ids):
                if time.monotonic() > deadline:
                    raise NotDecided(f"{len(command_ids) - len(found)} commands not decided after {timeout_s}s "
                                       "(is `python -m payments worker` running?)")
                await asyncio.sleep(0.2)
    finally:
        await conn.close()
    return found
