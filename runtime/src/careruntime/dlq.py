"""Dead-letter rows: where a record that cannot be processed goes, so that nothing is dropped silently.

Owns the DLQ naming (`<topic>.dlq`) and headers. A dead letter keeps the original key and value bytes
untouched (so it can be inspected and replayed as it was) and says why and where from in headers:
`dlq.reason` (a reason code such as codec.INVALID_PAYLOAD), `dlq.detail`, `dlq.source.topic`,
`dlq.source.partition`, `dlq.source.offset`, `dlq.failed_at`, and `dlq.group` (the consumer group that
gave up) when known. Dead letters travel through the outbox,
in the same transaction that moves the consumer's offset past the bad record.

Two limits keep a dead letter one that can be stored and sent, whatever the bad record held: text
headers hold no NUL (the outbox keeps headers as jsonb, which refuses it) and are bounded, and key and
value together are kept whole only up to MAX_KEPT_BYTES. Beyond that they are cut and `dlq.truncated`
gives each one's original size and SHA-256. A dead letter either could not hold failed its batch's write,
or every relay pass, on every retry, stalling everything behind it.
"""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from careschemas.topics import (
    DLQ_DETAIL_HEADER, DLQ_FAILED_AT_HEADER, DLQ_GROUP_HEADER, DLQ_OFFSET_HEADER, DLQ_PARTITION_HEADER,
    DLQ_MAX_KEPT_BYTES, DLQ_REASON_HEADER, DLQ_SUFFIX, DLQ_TOPIC_HEADER, DLQ_TRUNCATED_HEADER,
)
from careschemas.topics import dlq as dlq_topic  # the naming is part of the wire contract

from .codec import CONTENT_TYPE_HEADER
from .outbox import OutboxRow

_DETAIL_MAX = 1000
_COPIED_HEADER_MAX = 256  # a header copied from the bad record (its content-type)
_KEY_KEPT = 1024  # of a key that must be cut; the value gets the rest

MAX_KEPT_BYTES = DLQ_MAX_KEPT_BYTES
"""Key and value bytes a dead letter keeps, together (a wire-contract constant). The relay's producer sends a record of at most
1 MiB (Kafka's default max.request.size, as the broker's message.max.bytes), with the headers; a record
read can be larger than that once decompressed (a gzip batch is limited by its compressed size), or so
close to it that the dead letter's headers take it over. No valid message of this system comes near
(the largest are a few KiB)."""


def _storable(text: str, limit: int) -> str:
    """`text` bounded and without NUL, which jsonb refuses."""
    return text[:limit].replace("\x00", "\\0")


def _kept(key: bytes | None, value: bytes | None) -> tuple[bytes | None, bytes | None, str | None]:
    """Key and value as a dead letter keeps them, and what `dlq.truncated` says (None when whole)."""
    if len(key or b"") + len(value or b"") <= MAX_KEPT_BYTES:
        return key, value, None
    kept_key = key[:_KEY_KEPT] if key is not None else None
    kept_value = value[:MAX_KEPT_BYTES - len(kept_key or b"")] if value is not None else None
    note = "; ".join(f"{name} {len(whole)} bytes, sha256 {hashlib.sha256(whole).hexdigest()}, first {len(part)} kept"
                     for name, whole, part in (("key", key, kept_key), ("value", value, kept_value))
                     if whole is not None and len(part) < len(whole))
    return kept_key, kept_value, note


def dlq_row(
    source_topic: str, record: Any, code: str, detail: str, failed_at: datetime | None = None,
    group_id: str | None = None,
) -> OutboxRow:
    """The dead letter of `record` (an aiokafka ConsumerRecord or alike) for reason `code`."""
    headers = {
        DLQ_REASON_HEADER: code,
        DLQ_DETAIL_HEADER: _storable(detail, _DETAIL_MAX),
        DLQ_TOPIC_HEADER: source_topic,
        DLQ_PARTITION_HEADER: str(record.partition),
        DLQ_OFFSET_HEADER: str(record.offset),
        DLQ_FAILED_AT_HEADER: (failed_at or datetime.now(UTC)).isoformat(),
    }
    if group_id is not None:
        headers[DLQ_GROUP_HEADER] = group_id
    # Keep the producer's content-type so a replay tool can hand the value back as it came.
    for name, value in getattr(record, "headers", None) or ():
        if name == CONTENT_TYPE_HEADER and isinstance(value, bytes | bytearray):
            headers[CONTENT_TYPE_HEADER] = _storable(bytes(value).decode("utf-8", "replace"), _COPIED_HEADER_MAX)
    key, value, truncated = _kept(record.key, record.value)
    if truncated:
        headers[DLQ_TRUNCATED_HEADER] = truncated
    return OutboxRow(dlq_topic(source_topic), key, value, headers)


__all__ = ["DLQ_SUFFIX", "dlq_row", "dlq_topic"]
