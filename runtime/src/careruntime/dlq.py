"""Dead-letter rows: where a record that cannot be processed goes, so that nothing is dropped silently.

Owns the DLQ naming (`<topic>.dlq`) and headers. A dead letter keeps the original key and value bytes
untouched (so it can be inspected and replayed as it was) and says why and where from in headers:
`dlq.reason` (a reason code such as codec.INVALID_PAYLOAD), `dlq.detail`, `dlq.source.topic`,
`dlq.source.partition`, `dlq.source.offset`, `dlq.failed_at`, and `dlq.group` (the consumer group that
gave up) when known. Dead letters travel through the outbox,
in the same transaction that moves the consumer's offset past the bad record.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .codec import CONTENT_TYPE_HEADER
from .outbox import OutboxRow

DLQ_SUFFIX = ".dlq"
_DETAIL_MAX = 1000


def dlq_topic(source_topic: str) -> str:
    return source_topic + DLQ_SUFFIX


def dlq_row(
    source_topic: str, record: Any, code: str, detail: str, failed_at: datetime | None = None,
    group_id: str | None = None,
) -> OutboxRow:
    """The dead letter of `record` (an aiokafka ConsumerRecord or alike) for reason `code`."""
    headers = {
        "dlq.reason": code,
        "dlq.detail": detail[:_DETAIL_MAX].replace("\x00", "\\0"),  # jsonb refuses NUL
        "dlq.source.topic": source_topic,
        "dlq.source.partition": str(record.partition),
        "dlq.source.offset": str(record.offset),
        "dlq.failed_at": (failed_at or datetime.now(UTC)).isoformat(),
    }
    if group_id is not None:
        headers["dlq.group"] = group_id
    # Keep the producer's content-type so a replay tool can hand the value back as it came.
    for name, value in getattr(record, "headers", None) or ():
        if name == CONTENT_TYPE_HEADER and isinstance(value, bytes | bytearray):
            headers[CONTENT_TYPE_HEADER] = bytes(value).decode("utf-8", "replace")
    return OutboxRow(dlq_topic(source_topic), record.key, record.value, headers)


__all__ = ["DLQ_SUFFIX", "dlq_row", "dlq_topic"]
