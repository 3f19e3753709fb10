"""Dead-letter rows keep the original bytes and say why and where from."""
from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from careruntime.dlq import dlq_row, dlq_topic


def record(**kw):
    base = dict(topic="allocation.events.v1", partition=2, offset=41, key=b"PB-1", value=b"{oops", headers=())
    return SimpleNamespace(**{**base, **kw})


def test_dlq_row_keeps_key_and_value_and_names_the_source():
    at = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
    row = dlq_row("allocation.events.v1", record(), "MALFORMED_JSON", "not valid JSON", failed_at=at)
    assert row.topic == "allocation.events.v1.dlq" == dlq_topic("allocation.events.v1")
    assert (row.key, row.value) == (b"PB-1", b"{oops")
    assert row.headers == {
        "dlq.reason": "MALFORMED_JSON",
        "dlq.detail": "not valid JSON",
        "dlq.source.topic": "allocation.events.v1",
        "dlq.source.partition": "2",
        "dlq.source.offset": "41",
        "dlq.failed_at": "2025-04-01T12:00:00+00:00",
    }


def test_failed_at_defaults_to_now_in_utc():
    row = dlq_row("t", record(), "UNKNOWN_TYPE", "x")
    stamp = datetime.fromisoformat(row.headers["dlq.failed_at"])
    assert stamp.tzinfo is not None and abs((datetime.now(UTC) - stamp).total_seconds()) < 60


def test_null_key_and_tombstone_are_kept_as_null():
    row = dlq_row("t", record(key=None, value=None), "MALFORMED_JSON", "empty value")
    assert (row.key, row.value) == (None, None)


def test_content_type_header_of_the_source_is_carried_over():
    rec = record(headers=(("content-type", b"application/cloudevents+json; charset=UTF-8"), ("x", b"\xff")))
    row = dlq_row("t", rec, "INVALID_PAYLOAD", "data.x: bad")
    assert row.headers["content-type"] == "application/cloudevents+json; charset=UTF-8"
    assert "x" not in row.headers


def test_detail_is_bounded_and_storable_as_jsonb():
    row = dlq_row("t", record(), "INVALID_PAYLOAD", "a\x00b" + "z" * 5000)
    assert "\x00" not in row.headers["dlq.detail"]
    assert len(row.headers["dlq.detail"]) <= 1001


def test_group_header_when_the_consumer_group_is_known():
    assert dlq_row("t", record(), "UNKNOWN_TYPE", "x", group_id="ledger").headers["dlq.group"] == "ledger"
    assert "dlq.group" not in dlq_row("t", record(), "UNKNOWN_TYPE", "x").headers
