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


def test_a_content_type_header_with_a_nul_is_storable_as_jsonb():
    """The outbox keeps headers as jsonb, which refuses NUL: copied as it came, the header failed the
    batch's write on every retry (tests/integration/test_allocation_bad_transport.py)."""
    rec = record(headers=(("content-type", b"application/json\x00" + b"x" * 5000),))
    kept = dlq_row("t", rec, "MALFORMED_JSON", "x").headers["content-type"]
    assert "\x00" not in kept and kept.startswith("application/json") and len(kept) <= 2 * 256


def test_key_and_value_too_large_for_kafka_are_cut_and_say_so():
    """A record read may be larger than the relay can send (a gzip batch decompresses to more than 1 MiB,
    and a dead letter adds headers): cut to MAX_KEPT_BYTES, with the original sizes and digests."""
    import hashlib

    from careruntime.dlq import MAX_KEPT_BYTES

    key, value = b"k" * 100_000, b"{" + b" " * 8_000_000
    row = dlq_row("t", record(key=key, value=value), "INVALID_ENVELOPE", "x")
    assert len(row.key) + len(row.value) <= MAX_KEPT_BYTES
    assert key.startswith(row.key) and value.startswith(row.value)
    note = row.headers["dlq.truncated"]
    assert f"key {len(key)} bytes, sha256 {hashlib.sha256(key).hexdigest()}" in note
    assert f"value {len(value)} bytes, sha256 {hashlib.sha256(value).hexdigest()}" in note


def test_key_and_value_within_the_bound_are_kept_whole():
    from careruntime.dlq import MAX_KEPT_BYTES

    value = b"v" * (MAX_KEPT_BYTES - 4)
    row = dlq_row("t", record(key=b"PB-1", value=value), "INVALID_ENVELOPE", "x")
    assert (row.key, row.value) == (b"PB-1", value) and "dlq.truncated" not in row.headers
    cut = dlq_row("t", record(key=b"PB-1", value=value + b"v"), "INVALID_ENVELOPE", "x")
    assert cut.key == b"PB-1" and len(cut.value) == MAX_KEPT_BYTES - 4 and "dlq.truncated" in cut.headers
