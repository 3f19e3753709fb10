"""The transactional outbox, write side: rows a service commits with its state, published later.

Owns `OutboxRow` and `append`. A handler never talks to Kafka: it appends rows on the connection of
its batch transaction, so its messages exist exactly when its state change does. careruntime.relay
publishes and deletes them. Rows are copied in list order, so ids (and therefore publication order)
follow the order the handler produced them in.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg
import orjson
from careschemas.envelope import Envelope

from .codec import OUTBOX_HEADERS, encode

_COLUMNS = ("topic", "key", "value", "headers")


@dataclass(slots=True, frozen=True)
class OutboxRow:
    """One Kafka record to be: topic, key and value bytes, and string headers."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def for_event(cls, topic: str, envelope: Envelope, key: str | bytes | None = None) -> OutboxRow:
        """An encoded event keyed by `key`, by default the envelope's subject (the aggregate id)."""
        if key is None:
            key = envelope.subject
        if isinstance(key, str):
            key = key.encode()
        return cls(topic, key, encode(envelope), OUTBOX_HEADERS)


async def append(conn: asyncpg.Connection, rows: Sequence[OutboxRow]) -> int:
    """Add `rows` to the outbox inside the caller's transaction (one COPY); returns how many."""
    if not rows:
        return 0
    # COPY's binary format carries jsonb as text; orjson makes that text without a Python json pass.
    records = [(r.topic, r.key, r.value, orjson.dumps(r.headers).decode()) for r in rows]
    await conn.copy_records_to_table("outbox", records=records, columns=_COLUMNS)
    return len(records)


__all__ = ["OutboxRow", "append"]
