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

from careschemas.topics import (
    DLQ_DETAIL_HEADER, DLQ_FAILED_AT_HEADER, DLQ_GROUP_HEADER, DLQ_OFFSET_HEADER, DLQ_PARTITION_HEADER,
    DLQ_REASON_HEADER, DLQ_SUFFIX, DLQ_TOPIC_HEADER,
)
from careschemas.topics import dlq as dlq_topic  # the naming is part of the wire contract

from .codec import CONTENT_TYPE_HEADER
from .outbox import OutboxRow

_DETAIL_MAX = 1000


def dlq_row(
    source_topic: str, record: Any, code: str, detail: str, failed_at: datetime | None = None,
    group_id: str | None = None,
) -> OutboxRow:
    """The dead letter of `record` (an aiokafka ConsumerRecord or alike) for reason `code`."""
    headers = {
        DLQ_REASON_HEADER: code,
        DLQ_DETAIL_HEADER: detail[:_DETAIL_MAX].replace("\x00", "\\0"),  # jsonb refuses NUL
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
            headers[CONTENT_TYPE_HEADER] = bytes(value).decode("utf-8", "replace")
    return OutboxRow(dlq_topic(source_topic), record.key, record.value, headers)


__all__ = ["DLQ_SUFFIX", "dlq_row", "dlq_topic"]
