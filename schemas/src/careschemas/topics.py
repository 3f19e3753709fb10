"""Kafka topics, which types travel on which topic, message keys, and the dead-letter convention.

Topics are `<service>.<kind>.v<N>`. The message key is the aggregate whose order matters: the budget
for anything that names a budget, else the provider, else the payment run, else (ledger) the shard, else
the payload's own id (its first field). The topics the ledger reads share one partition count, so that
one key (a budget) lands on the same partition number in each of them.
"""
from __future__ import annotations

from pydantic import BaseModel

from .registry import MODELS, family, kind

ALLOCATION_COMMANDS = "allocation.commands.v1"
ALLOCATION_EVENTS = "allocation.events.v1"
PAYMENTS_COMMANDS = "payments.commands.v1"
PAYMENTS_EVENTS = "payments.events.v1"
LEDGER_ENTRIES = "ledger.entries.v1"

TOPICS: tuple[str, ...] = (ALLOCATION_COMMANDS, ALLOCATION_EVENTS, PAYMENTS_COMMANDS, PAYMENTS_EVENTS, LEDGER_ENTRIES)

DEFAULT_PARTITIONS = 6
"""Partitions of every domain topic, as declared in deploy/topics.yaml (a test compares them)."""
DLQ_PARTITIONS = 1
"""Partitions of every dead-letter topic: dead letters are ordered by arrival, not by key."""

# Dead-letter topics: undecodable or invalid messages, key and value unchanged (unless together beyond
# DLQ_MAX_KEPT_BYTES: then cut, and `dlq.truncated` gives the sizes and SHA-256 of the originals), with
# these headers (written by careruntime.dlq; the producer's content-type header is kept as it came,
# bounded and without NUL).
DLQ_SUFFIX = ".dlq"
DLQ_REASON_HEADER = "dlq.reason"
DLQ_DETAIL_HEADER = "dlq.detail"
DLQ_TOPIC_HEADER = "dlq.source.topic"
DLQ_PARTITION_HEADER = "dlq.source.partition"
DLQ_OFFSET_HEADER = "dlq.source.offset"
DLQ_FAILED_AT_HEADER = "dlq.failed_at"
DLQ_GROUP_HEADER = "dlq.group"
DLQ_TRUNCATED_HEADER = "dlq.truncated"
DLQ_MAX_KEPT_BYTES = 512 * 1024
"""Key and value bytes a dead letter keeps whole, together (careruntime.dlq says why)."""

# Which topic a type travels on, by (family, kind).
_ROUTES: dict[tuple[str, str], str] = {
    ("allocation", "command"): ALLOCATION_COMMANDS,
    ("allocation", "event"): ALLOCATION_EVENTS,
    ("payments", "command"): PAYMENTS_COMMANDS,
    ("payments", "event"): PAYMENTS_EVENTS,
    ("invoices", "command"): PAYMENTS_COMMANDS,
    ("invoices", "event"): PAYMENTS_EVENTS,
    ("ledger", "event"): LEDGER_ENTRIES,
}

KEY_PREFERENCE: tuple[str, ...] = ("budget_id", "provider_id", "run_id", "shard")


def dlq(topic: str) -> str:
    """The dead-letter topic of a topic."""
    return topic + DLQ_SUFFIX


def topic_for(type_name: str) -> str:
    """The topic a type travels on. Raises KeyError for an unknown type."""
    return _ROUTES[(family(type_name), kind(type_name))]


TOPIC_TYPES: dict[str, tuple[str, ...]] = {
    topic: tuple(t for t in MODELS if topic_for(t) == topic) for topic in TOPICS
}


def key_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields the message key is taken from, in order: the first one that is set wins."""
    fields = model.model_fields
    chosen: list[str] = []
    for name in KEY_PREFERENCE:
        if name in fields:
            chosen.append(name)
            if fields[name].is_required():
                return tuple(chosen)
    chosen.append(next(iter(fields)))
    return tuple(chosen)


def message_key(payload: BaseModel) -> str:
    """The Kafka message key of a payload (see the module docstring)."""
    for name in key_fields(type(payload)):
        value = getattr(payload, name)
        if value is not None:
            return str(value)
    raise ValueError(f"{type(payload).__qualname__} has no key value")  # unreachable: first fields are required
