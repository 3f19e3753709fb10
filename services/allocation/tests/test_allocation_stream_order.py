"""The views' stream bookkeeping (service/stream_order.py), without I/O: what the agent does with a record
given the offsets it has projected of that partition."""
from __future__ import annotations

from allocation.service.stream_order import StreamOrder


def test_the_first_record_of_a_partition_is_first_whatever_its_offset():
    order = StreamOrder()
    assert order.place("p0", 41) == ("first", None)  # the agent compares it with the committed offset


def test_consecutive_records_are_next_and_a_record_projected_before_is_read():
    order = StreamOrder()
    order.projected("p0", 5)
    assert order.place("p0", 6) == ("next", None)
    order.projected("p0", 6)
    assert order.place("p0", 6) == ("read", None)
    assert order.place("p0", 2) == ("read", None)


def test_a_jump_names_the_first_offset_missed():
    order = StreamOrder()
    order.projected("p0", 26)
    assert order.place("p0", 28) == ("jump", 27)


def test_partitions_are_kept_apart_and_a_rebalance_forgets_them_all():
    order = StreamOrder()
    order.projected("p0", 10)
    order.projected("p1", 3)
    assert order.place("p1", 4) == ("next", None)
    assert order.place("p0", 4) == ("read", None)
    order.forget()
    assert order.place("p0", 4) == ("first", None)
    assert order.place("p1", 90) == ("first", None)
