"""What a relay says when Kafka refuses a pass as too large: which row, so an operator can find it."""
from __future__ import annotations

from careruntime.relay import largest_row


def test_the_largest_row_of_a_pass_is_named_by_id_topic_and_size():
    rows = [{"id": 7, "topic": "a.events.v1", "key": b"PB-1", "value": b"x" * 10},
            {"id": 8, "topic": "b.events.v1", "key": None, "value": b"y" * 2_000_000},
            {"id": 9, "topic": "a.events.v1", "key": b"PB-2", "value": None}]
    assert largest_row(rows) == {"row_id": 8, "topic": "b.events.v1", "bytes": 2_000_000}


def test_a_source_without_row_ids_is_still_described():
    assert largest_row([{"topic": "t", "key": b"k", "value": b"v"}]) == {"row_id": None, "topic": "t", "bytes": 2}
